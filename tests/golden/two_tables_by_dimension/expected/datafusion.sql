WITH deals_by_closed_at AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', deals.closed_at) AS DATE) AS period,
    deals.region AS region,
    SUM(deals.amount) AS won_revenue
  FROM deals AS deals
  WHERE
    deals.closed_at >= CAST('2024-01-01 00:00:00' AS TIMESTAMP)
    AND deals.closed_at < CAST('2024-04-01 00:00:00' AS TIMESTAMP)
    AND deals.stage = 'won'
  GROUP BY
    CAST(DATE_TRUNC('MONTH', deals.closed_at) AS DATE),
    deals.region
), orders_by_ordered_at AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', orders.ordered_at) AS DATE) AS period,
    orders.region AS region,
    SUM(orders.amount) AS order_revenue
  FROM orders AS orders
  WHERE
    orders.ordered_at >= CAST('2024-01-01 00:00:00' AS TIMESTAMP)
    AND orders.ordered_at < CAST('2024-04-01 00:00:00' AS TIMESTAMP)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', orders.ordered_at) AS DATE),
    orders.region
), periods AS (
  SELECT
    CAST('2024-01-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-02-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-03-01' AS DATE) AS period
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
  AND deals_by_closed_at.region IS NOT DISTINCT FROM dimension_keys.region
LEFT JOIN orders_by_ordered_at
  ON orders_by_ordered_at.period = periods.period
  AND orders_by_ordered_at.region IS NOT DISTINCT FROM dimension_keys.region
ORDER BY
  periods.period,
  dimension_keys.region
