WITH orders_by_ordered_at AS (
  SELECT
    CAST(DATE_ADD(
      MAKEDATE(
        YEAR(
          CAST(DATE_ADD(
            DATE_SUB(DATE(orders.ordered_at), INTERVAL (
              DAYOFMONTH(orders.ordered_at) - 1
            ) DAY),
            INTERVAL -1 MONTH
          ) AS DATE)
        ),
        1
      ),
      INTERVAL 1 MONTH
    ) AS DATE) AS period,
    SUM(orders.amount) AS order_revenue
  FROM orders AS orders
  WHERE
    orders.ordered_at >= CAST('2023-03-15 00:00:00' AS DATETIME)
    AND orders.ordered_at < CAST('2025-02-01 00:00:00' AS DATETIME)
  GROUP BY
    CAST(DATE_ADD(
      MAKEDATE(
        YEAR(
          CAST(DATE_ADD(
            DATE_SUB(DATE(orders.ordered_at), INTERVAL (
              DAYOFMONTH(orders.ordered_at) - 1
            ) DAY),
            INTERVAL -1 MONTH
          ) AS DATE)
        ),
        1
      ),
      INTERVAL 1 MONTH
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
      EXTRACT(YEAR FROM periods.period) - CASE WHEN EXTRACT(MONTH FROM periods.period) IN (1) THEN 1 ELSE 0 END
    ) AS CHAR),
    ''
  ) AS period_label,
  COALESCE(orders_by_ordered_at.order_revenue, 0) AS order_revenue
FROM periods
LEFT JOIN orders_by_ordered_at
  ON orders_by_ordered_at.period = periods.period
ORDER BY
  CASE WHEN periods.period IS NULL THEN 1 ELSE 0 END, periods.period
