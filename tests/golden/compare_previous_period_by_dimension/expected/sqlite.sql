WITH deals_by_closed_at AS (
  SELECT
    DATE(deals.closed_at, 'start of month') AS period,
    deals.region AS region,
    SUM(deals.amount) AS won_revenue
  FROM deals AS deals
  WHERE
    deals.closed_at >= '2024-01-01'
    AND deals.closed_at < '2024-04-01'
    AND deals.stage = 'won'
  GROUP BY
    DATE(deals.closed_at, 'start of month'),
    deals.region
), deals_by_closed_at_1_month_earlier AS (
  SELECT
    DATE(DATE(deals.closed_at, 'start of month'), 1 || ' months') AS period,
    deals.region AS region,
    SUM(deals.amount) AS won_revenue__1_month_earlier
  FROM deals AS deals
  WHERE
    deals.closed_at >= '2023-12-01'
    AND deals.closed_at < '2024-03-01'
    AND deals.stage = 'won'
  GROUP BY
    DATE(DATE(deals.closed_at, 'start of month'), 1 || ' months'),
    deals.region
), periods AS (
  SELECT
    '2024-01-01' AS period
  UNION ALL
  SELECT
    '2024-02-01' AS period
  UNION ALL
  SELECT
    '2024-03-01' AS period
), dimension_keys AS (
  SELECT
    period,
    region
  FROM deals_by_closed_at
  UNION
  SELECT
    period,
    region
  FROM deals_by_closed_at_1_month_earlier
)
SELECT
  periods.period AS period,
  dimension_keys.region AS region,
  COALESCE(deals_by_closed_at.won_revenue, 0) AS won_revenue,
  COALESCE(deals_by_closed_at_1_month_earlier.won_revenue__1_month_earlier, 0) AS won_revenue__compare,
  (
    COALESCE(deals_by_closed_at.won_revenue, 0)
  ) - (
    COALESCE(deals_by_closed_at_1_month_earlier.won_revenue__1_month_earlier, 0)
  ) AS won_revenue__change,
  100 * CAST((
    (
      COALESCE(deals_by_closed_at.won_revenue, 0)
    ) - (
      COALESCE(deals_by_closed_at_1_month_earlier.won_revenue__1_month_earlier, 0)
    )
  ) AS REAL) / NULLIF(
    ABS(COALESCE(deals_by_closed_at_1_month_earlier.won_revenue__1_month_earlier, 0)),
    0
  ) AS won_revenue__change_pct
FROM periods
LEFT JOIN dimension_keys
  ON dimension_keys.period = periods.period
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
  AND deals_by_closed_at.region IS dimension_keys.region
LEFT JOIN deals_by_closed_at_1_month_earlier
  ON deals_by_closed_at_1_month_earlier.period = periods.period
  AND deals_by_closed_at_1_month_earlier.region IS dimension_keys.region
ORDER BY
  periods.period NULLS LAST,
  dimension_keys.region NULLS LAST
