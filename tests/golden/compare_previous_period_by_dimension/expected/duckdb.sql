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
), deals_by_closed_at_1_month_earlier AS (
  SELECT
    CAST(CAST(DATE_TRUNC('MONTH', deals.closed_at) AS DATE) + INTERVAL 1 MONTH AS DATE) AS period,
    deals.region AS region,
    SUM(deals.amount) AS won_revenue__1_month_earlier
  FROM deals AS deals
  WHERE
    deals.closed_at >= CAST('2023-12-01 00:00:00' AS TIMESTAMP)
    AND deals.closed_at < CAST('2024-03-01 00:00:00' AS TIMESTAMP)
    AND deals.stage = 'won'
  GROUP BY
    CAST(CAST(DATE_TRUNC('MONTH', deals.closed_at) AS DATE) + INTERVAL 1 MONTH AS DATE),
    deals.region
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
  FROM deals_by_closed_at_1_month_earlier
)
SELECT
  periods.period AS period,
  dimension_keys.region AS region,
  COALESCE(deals_by_closed_at.won_revenue, 0) AS won_revenue,
  COALESCE(deals_by_closed_at_1_month_earlier.won_revenue__1_month_earlier, 0) AS won_revenue__compare,
  (
    COALESCE(deals_by_closed_at.won_revenue, 0)
  ) - (
    COALESCE(deals_by_closed_at_1_month_earlier.won_revenue__1_month_earlier, 0)
  ) AS won_revenue__change,
  100 * (
    (
      COALESCE(deals_by_closed_at.won_revenue, 0)
    ) - (
      COALESCE(deals_by_closed_at_1_month_earlier.won_revenue__1_month_earlier, 0)
    )
  ) / NULLIF(
    ABS(COALESCE(deals_by_closed_at_1_month_earlier.won_revenue__1_month_earlier, 0)),
    0
  ) AS won_revenue__change_pct
FROM periods
LEFT JOIN dimension_keys
  ON dimension_keys.period = periods.period
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
  AND deals_by_closed_at.region IS NOT DISTINCT FROM dimension_keys.region
LEFT JOIN deals_by_closed_at_1_month_earlier
  ON deals_by_closed_at_1_month_earlier.period = periods.period
  AND deals_by_closed_at_1_month_earlier.region IS NOT DISTINCT FROM dimension_keys.region
ORDER BY
  periods.period,
  dimension_keys.region
