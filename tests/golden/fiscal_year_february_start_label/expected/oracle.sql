WITH orders_by_ordered_at AS (
  SELECT
    ADD_MONTHS(TRUNC(ADD_MONTHS(TRUNC(orders.ordered_at, 'MM'), (
      -1
    )), 'YYYY'), 1) AS period,
    SUM(orders.amount) AS order_revenue
  FROM orders orders
  WHERE
    orders.ordered_at >= TO_TIMESTAMP('2023-03-15 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND orders.ordered_at < TO_TIMESTAMP('2025-02-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
  GROUP BY
    ADD_MONTHS(TRUNC(ADD_MONTHS(TRUNC(orders.ordered_at, 'MM'), (
      -1
    )), 'YYYY'), 1)
), periods AS (
  SELECT
    TO_DATE('2023-02-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-02-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
)
SELECT
  periods.period AS period,
  'FY' || TO_CHAR(
    (
      EXTRACT(YEAR FROM periods.period) - CASE WHEN EXTRACT(MONTH FROM periods.period) IN (1) THEN 1 ELSE 0 END
    )
  ) || '' AS period_label,
  COALESCE(orders_by_ordered_at.order_revenue, 0) AS order_revenue
FROM periods
LEFT JOIN orders_by_ordered_at
  ON orders_by_ordered_at.period = periods.period
ORDER BY
  periods.period
