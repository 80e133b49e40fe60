WITH orders_by_ordered_at AS (
  SELECT
    TRUNC(orders.ordered_at, 'YYYY') AS period,
    SUM(orders.amount) AS revenue
  FROM orders orders
  WHERE
    orders.ordered_at >= TO_TIMESTAMP('2022-07-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND orders.ordered_at < TO_TIMESTAMP('2024-07-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
  GROUP BY
    TRUNC(orders.ordered_at, 'YYYY')
), periods AS (
  SELECT
    TO_DATE('2022-01-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2023-01-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-01-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
)
SELECT
  periods.period AS period,
  COALESCE(orders_by_ordered_at.revenue, 0) AS revenue
FROM periods
LEFT JOIN orders_by_ordered_at
  ON orders_by_ordered_at.period = periods.period
ORDER BY
  periods.period
