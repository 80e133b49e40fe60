WITH orders_by_ordered_at AS (
  SELECT
    DATE(orders.ordered_at, 'start of year') AS period,
    SUM(orders.amount) AS revenue
  FROM orders AS orders
  WHERE
    orders.ordered_at >= '2022-07-01' AND orders.ordered_at < '2024-07-01'
  GROUP BY
    DATE(orders.ordered_at, 'start of year')
), periods AS (
  SELECT
    '2022-01-01' AS period
  UNION ALL
  SELECT
    '2023-01-01' AS period
  UNION ALL
  SELECT
    '2024-01-01' AS period
)
SELECT
  periods.period AS period,
  COALESCE(orders_by_ordered_at.revenue, 0) AS revenue
FROM periods
LEFT JOIN orders_by_ordered_at
  ON orders_by_ordered_at.period = periods.period
ORDER BY
  periods.period NULLS LAST
