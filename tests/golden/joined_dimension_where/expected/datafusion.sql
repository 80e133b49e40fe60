WITH deals_by_created_at AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', deals.created_at) AS DATE) AS period,
    customers.segment AS customers__segment,
    SUM(deals.amount) AS pipeline
  FROM deals AS deals
  LEFT JOIN customers AS customers
    ON deals.customer_id = customers.customer_id
  WHERE
    deals.created_at >= CAST('2024-01-01 00:00:00' AS TIMESTAMP)
    AND deals.created_at < CAST('2024-07-01 00:00:00' AS TIMESTAMP)
    AND deals.amount > 0
    AND customers.region = 'EMEA'
  GROUP BY
    CAST(DATE_TRUNC('MONTH', deals.created_at) AS DATE),
    customers.segment
), periods AS (
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
), dimension_keys AS (
  SELECT
    period,
    customers__segment
  FROM deals_by_created_at
)
SELECT
  periods.period AS period,
  dimension_keys.customers__segment AS customers__segment,
  COALESCE(deals_by_created_at.pipeline, 0) AS pipeline
FROM periods
LEFT JOIN dimension_keys
  ON dimension_keys.period = periods.period
LEFT JOIN deals_by_created_at
  ON deals_by_created_at.period = periods.period
  AND deals_by_created_at.customers__segment IS NOT DISTINCT FROM dimension_keys.customers__segment
ORDER BY
  periods.period,
  dimension_keys.customers__segment
