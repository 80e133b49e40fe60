WITH leads_by_created_at AS (
  SELECT
    DATE(
      CASE
        WHEN leads.created_at < CAST('2023-03-12 07:00:00' AS DATETIME)
        THEN DATE_ADD(leads.created_at, INTERVAL (
          -18000
        ) SECOND)
        WHEN leads.created_at < CAST('2023-11-05 06:00:00' AS DATETIME)
        THEN DATE_ADD(leads.created_at, INTERVAL (
          -14400
        ) SECOND)
        WHEN leads.created_at < CAST('2024-03-10 07:00:00' AS DATETIME)
        THEN DATE_ADD(leads.created_at, INTERVAL (
          -18000
        ) SECOND)
        WHEN leads.created_at < CAST('2024-11-03 06:00:00' AS DATETIME)
        THEN DATE_ADD(leads.created_at, INTERVAL (
          -14400
        ) SECOND)
        WHEN leads.created_at < CAST('2025-03-09 07:00:00' AS DATETIME)
        THEN DATE_ADD(leads.created_at, INTERVAL (
          -18000
        ) SECOND)
        ELSE DATE_ADD(leads.created_at, INTERVAL (
          -14400
        ) SECOND)
      END
    ) AS period,
    COUNT(*) AS leads_created
  FROM leads AS leads
  WHERE
    leads.created_at >= CAST('2024-03-08 05:00:00' AS DATETIME)
    AND leads.created_at < CAST('2024-03-12 04:00:00' AS DATETIME)
  GROUP BY
    DATE(
      CASE
        WHEN leads.created_at < CAST('2023-03-12 07:00:00' AS DATETIME)
        THEN DATE_ADD(leads.created_at, INTERVAL (
          -18000
        ) SECOND)
        WHEN leads.created_at < CAST('2023-11-05 06:00:00' AS DATETIME)
        THEN DATE_ADD(leads.created_at, INTERVAL (
          -14400
        ) SECOND)
        WHEN leads.created_at < CAST('2024-03-10 07:00:00' AS DATETIME)
        THEN DATE_ADD(leads.created_at, INTERVAL (
          -18000
        ) SECOND)
        WHEN leads.created_at < CAST('2024-11-03 06:00:00' AS DATETIME)
        THEN DATE_ADD(leads.created_at, INTERVAL (
          -14400
        ) SECOND)
        WHEN leads.created_at < CAST('2025-03-09 07:00:00' AS DATETIME)
        THEN DATE_ADD(leads.created_at, INTERVAL (
          -18000
        ) SECOND)
        ELSE DATE_ADD(leads.created_at, INTERVAL (
          -14400
        ) SECOND)
      END
    )
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
  CASE WHEN periods.period IS NULL THEN 1 ELSE 0 END, periods.period
