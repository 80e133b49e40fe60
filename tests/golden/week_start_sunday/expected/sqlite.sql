WITH leads_by_created_at AS (
  SELECT
    DATE(
      DATE(DATE(DATE(leads.created_at), (
        -6
      ) || ' days'), '-6 days', 'weekday 1'),
      6 || ' days'
    ) AS period,
    COUNT(*) AS leads_created
  FROM leads AS leads
  WHERE
    leads.created_at >= '2024-03-06' AND leads.created_at < '2024-03-31'
  GROUP BY
    DATE(
      DATE(DATE(DATE(leads.created_at), (
        -6
      ) || ' days'), '-6 days', 'weekday 1'),
      6 || ' days'
    )
), periods AS (
  SELECT
    '2024-03-03' AS period
  UNION ALL
  SELECT
    '2024-03-10' AS period
  UNION ALL
  SELECT
    '2024-03-17' AS period
  UNION ALL
  SELECT
    '2024-03-24' AS period
)
SELECT
  periods.period AS period,
  COALESCE(leads_by_created_at.leads_created, 0) AS leads_created
FROM periods
LEFT JOIN leads_by_created_at
  ON leads_by_created_at.period = periods.period
ORDER BY
  periods.period NULLS LAST
