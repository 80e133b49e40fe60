WITH periods AS (
  SELECT
    CAST('2024-01-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-02-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-03-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-04-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-05-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-06-01' AS DATE) AS period
), orders_by_ordered_at__cumulative AS (
  SELECT
    periods.period AS period,
    SUM(orders.amount) AS revenue_to_date
  FROM periods
  INNER JOIN orders AS orders
    ON orders.ordered_at < CAST(CAST(periods.period + INTERVAL '1 MONTH' AS DATE) AS TIMESTAMP)
  WHERE
    orders.ordered_at < CAST('2024-07-01 00:00:00' AS TIMESTAMP)
  GROUP BY
    periods.period
), orders_by_ordered_at__quarter_to_date AS (
  SELECT
    periods.period AS period,
    SUM(orders.amount) AS revenue_qtd
  FROM periods
  INNER JOIN orders AS orders
    ON orders.ordered_at >= CAST(CAST(DATE_TRUNC(
      'QUARTER',
      CAST(CAST(periods.period + INTERVAL '1 MONTH' AS DATE) + INTERVAL '-1 DAY' AS DATE)
    ) AS DATE) AS TIMESTAMP)
    AND orders.ordered_at < CAST(CAST(periods.period + INTERVAL '1 MONTH' AS DATE) AS TIMESTAMP)
  WHERE
    orders.ordered_at < CAST('2024-07-01 00:00:00' AS TIMESTAMP)
    AND orders.ordered_at >= CAST('2024-01-01 00:00:00' AS TIMESTAMP)
  GROUP BY
    periods.period
)
SELECT
  periods.period AS period,
  COALESCE(orders_by_ordered_at__cumulative.revenue_to_date, 0) AS revenue_to_date,
  COALESCE(orders_by_ordered_at__quarter_to_date.revenue_qtd, 0) AS revenue_qtd
FROM periods
LEFT JOIN orders_by_ordered_at__cumulative
  ON orders_by_ordered_at__cumulative.period = periods.period
LEFT JOIN orders_by_ordered_at__quarter_to_date
  ON orders_by_ordered_at__quarter_to_date.period = periods.period
ORDER BY
  periods.period
