WITH deals_by_closed_at AS (
  SELECT
    DATE(
      deals.closed_at,
      'start of month',
      '-' || (
        (
          CAST(STRFTIME('%m', deals.closed_at) AS INTEGER) - 1
        ) % 3
      ) || ' months'
    ) AS period,
    COUNT(CASE WHEN deals.stage = 'won' THEN 1 END) AS win_rate__numerator,
    COUNT(CASE WHEN deals.stage IN ('won', 'lost') THEN 1 END) AS win_rate__denominator
  FROM deals AS deals
  WHERE
    deals.closed_at >= '2024-01-01' AND deals.closed_at < '2025-01-01'
  GROUP BY
    DATE(
      deals.closed_at,
      'start of month',
      '-' || (
        (
          CAST(STRFTIME('%m', deals.closed_at) AS INTEGER) - 1
        ) % 3
      ) || ' months'
    )
), periods AS (
  SELECT
    '2024-01-01' AS period
  UNION ALL
  SELECT
    '2024-04-01' AS period
  UNION ALL
  SELECT
    '2024-07-01' AS period
  UNION ALL
  SELECT
    '2024-10-01' AS period
)
SELECT
  periods.period AS period,
  CAST(COALESCE(deals_by_closed_at.win_rate__numerator, 0) * 100 AS REAL) / NULLIF(COALESCE(deals_by_closed_at.win_rate__denominator, 0), 0) AS win_rate,
  100 - (
    CAST(COALESCE(deals_by_closed_at.win_rate__numerator, 0) * 100 AS REAL) / NULLIF(COALESCE(deals_by_closed_at.win_rate__denominator, 0), 0)
  ) AS loss_rate
FROM periods
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
ORDER BY
  periods.period NULLS LAST
