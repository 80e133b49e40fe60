WITH deals_by_closed_at AS (
  SELECT
    CAST(TRUNC(deals.closed_at, 'MONTH') AS DATE) AS period,
    SUM(deals.amount) AS won_revenue
  FROM deals AS deals
  WHERE
    deals.closed_at >= CAST('2024-01-01 00:00:00' AS TIMESTAMP)
    AND deals.closed_at < CAST('2024-04-01 00:00:00' AS TIMESTAMP)
    AND deals.stage = 'won'
  GROUP BY
    CAST(TRUNC(deals.closed_at, 'MONTH') AS DATE)
), deals_by_closed_at_baseline AS (
  SELECT
    SUM(deals.amount) AS won_revenue__baseline
  FROM deals AS deals
  WHERE
    deals.closed_at >= CAST('2023-01-01 00:00:00' AS TIMESTAMP)
    AND deals.closed_at < CAST('2024-01-01 00:00:00' AS TIMESTAMP)
    AND deals.stage = 'won'
), periods AS (
  SELECT
    CAST('2024-01-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-02-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-03-01' AS DATE) AS period
)
SELECT
  periods.period AS period,
  COALESCE(deals_by_closed_at.won_revenue, 0) AS won_revenue,
  COALESCE(deals_by_closed_at_baseline.won_revenue__baseline, 0) / 12 AS won_revenue__compare,
  (
    COALESCE(deals_by_closed_at.won_revenue, 0)
  ) - (
    COALESCE(deals_by_closed_at_baseline.won_revenue__baseline, 0) / 12
  ) AS won_revenue__change,
  100 * (
    (
      COALESCE(deals_by_closed_at.won_revenue, 0)
    ) - (
      COALESCE(deals_by_closed_at_baseline.won_revenue__baseline, 0) / 12
    )
  ) / NULLIF(ABS(COALESCE(deals_by_closed_at_baseline.won_revenue__baseline, 0) / 12), 0) AS won_revenue__change_pct
FROM periods
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
CROSS JOIN deals_by_closed_at_baseline
ORDER BY
  periods.period NULLS LAST
