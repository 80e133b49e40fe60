WITH leads_by_created_at AS (
  SELECT
    CAST(DATE_TRUNC('DAY', CONVERT_TIMEZONE('UTC', 'America/New_York', leads.created_at)) AS DATE) AS period,
    COUNT(*) AS leads_created
  FROM leads AS leads
  WHERE
    leads.created_at >= CAST('2024-03-08 05:00:00' AS TIMESTAMP)
    AND leads.created_at < CAST('2024-03-12 04:00:00' AS TIMESTAMP)
  GROUP BY
    CAST(DATE_TRUNC('DAY', CONVERT_TIMEZONE('UTC', 'America/New_York', leads.created_at)) AS DATE)
), periods AS (
  SELECT
    CAST('2024-03-08' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-03-09' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-03-10' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-03-11' AS DATE) AS period
)
SELECT
  periods.period AS period,
  COALESCE(leads_by_created_at.leads_created, 0) AS leads_created
FROM periods
LEFT JOIN leads_by_created_at
  ON leads_by_created_at.period = periods.period
ORDER BY
  periods.period
