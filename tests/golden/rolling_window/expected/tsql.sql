WITH periods AS (
  SELECT
    CAST('2024-01-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-01-08' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-01-15' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-01-22' AS DATE) AS period
), deals_by_closed_at__last_90_days AS (
  SELECT
    periods.period AS period,
    COUNT(*) AS won_deals_90d
  FROM periods
  INNER JOIN deals AS deals
    ON deals.closed_at >= CAST(CAST(DATEADD(DAY, -90, CAST(DATEADD(DAY, 1 * 7, periods.period) AS DATE)) AS DATE) AS DATETIME2)
    AND deals.closed_at < CAST(CAST(DATEADD(DAY, 1 * 7, periods.period) AS DATE) AS DATETIME2)
  WHERE
    deals.stage = 'won'
    AND deals.closed_at < CAST('2024-01-29 00:00:00' AS DATETIME2)
    AND deals.closed_at >= CAST('2023-10-10 00:00:00' AS DATETIME2)
  GROUP BY
    periods.period
), deals_by_closed_at__last_3_months AS (
  SELECT
    periods.period AS period,
    SUM(deals.amount) AS revenue_3m
  FROM periods
  INNER JOIN deals AS deals
    ON deals.closed_at >= CAST(CAST(DATEADD(MONTH, -3, CAST(DATEADD(DAY, 1 * 7, periods.period) AS DATE)) AS DATE) AS DATETIME2)
    AND deals.closed_at < CAST(CAST(DATEADD(DAY, 1 * 7, periods.period) AS DATE) AS DATETIME2)
  WHERE
    deals.stage = 'won'
    AND deals.closed_at < CAST('2024-01-29 00:00:00' AS DATETIME2)
    AND deals.closed_at >= CAST('2023-10-08 00:00:00' AS DATETIME2)
  GROUP BY
    periods.period
)
SELECT
  periods.period AS period,
  COALESCE(deals_by_closed_at__last_90_days.won_deals_90d, 0) AS won_deals_90d,
  COALESCE(deals_by_closed_at__last_3_months.revenue_3m, 0) AS revenue_3m
FROM periods
LEFT JOIN deals_by_closed_at__last_90_days
  ON deals_by_closed_at__last_90_days.period = periods.period
LEFT JOIN deals_by_closed_at__last_3_months
  ON deals_by_closed_at__last_3_months.period = periods.period
ORDER BY
  CASE WHEN periods.period IS NULL THEN 1 ELSE 0 END, periods.period
