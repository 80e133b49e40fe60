WITH periods AS (
  SELECT
    '2024-01-01' AS period
  UNION ALL
  SELECT
    '2024-02-01' AS period
  UNION ALL
  SELECT
    '2024-03-01' AS period
  UNION ALL
  SELECT
    '2024-04-01' AS period
  UNION ALL
  SELECT
    '2024-05-01' AS period
  UNION ALL
  SELECT
    '2024-06-01' AS period
), orders_by_ordered_at__cumulative AS (
  SELECT
    periods.period AS period,
    SUM(orders.amount) AS revenue_to_date
  FROM periods
  INNER JOIN orders AS orders
    ON orders.ordered_at < DATETIME(DATE(periods.period, 1 || ' months'))
  WHERE
    orders.ordered_at < '2024-07-01'
  GROUP BY
    periods.period
), orders_by_ordered_at__quarter_to_date AS (
  SELECT
    periods.period AS period,
    SUM(orders.amount) AS revenue_qtd
  FROM periods
  INNER JOIN orders AS orders
    ON orders.ordered_at >= DATETIME(
      DATE(
        DATE(DATE(periods.period, 1 || ' months'), (
          -1
        ) || ' days'),
        'start of month',
        '-' || (
          (
            CAST(STRFTIME('%m', DATE(DATE(periods.period, 1 || ' months'), (
              -1
            ) || ' days')) AS INTEGER) - 1
          ) % 3
        ) || ' months'
      )
    )
    AND orders.ordered_at < DATETIME(DATE(periods.period, 1 || ' months'))
  WHERE
    orders.ordered_at < '2024-07-01' AND orders.ordered_at >= '2024-01-01'
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
  periods.period NULLS LAST
