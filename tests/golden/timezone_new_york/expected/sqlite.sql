WITH leads_by_created_at AS (
  SELECT
    DATE(
      CASE
        WHEN leads.created_at < '2023-03-12 07:00:00'
        THEN DATETIME(leads.created_at, (
          -18000
        ) || ' seconds')
        WHEN leads.created_at < '2023-11-05 06:00:00'
        THEN DATETIME(leads.created_at, (
          -14400
        ) || ' seconds')
        WHEN leads.created_at < '2024-03-10 07:00:00'
        THEN DATETIME(leads.created_at, (
          -18000
        ) || ' seconds')
        WHEN leads.created_at < '2024-11-03 06:00:00'
        THEN DATETIME(leads.created_at, (
          -14400
        ) || ' seconds')
        WHEN leads.created_at < '2025-03-09 07:00:00'
        THEN DATETIME(leads.created_at, (
          -18000
        ) || ' seconds')
        ELSE DATETIME(leads.created_at, (
          -14400
        ) || ' seconds')
      END
    ) AS period,
    COUNT(*) AS leads_created
  FROM leads AS leads
  WHERE
    leads.created_at >= '2024-03-08 05:00:00'
    AND leads.created_at < '2024-03-12 04:00:00'
  GROUP BY
    DATE(
      CASE
        WHEN leads.created_at < '2023-03-12 07:00:00'
        THEN DATETIME(leads.created_at, (
          -18000
        ) || ' seconds')
        WHEN leads.created_at < '2023-11-05 06:00:00'
        THEN DATETIME(leads.created_at, (
          -14400
        ) || ' seconds')
        WHEN leads.created_at < '2024-03-10 07:00:00'
        THEN DATETIME(leads.created_at, (
          -18000
        ) || ' seconds')
        WHEN leads.created_at < '2024-11-03 06:00:00'
        THEN DATETIME(leads.created_at, (
          -14400
        ) || ' seconds')
        WHEN leads.created_at < '2025-03-09 07:00:00'
        THEN DATETIME(leads.created_at, (
          -18000
        ) || ' seconds')
        ELSE DATETIME(leads.created_at, (
          -14400
        ) || ' seconds')
      END
    )
), periods AS (
  SELECT
    '2024-03-08' AS period
  UNION ALL
  SELECT
    '2024-03-09' AS period
  UNION ALL
  SELECT
    '2024-03-10' AS period
  UNION ALL
  SELECT
    '2024-03-11' AS period
)
SELECT
  periods.period AS period,
  COALESCE(leads_by_created_at.leads_created, 0) AS leads_created
FROM periods
LEFT JOIN leads_by_created_at
  ON leads_by_created_at.period = periods.period
ORDER BY
  periods.period NULLS LAST
