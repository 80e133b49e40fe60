WITH orders_by_ordered_at AS (
  SELECT
    CAST(DATE_TRUNC('YEAR', orders.ordered_at) AS DATE) AS period,
    SUM(orders.amount) AS revenue
  FROM orders AS orders
  WHERE
    orders.ordered_at >= CAST('2022-07-01 00:00:00' AS TIMESTAMP)
    AND orders.ordered_at < CAST('2024-07-01 00:00:00' AS TIMESTAMP)
  GROUP BY
    CAST(DATE_TRUNC('YEAR', orders.ordered_at) AS DATE)
), periods AS (
  SELECT
    CAST('2022-01-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2023-01-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-01-01' AS DATE) AS period
)
SELECT
  periods.period AS period,
  COALESCE(orders_by_ordered_at.revenue, 0) AS revenue
FROM periods
LEFT JOIN orders_by_ordered_at
  ON orders_by_ordered_at.period = periods.period
ORDER BY
  periods.period
