WITH orders_by_ordered_at AS (
  SELECT
    DATE(
      orders.ordered_at,
      'start of month',
      '-' || (
        (
          CAST(STRFTIME('%m', orders.ordered_at) AS INTEGER) - 1
        ) % 3
      ) || ' months'
    ) AS period,
    SUM(orders.amount) AS revenue
  FROM orders AS orders
  WHERE
    NOT orders.ordered_at IS NULL
  GROUP BY
    DATE(
      orders.ordered_at,
      'start of month',
      '-' || (
        (
          CAST(STRFTIME('%m', orders.ordered_at) AS INTEGER) - 1
        ) % 3
      ) || ' months'
    )
), digits AS (
  SELECT
    0 AS d
  UNION ALL
  SELECT
    1 AS d
  UNION ALL
  SELECT
    2 AS d
  UNION ALL
  SELECT
    3 AS d
  UNION ALL
  SELECT
    4 AS d
  UNION ALL
  SELECT
    5 AS d
  UNION ALL
  SELECT
    6 AS d
  UNION ALL
  SELECT
    7 AS d
  UNION ALL
  SELECT
    8 AS d
  UNION ALL
  SELECT
    9 AS d
), numbers AS (
  SELECT
    ones.d + 10 * tens.d + 100 * hundreds.d + 1000 * thousands.d AS n
  FROM digits AS ones
  CROSS JOIN digits AS tens
  CROSS JOIN digits AS hundreds
  CROSS JOIN digits AS thousands
), bounds AS (
  SELECT
    MIN(period) AS first_period,
    MAX(period) AS last_period
  FROM (
    SELECT
      period
    FROM orders_by_ordered_at
  ) AS scanned
), periods AS (
  SELECT
    DATE(bounds.first_period, (
      numbers.n * 3
    ) || ' months') AS period
  FROM bounds
  CROSS JOIN numbers
  WHERE
    DATE(bounds.first_period, (
      numbers.n * 3
    ) || ' months') <= bounds.last_period
)
SELECT
  periods.period AS period,
  COALESCE(orders_by_ordered_at.revenue, 0) AS revenue
FROM periods
LEFT JOIN orders_by_ordered_at
  ON orders_by_ordered_at.period = periods.period
ORDER BY
  periods.period NULLS LAST
