WITH deals_by_created_at AS (
  SELECT
    TRUNC(deals.created_at, 'MM') AS period,
    customers.segment AS customers__segment,
    SUM(deals.amount) AS pipeline
  FROM deals deals
  LEFT JOIN customers customers
    ON deals.customer_id = customers.customer_id
  WHERE
    deals.created_at >= TO_TIMESTAMP('2024-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND deals.created_at < TO_TIMESTAMP('2024-07-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND deals.amount > 0
    AND customers.region = 'EMEA'
  GROUP BY
    TRUNC(deals.created_at, 'MM'),
    customers.segment
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
  AND (
    deals_by_created_at.customers__segment = dimension_keys.customers__segment
    OR (
      deals_by_created_at.customers__segment IS NULL
      AND dimension_keys.customers__segment IS NULL
    )
  )
ORDER BY
  periods.period,
  dimension_keys.customers__segment
