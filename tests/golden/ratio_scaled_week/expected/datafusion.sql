WITH deals_by_closed_at AS (
  SELECT
    CAST(DATE_TRUNC('WEEK', deals.closed_at) AS DATE) AS period,
    COUNT(*) AS close_rate__numerator
  FROM deals AS deals
  WHERE
    deals.closed_at >= CAST('2024-01-03 00:00:00' AS TIMESTAMP)
    AND deals.closed_at < CAST('2024-02-01 00:00:00' AS TIMESTAMP)
    AND deals.stage = 'won'
  GROUP BY
    CAST(DATE_TRUNC('WEEK', deals.closed_at) AS DATE)
), leads_by_created_at AS (
  SELECT
    CAST(DATE_TRUNC('WEEK', leads.created_at) AS DATE) AS period,
    COUNT(*) AS close_rate__denominator
  FROM leads AS leads
  WHERE
    leads.created_at >= CAST('2024-01-03 00:00:00' AS TIMESTAMP)
    AND leads.created_at < CAST('2024-02-01 00:00:00' AS TIMESTAMP)
  GROUP BY
    CAST(DATE_TRUNC('WEEK', leads.created_at) AS DATE)
), periods AS (
  SELECT
    CAST('2024-01-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-01-08' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-01-15' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-01-22' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-01-29' AS DATE) AS period
)
SELECT
  periods.period AS period,
  CAST(COALESCE(deals_by_closed_at.close_rate__numerator, 0) * 100 AS DOUBLE PRECISION) / NULLIF(COALESCE(leads_by_created_at.close_rate__denominator, 0), 0) AS close_rate
FROM periods
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
LEFT JOIN leads_by_created_at
  ON leads_by_created_at.period = periods.period
ORDER BY
  periods.period
