WITH deals_by_closed_at AS (
  SELECT
    DATE(deals.closed_at, '-6 days', 'weekday 1') AS period,
    COUNT(*) AS close_rate__numerator
  FROM deals AS deals
  WHERE
    deals.closed_at >= '2024-01-03'
    AND deals.closed_at < '2024-02-01'
    AND deals.stage = 'won'
  GROUP BY
    DATE(deals.closed_at, '-6 days', 'weekday 1')
), leads_by_created_at AS (
  SELECT
    DATE(leads.created_at, '-6 days', 'weekday 1') AS period,
    COUNT(*) AS close_rate__denominator
  FROM leads AS leads
  WHERE
    leads.created_at >= '2024-01-03' AND leads.created_at < '2024-02-01'
  GROUP BY
    DATE(leads.created_at, '-6 days', 'weekday 1')
), periods AS (
  SELECT
    '2024-01-01' AS period
  UNION ALL
  SELECT
    '2024-01-08' AS period
  UNION ALL
  SELECT
    '2024-01-15' AS period
  UNION ALL
  SELECT
    '2024-01-22' AS period
  UNION ALL
  SELECT
    '2024-01-29' AS period
)
SELECT
  periods.period AS period,
  CAST(COALESCE(deals_by_closed_at.close_rate__numerator, 0) * 100 AS REAL) / NULLIF(COALESCE(leads_by_created_at.close_rate__denominator, 0), 0) AS close_rate
FROM periods
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
LEFT JOIN leads_by_created_at
  ON leads_by_created_at.period = periods.period
ORDER BY
  periods.period NULLS LAST
