WITH deals_by_closed_at AS (
  SELECT
    MAKEDATE(YEAR(deals.closed_at), 1) + INTERVAL (
      QUARTER(deals.closed_at) - 1
    ) QUARTER AS period,
    COUNT(CASE WHEN deals.stage = 'won' THEN 1 END) AS win_rate__numerator,
    COUNT(CASE WHEN deals.stage IN ('won', 'lost') THEN 1 END) AS win_rate__denominator
  FROM deals AS deals
  WHERE
    deals.closed_at >= CAST('2024-01-01 00:00:00' AS DATETIME)
    AND deals.closed_at < CAST('2025-01-01 00:00:00' AS DATETIME)
  GROUP BY
    MAKEDATE(YEAR(deals.closed_at), 1) + INTERVAL (
      QUARTER(deals.closed_at) - 1
    ) QUARTER
), periods AS (
  SELECT
    CAST('2024-01-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-04-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-07-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-10-01' AS DATE) AS period
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
  CASE WHEN periods.period IS NULL THEN 1 ELSE 0 END, periods.period
