WITH deals_by_closed_at AS (
  SELECT
    DATE(deals.closed_at, 'start of month') AS period,
    SUM(deals.amount) AS won_revenue
  FROM deals AS deals
  WHERE
    deals.closed_at >= '2024-01-01'
    AND deals.closed_at < '2024-04-01'
    AND deals.stage = 'won'
  GROUP BY
    DATE(deals.closed_at, 'start of month')
), deals_by_discounted_on AS (
  SELECT
    DATE(deals.discounted_on, 'start of month') AS period,
    SUM(deals.discount) AS discounts_given
  FROM deals AS deals
  WHERE
    deals.discounted_on >= '2024-01-01' AND deals.discounted_on < '2024-04-01'
  GROUP BY
    DATE(deals.discounted_on, 'start of month')
), periods AS (
  SELECT
    '2024-01-01' AS period
  UNION ALL
  SELECT
    '2024-02-01' AS period
  UNION ALL
  SELECT
    '2024-03-01' AS period
)
SELECT
  periods.period AS period,
  COALESCE(deals_by_closed_at.won_revenue, 0) AS won_revenue,
  CASE
    WHEN periods.period = '2024-01-01'
    THEN 800.0
    WHEN periods.period = '2024-02-01'
    THEN 900.0
    ELSE 1000.0
  END AS won_revenue__target,
  100 * CAST((
    COALESCE(deals_by_closed_at.won_revenue, 0)
  ) AS REAL) / NULLIF(
    CASE
      WHEN periods.period = '2024-01-01'
      THEN 800.0
      WHEN periods.period = '2024-02-01'
      THEN 900.0
      ELSE 1000.0
    END,
    0
  ) AS won_revenue__attainment,
  COALESCE(deals_by_discounted_on.discounts_given, 0) AS discounts_given,
  50.0 AS discounts_given__target,
  100 * CAST(50.0 AS REAL) / NULLIF((
    COALESCE(deals_by_discounted_on.discounts_given, 0)
  ), 0) AS discounts_given__attainment
FROM periods
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
LEFT JOIN deals_by_discounted_on
  ON deals_by_discounted_on.period = periods.period
ORDER BY
  periods.period NULLS LAST
