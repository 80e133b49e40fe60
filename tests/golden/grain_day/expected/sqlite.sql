WITH orders_by_ordered_at AS (
  SELECT
    DATE(orders.ordered_at) AS period,
    SUM(orders.amount) AS revenue
  FROM orders AS orders
  WHERE
    orders.ordered_at >= '2024-02-27' AND orders.ordered_at < '2024-03-03'
  GROUP BY
    DATE(orders.ordered_at)
), periods AS (
  SELECT
    '2024-02-27' AS period
  UNION ALL
  SELECT
    '2024-02-28' AS period
  UNION ALL
  SELECT
    '2024-02-29' AS period
  UNION ALL
  SELECT
    '2024-03-01' AS period
  UNION ALL
  SELECT
    '2024-03-02' AS period
)
SELECT
  periods.period AS period,
  COALESCE(orders_by_ordered_at.revenue, 0) AS revenue
FROM periods
LEFT JOIN orders_by_ordered_at
  ON orders_by_ordered_at.period = periods.period
ORDER BY
  periods.period NULLS LAST
