WITH deals_by_closed_at AS (
  SELECT
    TRUNC(deals.closed_at, 'Q') AS period,
    COUNT(CASE WHEN deals.stage = 'won' THEN 1 END) AS win_rate__numerator,
    COUNT(CASE WHEN deals.stage IN ('won', 'lost') THEN 1 END) AS win_rate__denominator
  FROM deals deals
  WHERE
    deals.closed_at >= TO_TIMESTAMP('2024-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND deals.closed_at < TO_TIMESTAMP('2025-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
  GROUP BY
    TRUNC(deals.closed_at, 'Q')
), periods AS (
  SELECT
    TO_DATE('2024-01-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-04-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-07-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-10-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
)
SELECT
  periods.period AS period,
  COALESCE(deals_by_closed_at.win_rate__numerator, 0) * 100 / NULLIF(COALESCE(deals_by_closed_at.win_rate__denominator, 0), 0) AS win_rate,
  100 - (
    COALESCE(deals_by_closed_at.win_rate__numerator, 0) * 100 / NULLIF(COALESCE(deals_by_closed_at.win_rate__denominator, 0), 0)
  ) AS loss_rate
FROM periods
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
ORDER BY
  periods.period
