WITH leads_by_created_at AS (
  SELECT
    CAST(DATE_TRUNC(
      'WEEK',
      CAST(DATE_TRUNC('DAY', leads.created_at) AS DATE) + CAST(CONCAT(CAST((
        -6
      ) AS VARCHAR), ' days') AS INTERVAL)
    ) AS DATE) + CAST(CONCAT(CAST(6 AS VARCHAR), ' days') AS INTERVAL) AS period,
    COUNT(*) AS leads_created
  FROM leads AS leads
  WHERE
    leads.created_at >= CAST('2024-03-06 00:00:00' AS TIMESTAMP)
    AND leads.created_at < CAST('2024-03-31 00:00:00' AS TIMESTAMP)
  GROUP BY
    CAST(DATE_TRUNC(
      'WEEK',
      CAST(DATE_TRUNC('DAY', leads.created_at) AS DATE) + CAST(CONCAT(CAST((
        -6
      ) AS VARCHAR), ' days') AS INTERVAL)
    ) AS DATE) + CAST(CONCAT(CAST(6 AS VARCHAR), ' days') AS INTERVAL)
), periods AS (
  SELECT
    CAST('2024-03-03' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-03-10' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-03-17' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-03-24' AS DATE) AS period
)
SELECT
  periods.period AS period,
  COALESCE(leads_by_created_at.leads_created, 0) AS leads_created
FROM periods
LEFT JOIN leads_by_created_at
  ON leads_by_created_at.period = periods.period
ORDER BY
  periods.period
