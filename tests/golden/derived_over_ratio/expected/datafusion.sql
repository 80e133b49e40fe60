WITH deals_by_closed_at AS (
  SELECT
    CAST(DATE_TRUNC('QUARTER', deals.closed_at) AS DATE) AS period,
    COUNT(CASE WHEN deals.stage = 'won' THEN 1 END) AS win_rate__numerator,
    COUNT(CASE WHEN deals.stage IN ('won', 'lost') THEN 1 END) AS win_rate__denominator
  FROM deals AS deals
  WHERE
    deals.closed_at >= CAST('2024-01-01 00:00:00' AS TIMESTAMP)
    AND deals.closed_at < CAST('2025-01-01 00:00:00' AS TIMESTAMP)
  GROUP BY
    CAST(DATE_TRUNC('QUARTER', deals.closed_at) AS DATE)
), periods AS (
  SELECT
    CAST('2024-01-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-04-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-07-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-10-01' AS DATE) AS period
)
SELECT
  periods.period AS period,
  CAST(COALESCE(deals_by_closed_at.win_rate__numerator, 0) * 100 AS DOUBLE PRECISION) / NULLIF(COALESCE(deals_by_closed_at.win_rate__denominator, 0), 0) AS win_rate,
  100 - (
    CAST(COALESCE(deals_by_closed_at.win_rate__numerator, 0) * 100 AS DOUBLE PRECISION) / NULLIF(COALESCE(deals_by_closed_at.win_rate__denominator, 0), 0)
  ) AS loss_rate
FROM periods
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
ORDER BY
  periods.period
