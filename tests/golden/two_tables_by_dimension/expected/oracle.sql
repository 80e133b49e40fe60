WITH deals_by_closed_at AS (
  SELECT
    TRUNC(deals.closed_at, 'MM') AS period,
    deals.region AS region,
    SUM(deals.amount) AS won_revenue
  FROM deals deals
  WHERE
    deals.closed_at >= TO_TIMESTAMP('2024-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND deals.closed_at < TO_TIMESTAMP('2024-04-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND deals.stage = 'won'
  GROUP BY
    TRUNC(deals.closed_at, 'MM'),
    deals.region
), orders_by_ordered_at AS (
  SELECT
    TRUNC(orders.ordered_at, 'MM') AS period,
    orders.region AS region,
    SUM(orders.amount) AS order_revenue
  FROM orders orders
  WHERE
    orders.ordered_at >= TO_TIMESTAMP('2024-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND orders.ordered_at < TO_TIMESTAMP('2024-04-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
  GROUP BY
    TRUNC(orders.ordered_at, 'MM'),
    orders.region
), periods AS (
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
), dimension_keys AS (
  SELECT
    period,
    region
  FROM deals_by_closed_at
  UNION
  SELECT
    period,
    region
  FROM orders_by_ordered_at
)
SELECT
  periods.period AS period,
  dimension_keys.region AS region,
  COALESCE(deals_by_closed_at.won_revenue, 0) AS won_revenue,
  COALESCE(orders_by_ordered_at.order_revenue, 0) AS order_revenue
FROM periods
LEFT JOIN dimension_keys
  ON dimension_keys.period = periods.period
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
  AND (
    deals_by_closed_at.region = dimension_keys.region
    OR (
      deals_by_closed_at.region IS NULL AND dimension_keys.region IS NULL
    )
  )
LEFT JOIN orders_by_ordered_at
  ON orders_by_ordered_at.period = periods.period
  AND (
    orders_by_ordered_at.region = dimension_keys.region
    OR (
      orders_by_ordered_at.region IS NULL AND dimension_keys.region IS NULL
    )
  )
ORDER BY
  periods.period,
  dimension_keys.region
