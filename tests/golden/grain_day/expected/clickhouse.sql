WITH orders_by_ordered_at AS (
  SELECT
    CAST(dateTrunc('DAY', orders.ordered_at) AS Nullable(DATE)) AS period,
    SUM(orders.amount) AS revenue
  FROM orders AS orders
  WHERE
    orders.ordered_at >= CAST('2024-02-27 00:00:00' AS Nullable(DateTime))
    AND orders.ordered_at < CAST('2024-03-03 00:00:00' AS Nullable(DateTime))
  GROUP BY
    CAST(dateTrunc('DAY', orders.ordered_at) AS Nullable(DATE))
), periods AS (
  SELECT
    CAST('2024-02-27' AS Nullable(DATE)) AS period
  UNION ALL
  SELECT
    CAST('2024-02-28' AS Nullable(DATE)) AS period
  UNION ALL
  SELECT
    CAST('2024-02-29' AS Nullable(DATE)) AS period
  UNION ALL
  SELECT
    CAST('2024-03-01' AS Nullable(DATE)) AS period
  UNION ALL
  SELECT
    CAST('2024-03-02' AS Nullable(DATE)) AS period
)
SELECT
  periods.period AS period,
  COALESCE(orders_by_ordered_at.revenue, 0) AS revenue
FROM periods
LEFT JOIN orders_by_ordered_at
  ON orders_by_ordered_at.period = periods.period
ORDER BY
  periods.period
SETTINGS join_use_nulls = 1
