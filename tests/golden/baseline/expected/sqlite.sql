WITH deals_by_closed_at AS (
  SELECT
    DATE(deals.closed_at, 'start of month') AS period,
    SUM(deals.amount) AS won_revenue
  FROM deals AS deals
  WHERE
    deals.closed_at >= '2024-01-01'
    AND deals.closed_at < '2024-04-01'
    AND deals.stage = 'won'
  GROUP BY
    DATE(deals.closed_at, 'start of month')
), deals_by_closed_at_baseline AS (
  SELECT
    SUM(deals.amount) AS won_revenue__baseline
  FROM deals AS deals
  WHERE
    deals.closed_at >= '2023-01-01'
    AND deals.closed_at < '2024-01-01'
    AND deals.stage = 'won'
), periods AS (
  SELECT
    '2024-01-01' AS period
  UNION ALL
  SELECT
    '2024-02-01' AS period
  UNION ALL
  SELECT
    '2024-03-01' AS period
)
SELECT
  periods.period AS period,
  COALESCE(deals_by_closed_at.won_revenue, 0) AS won_revenue,
  CAST(COALESCE(deals_by_closed_at_baseline.won_revenue__baseline, 0) AS REAL) / 12 AS won_revenue__compare,
  (
    COALESCE(deals_by_closed_at.won_revenue, 0)
  ) - (
    CAST(COALESCE(deals_by_closed_at_baseline.won_revenue__baseline, 0) AS REAL) / 12
  ) AS won_revenue__change,
  100 * CAST((
    (
      COALESCE(deals_by_closed_at.won_revenue, 0)
    ) - (
      CAST(COALESCE(deals_by_closed_at_baseline.won_revenue__baseline, 0) AS REAL) / 12
    )
  ) AS REAL) / NULLIF(
    ABS(
      CAST(COALESCE(deals_by_closed_at_baseline.won_revenue__baseline, 0) AS REAL) / 12
    ),
    0
  ) AS won_revenue__change_pct
FROM periods
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
CROSS JOIN deals_by_closed_at_baseline
ORDER BY
  periods.period NULLS LAST
