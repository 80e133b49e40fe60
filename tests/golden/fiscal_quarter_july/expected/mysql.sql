WITH deals_by_closed_at AS (
  SELECT
    MAKEDATE(YEAR(deals.closed_at), 1) + INTERVAL (
      QUARTER(deals.closed_at) - 1
    ) QUARTER AS period,
    SUM(deals.amount) AS won_revenue
  FROM deals AS deals
  WHERE
    deals.closed_at >= CAST('2024-07-01 00:00:00' AS DATETIME)
    AND deals.closed_at < CAST('2025-07-01 00:00:00' AS DATETIME)
    AND deals.stage = 'won'
  GROUP BY
    MAKEDATE(YEAR(deals.closed_at), 1) + INTERVAL (
      QUARTER(deals.closed_at) - 1
    ) QUARTER
), periods AS (
  SELECT
    CAST('2024-07-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-10-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2025-01-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2025-04-01' AS DATE) AS period
)
SELECT
  periods.period AS period,
  CONCAT(
    'FY',
    CAST((
      EXTRACT(YEAR FROM periods.period) + CASE
        WHEN EXTRACT(MONTH FROM periods.period) IN (7, 8, 9, 10, 11, 12)
        THEN 1
        ELSE 0
      END
    ) AS CHAR),
    CASE
      WHEN EXTRACT(MONTH FROM periods.period) IN (7, 8, 9)
      THEN ' Q1'
      WHEN EXTRACT(MONTH FROM periods.period) IN (10, 11, 12)
      THEN ' Q2'
      WHEN EXTRACT(MONTH FROM periods.period) IN (1, 2, 3)
      THEN ' Q3'
      WHEN EXTRACT(MONTH FROM periods.period) IN (4, 5, 6)
      THEN ' Q4'
    END
  ) AS period_label,
  COALESCE(deals_by_closed_at.won_revenue, 0) AS won_revenue
FROM periods
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
ORDER BY
  CASE WHEN periods.period IS NULL THEN 1 ELSE 0 END, periods.period
