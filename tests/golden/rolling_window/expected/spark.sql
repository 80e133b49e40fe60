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
    ON deals.closed_at >= CAST(CAST(DATE_ADD(CAST(DATE_ADD(periods.period, 1 * 7) AS DATE), -90) AS DATE) AS TIMESTAMP)
    AND deals.closed_at < CAST(CAST(DATE_ADD(periods.period, 1 * 7) AS DATE) AS TIMESTAMP)
  WHERE
    deals.stage = 'won'
    AND deals.closed_at < CAST('2024-01-29 00:00:00' AS TIMESTAMP)
    AND deals.closed_at >= CAST('2023-10-10 00:00:00' AS TIMESTAMP)
  GROUP BY
    periods.period
), deals_by_closed_at__last_3_months AS (
  SELECT
    periods.period AS period,
    SUM(deals.amount) AS revenue_3m
  FROM periods
  INNER JOIN deals AS deals
    ON deals.closed_at >= CAST(CAST(ADD_MONTHS(CAST(DATE_ADD(periods.period, 1 * 7) AS DATE), -3) AS DATE) AS TIMESTAMP)
    AND deals.closed_at < CAST(CAST(DATE_ADD(periods.period, 1 * 7) AS DATE) AS TIMESTAMP)
  WHERE
    deals.stage = 'won'
    AND deals.closed_at < CAST('2024-01-29 00:00:00' AS TIMESTAMP)
    AND deals.closed_at >= CAST('2023-10-08 00:00:00' AS TIMESTAMP)
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
  periods.period NULLS LAST
