WITH periods AS (
  SELECT
    TO_DATE('2024-01-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-02-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-03-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-04-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-05-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-06-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
), orders_by_ordered_at__cumulative AS (
  SELECT
    periods.period AS period,
    SUM(orders.amount) AS revenue_to_date
  FROM periods
  INNER JOIN orders orders
    ON orders.ordered_at < CAST(ADD_MONTHS(periods.period, 1) AS TIMESTAMP)
  WHERE
    orders.ordered_at < TO_TIMESTAMP('2024-07-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
  GROUP BY
    periods.period
), orders_by_ordered_at__quarter_to_date AS (
  SELECT
    periods.period AS period,
    SUM(orders.amount) AS revenue_qtd
  FROM periods
  INNER JOIN orders orders
    ON orders.ordered_at >= CAST(TRUNC((
      ADD_MONTHS(periods.period, 1) + (
        -1
      )
    ), 'Q') AS TIMESTAMP)
    AND orders.ordered_at < CAST(ADD_MONTHS(periods.period, 1) AS TIMESTAMP)
  WHERE
    orders.ordered_at < TO_TIMESTAMP('2024-07-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND orders.ordered_at >= TO_TIMESTAMP('2024-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
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
