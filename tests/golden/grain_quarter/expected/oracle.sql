WITH orders_by_ordered_at AS (
  SELECT
    TRUNC(orders.ordered_at, 'Q') AS period,
    SUM(orders.amount) AS revenue
  FROM orders orders
  WHERE
    NOT orders.ordered_at IS NULL
  GROUP BY
    TRUNC(orders.ordered_at, 'Q')
), digits AS (
  SELECT
    0 AS d
  FROM "DUAL"
  UNION ALL
  SELECT
    1 AS d
  FROM "DUAL"
  UNION ALL
  SELECT
    2 AS d
  FROM "DUAL"
  UNION ALL
  SELECT
    3 AS d
  FROM "DUAL"
  UNION ALL
  SELECT
    4 AS d
  FROM "DUAL"
  UNION ALL
  SELECT
    5 AS d
  FROM "DUAL"
  UNION ALL
  SELECT
    6 AS d
  FROM "DUAL"
  UNION ALL
  SELECT
    7 AS d
  FROM "DUAL"
  UNION ALL
  SELECT
    8 AS d
  FROM "DUAL"
  UNION ALL
  SELECT
    9 AS d
  FROM "DUAL"
), numbers AS (
  SELECT
    ones.d + 10 * tens.d + 100 * hundreds.d + 1000 * thousands.d AS n
  FROM digits ones
  CROSS JOIN digits tens
  CROSS JOIN digits hundreds
  CROSS JOIN digits thousands
), bounds AS (
  SELECT
    MIN(period) AS first_period,
    MAX(period) AS last_period
  FROM (
    SELECT
      period
    FROM orders_by_ordered_at
  ) scanned
), periods AS (
  SELECT
    ADD_MONTHS(bounds.first_period, (
      numbers.n * 3
    )) AS period
  FROM bounds
  CROSS JOIN numbers
  WHERE
    ADD_MONTHS(bounds.first_period, (
      numbers.n * 3
    )) <= bounds.last_period
)
SELECT
  periods.period AS period,
  COALESCE(orders_by_ordered_at.revenue, 0) AS revenue
FROM periods
LEFT JOIN orders_by_ordered_at
  ON orders_by_ordered_at.period = periods.period
ORDER BY
  periods.period
