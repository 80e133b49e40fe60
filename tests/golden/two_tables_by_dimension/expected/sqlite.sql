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
), orders_by_ordered_at AS (
  SELECT
    DATE(orders.ordered_at, 'start of month') AS period,
    orders.region AS region,
    SUM(orders.amount) AS order_revenue
  FROM orders AS orders
  WHERE
    orders.ordered_at >= '2024-01-01' AND orders.ordered_at < '2024-04-01'
  GROUP BY
    DATE(orders.ordered_at, 'start of month'),
    orders.region
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
  FROM orders_by_ordered_at
)
SELECT
  periods.period AS period,
  dimension_keys.region AS region,
  COALESCE(deals_by_closed_at.won_revenue, 0) AS won_revenue,
  COALESCE(orders_by_ordered_at.order_revenue, 0) AS order_revenue
FROM periods
LEFT JOIN dimension_keys
  ON dimension_keys.period = periods.period
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
  AND deals_by_closed_at.region IS dimension_keys.region
LEFT JOIN orders_by_ordered_at
  ON orders_by_ordered_at.period = periods.period
  AND orders_by_ordered_at.region IS dimension_keys.region
ORDER BY
  periods.period NULLS LAST,
  dimension_keys.region NULLS LAST
