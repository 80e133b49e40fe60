WITH orders_by_ordered_at AS (
  SELECT
    CAST(DATEADD(
      MONTH,
      1,
      DATEFROMPARTS(
        YEAR(
          CAST(DATEADD(MONTH, -1, DATEFROMPARTS(YEAR(orders.ordered_at), MONTH(orders.ordered_at), 1)) AS DATE)
        ),
        1,
        1
      )
    ) AS DATE) AS period,
    SUM(orders.amount) AS order_revenue
  FROM orders AS orders
  WHERE
    orders.ordered_at >= CAST('2023-03-15 00:00:00' AS DATETIME2)
    AND orders.ordered_at < CAST('2025-02-01 00:00:00' AS DATETIME2)
  GROUP BY
    CAST(DATEADD(
      MONTH,
      1,
      DATEFROMPARTS(
        YEAR(
          CAST(DATEADD(MONTH, -1, DATEFROMPARTS(YEAR(orders.ordered_at), MONTH(orders.ordered_at), 1)) AS DATE)
        ),
        1,
        1
      )
    ) AS DATE)
), periods AS (
  SELECT
    CAST('2023-02-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-02-01' AS DATE) AS period
)
SELECT
  periods.period AS period,
  CONCAT(
    'FY',
    CAST((
      DATEPART(YEAR, periods.period) - CASE WHEN DATEPART(MONTH, periods.period) IN (1) THEN 1 ELSE 0 END
    ) AS VARCHAR(4)),
    ''
  ) AS period_label,
  COALESCE(orders_by_ordered_at.order_revenue, 0) AS order_revenue
FROM periods
LEFT JOIN orders_by_ordered_at
  ON orders_by_ordered_at.period = periods.period
ORDER BY
  CASE WHEN periods.period IS NULL THEN 1 ELSE 0 END, periods.period
