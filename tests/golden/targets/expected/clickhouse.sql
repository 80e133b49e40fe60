WITH deals_by_closed_at AS (
  SELECT
    CAST(dateTrunc('MONTH', deals.closed_at) AS Nullable(DATE)) AS period,
    SUM(deals.amount) AS won_revenue
  FROM deals AS deals
  WHERE
    deals.closed_at >= CAST('2024-01-01 00:00:00' AS Nullable(DateTime))
    AND deals.closed_at < CAST('2024-04-01 00:00:00' AS Nullable(DateTime))
    AND deals.stage = 'won'
  GROUP BY
    CAST(dateTrunc('MONTH', deals.closed_at) AS Nullable(DATE))
), deals_by_discounted_on AS (
  SELECT
    CAST(dateTrunc('MONTH', deals.discounted_on) AS Nullable(DATE)) AS period,
    SUM(deals.discount) AS discounts_given
  FROM deals AS deals
  WHERE
    deals.discounted_on >= CAST('2024-01-01 00:00:00' AS Nullable(DateTime))
    AND deals.discounted_on < CAST('2024-04-01 00:00:00' AS Nullable(DateTime))
  GROUP BY
    CAST(dateTrunc('MONTH', deals.discounted_on) AS Nullable(DATE))
), periods AS (
  SELECT
    CAST('2024-01-01' AS Nullable(DATE)) AS period
  UNION ALL
  SELECT
    CAST('2024-02-01' AS Nullable(DATE)) AS period
  UNION ALL
  SELECT
    CAST('2024-03-01' AS Nullable(DATE)) AS period
)
SELECT
  periods.period AS period,
  COALESCE(deals_by_closed_at.won_revenue, 0) AS won_revenue,
  CASE
    WHEN periods.period = CAST('2024-01-01' AS Nullable(DATE))
    THEN 800.0
    WHEN periods.period = CAST('2024-02-01' AS Nullable(DATE))
    THEN 900.0
    ELSE 1000.0
  END AS won_revenue__target,
  100 * (
    COALESCE(deals_by_closed_at.won_revenue, 0)
  ) / nullIf(
    CASE
      WHEN periods.period = CAST('2024-01-01' AS Nullable(DATE))
      THEN 800.0
      WHEN periods.period = CAST('2024-02-01' AS Nullable(DATE))
      THEN 900.0
      ELSE 1000.0
    END,
    0
  ) AS won_revenue__attainment,
  COALESCE(deals_by_discounted_on.discounts_given, 0) AS discounts_given,
  50.0 AS discounts_given__target,
  100 * 50.0 / nullIf((
    COALESCE(deals_by_discounted_on.discounts_given, 0)
  ), 0) AS discounts_given__attainment
FROM periods
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
LEFT JOIN deals_by_discounted_on
  ON deals_by_discounted_on.period = periods.period
ORDER BY
  periods.period
SETTINGS join_use_nulls = 1
