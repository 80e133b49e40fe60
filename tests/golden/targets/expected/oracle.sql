WITH deals_by_closed_at AS (
  SELECT
    TRUNC(deals.closed_at, 'MM') AS period,
    SUM(deals.amount) AS won_revenue
  FROM deals deals
  WHERE
    deals.closed_at >= TO_TIMESTAMP('2024-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND deals.closed_at < TO_TIMESTAMP('2024-04-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND deals.stage = 'won'
  GROUP BY
    TRUNC(deals.closed_at, 'MM')
), deals_by_discounted_on AS (
  SELECT
    TRUNC(deals.discounted_on, 'MM') AS period,
    SUM(deals.discount) AS discounts_given
  FROM deals deals
  WHERE
    deals.discounted_on >= TO_TIMESTAMP('2024-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND deals.discounted_on < TO_TIMESTAMP('2024-04-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
  GROUP BY
    TRUNC(deals.discounted_on, 'MM')
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
)
SELECT
  periods.period AS period,
  COALESCE(deals_by_closed_at.won_revenue, 0) AS won_revenue,
  CASE
    WHEN periods.period = TO_DATE('2024-01-01', 'YYYY-MM-DD')
    THEN 800.0
    WHEN periods.period = TO_DATE('2024-02-01', 'YYYY-MM-DD')
    THEN 900.0
    ELSE 1000.0
  END AS won_revenue__target,
  100 * (
    COALESCE(deals_by_closed_at.won_revenue, 0)
  ) / NULLIF(
    CASE
      WHEN periods.period = TO_DATE('2024-01-01', 'YYYY-MM-DD')
      THEN 800.0
      WHEN periods.period = TO_DATE('2024-02-01', 'YYYY-MM-DD')
      THEN 900.0
      ELSE 1000.0
    END,
    0
  ) AS won_revenue__attainment,
  COALESCE(deals_by_discounted_on.discounts_given, 0) AS discounts_given,
  50.0 AS discounts_given__target,
  100 * 50.0 / NULLIF((
    COALESCE(deals_by_discounted_on.discounts_given, 0)
  ), 0) AS discounts_given__attainment
FROM periods
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
LEFT JOIN deals_by_discounted_on
  ON deals_by_discounted_on.period = periods.period
ORDER BY
  periods.period
