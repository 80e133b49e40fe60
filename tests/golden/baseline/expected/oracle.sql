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
), deals_by_closed_at_baseline AS (
  SELECT
    SUM(deals.amount) AS won_revenue__baseline
  FROM deals deals
  WHERE
    deals.closed_at >= TO_TIMESTAMP('2023-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND deals.closed_at < TO_TIMESTAMP('2024-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND deals.stage = 'won'
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
  COALESCE(deals_by_closed_at_baseline.won_revenue__baseline, 0) / 12 AS won_revenue__compare,
  (
    COALESCE(deals_by_closed_at.won_revenue, 0)
  ) - (
    COALESCE(deals_by_closed_at_baseline.won_revenue__baseline, 0) / 12
  ) AS won_revenue__change,
  100 * (
    (
      COALESCE(deals_by_closed_at.won_revenue, 0)
    ) - (
      COALESCE(deals_by_closed_at_baseline.won_revenue__baseline, 0) / 12
    )
  ) / NULLIF(ABS(COALESCE(deals_by_closed_at_baseline.won_revenue__baseline, 0) / 12), 0) AS won_revenue__change_pct
FROM periods
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
CROSS JOIN deals_by_closed_at_baseline
ORDER BY
  periods.period
