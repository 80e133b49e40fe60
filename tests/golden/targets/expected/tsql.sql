WITH deals_by_closed_at AS (
  SELECT
    DATEFROMPARTS(YEAR(deals.closed_at), MONTH(deals.closed_at), 1) AS period,
    SUM(deals.amount) AS won_revenue
  FROM deals AS deals
  WHERE
    deals.closed_at >= CAST('2024-01-01 00:00:00' AS DATETIME2)
    AND deals.closed_at < CAST('2024-04-01 00:00:00' AS DATETIME2)
    AND deals.stage = 'won'
  GROUP BY
    DATEFROMPARTS(YEAR(deals.closed_at), MONTH(deals.closed_at), 1)
), deals_by_discounted_on AS (
  SELECT
    DATEFROMPARTS(YEAR(deals.discounted_on), MONTH(deals.discounted_on), 1) AS period,
    SUM(deals.discount) AS discounts_given
  FROM deals AS deals
  WHERE
    deals.discounted_on >= CAST('2024-01-01 00:00:00' AS DATETIME2)
    AND deals.discounted_on < CAST('2024-04-01 00:00:00' AS DATETIME2)
  GROUP BY
    DATEFROMPARTS(YEAR(deals.discounted_on), MONTH(deals.discounted_on), 1)
), periods AS (
  SELECT
    CAST('2024-01-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-02-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-03-01' AS DATE) AS period
)
SELECT
  periods.period AS period,
  COALESCE(deals_by_closed_at.won_revenue, 0) AS won_revenue,
  CASE
    WHEN periods.period = CAST('2024-01-01' AS DATE)
    THEN 800.0
    WHEN periods.period = CAST('2024-02-01' AS DATE)
    THEN 900.0
    ELSE 1000.0
  END AS won_revenue__target,
  100 * CAST((
    COALESCE(deals_by_closed_at.won_revenue, 0)
  ) AS FLOAT) / NULLIF(
    CASE
      WHEN periods.period = CAST('2024-01-01' AS DATE)
      THEN 800.0
      WHEN periods.period = CAST('2024-02-01' AS DATE)
      THEN 900.0
      ELSE 1000.0
    END,
    0
  ) AS won_revenue__attainment,
  COALESCE(deals_by_discounted_on.discounts_given, 0) AS discounts_given,
  50.0 AS discounts_given__target,
  100 * CAST(50.0 AS FLOAT) / NULLIF((
    COALESCE(deals_by_discounted_on.discounts_given, 0)
  ), 0) AS discounts_given__attainment
FROM periods
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
LEFT JOIN deals_by_discounted_on
  ON deals_by_discounted_on.period = periods.period
ORDER BY
  CASE WHEN periods.period IS NULL THEN 1 ELSE 0 END, periods.period
