WITH orders_by_ordered_at AS (
  SELECT
    DATE(
      DATE(
        DATE(DATE(orders.ordered_at, 'start of month'), (
          -1
        ) || ' months'),
        'start of year'
      ),
      1 || ' months'
    ) AS period,
    SUM(orders.amount) AS order_revenue
  FROM orders AS orders
  WHERE
    orders.ordered_at >= '2023-03-15' AND orders.ordered_at < '2025-02-01'
  GROUP BY
    DATE(
      DATE(
        DATE(DATE(orders.ordered_at, 'start of month'), (
          -1
        ) || ' months'),
        'start of year'
      ),
      1 || ' months'
    )
), periods AS (
  SELECT
    '2023-02-01' AS period
  UNION ALL
  SELECT
    '2024-02-01' AS period
)
SELECT
  periods.period AS period,
  'FY' || CAST((
    CAST(STRFTIME('%Y', periods.period) AS INTEGER) - CASE WHEN CAST(STRFTIME('%m', periods.period) AS INTEGER) IN (1) THEN 1 ELSE 0 END
  ) AS TEXT) || '' AS period_label,
  COALESCE(orders_by_ordered_at.order_revenue, 0) AS order_revenue
FROM periods
LEFT JOIN orders_by_ordered_at
  ON orders_by_ordered_at.period = periods.period
ORDER BY
  periods.period NULLS LAST
