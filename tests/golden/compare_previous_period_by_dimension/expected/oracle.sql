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
), deals_by_closed_at_1_month_earlier AS (
  SELECT
    ADD_MONTHS(TRUNC(deals.closed_at, 'MM'), 1) AS period,
    deals.region AS region,
    SUM(deals.amount) AS won_revenue__1_month_earlier
  FROM deals deals
  WHERE
    deals.closed_at >= TO_TIMESTAMP('2023-12-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND deals.closed_at < TO_TIMESTAMP('2024-03-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND deals.stage = 'won'
  GROUP BY
    ADD_MONTHS(TRUNC(deals.closed_at, 'MM'), 1),
    deals.region
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
  AND (
    deals_by_closed_at.region = dimension_keys.region
    OR (
      deals_by_closed_at.region IS NULL AND dimension_keys.region IS NULL
    )
  )
LEFT JOIN deals_by_closed_at_1_month_earlier
  ON deals_by_closed_at_1_month_earlier.period = periods.period
  AND (
    deals_by_closed_at_1_month_earlier.region = dimension_keys.region
    OR (
      deals_by_closed_at_1_month_earlier.region IS NULL
      AND dimension_keys.region IS NULL
    )
  )
ORDER BY
  periods.period,
  dimension_keys.region
