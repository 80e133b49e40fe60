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
    SUM(deals.amount) AS won_revenue
  FROM deals AS deals
  WHERE
    deals.closed_at >= '2024-07-01'
    AND deals.closed_at < '2025-07-01'
    AND deals.stage = 'won'
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
    '2024-07-01' AS period
  UNION ALL
  SELECT
    '2024-10-01' AS period
  UNION ALL
  SELECT
    '2025-01-01' AS period
  UNION ALL
  SELECT
    '2025-04-01' AS period
)
SELECT
  periods.period AS period,
  'FY' || CAST((
    CAST(STRFTIME('%Y', periods.period) AS INTEGER) + CASE
      WHEN CAST(STRFTIME('%m', periods.period) AS INTEGER) IN (7, 8, 9, 10, 11, 12)
      THEN 1
      ELSE 0
    END
  ) AS TEXT) || CASE
    WHEN CAST(STRFTIME('%m', periods.period) AS INTEGER) IN (7, 8, 9)
    THEN ' Q1'
    WHEN CAST(STRFTIME('%m', periods.period) AS INTEGER) IN (10, 11, 12)
    THEN ' Q2'
    WHEN CAST(STRFTIME('%m', periods.period) AS INTEGER) IN (1, 2, 3)
    THEN ' Q3'
    WHEN CAST(STRFTIME('%m', periods.period) AS INTEGER) IN (4, 5, 6)
    THEN ' Q4'
  END AS period_label,
  COALESCE(deals_by_closed_at.won_revenue, 0) AS won_revenue
FROM periods
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
ORDER BY
  periods.period NULLS LAST
