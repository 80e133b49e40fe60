WITH deals_by_closed_at AS (
  SELECT
    DATE_SUB(DATE(deals.closed_at), INTERVAL (WEEKDAY(deals.closed_at)) DAY) AS period,
    COUNT(*) AS close_rate__numerator
  FROM deals AS deals
  WHERE
    deals.closed_at >= CAST('2024-01-03 00:00:00' AS DATETIME)
    AND deals.closed_at < CAST('2024-02-01 00:00:00' AS DATETIME)
    AND deals.stage = 'won'
  GROUP BY
    DATE_SUB(DATE(deals.closed_at), INTERVAL (WEEKDAY(deals.closed_at)) DAY)
), leads_by_created_at AS (
  SELECT
    DATE_SUB(DATE(leads.created_at), INTERVAL (WEEKDAY(leads.created_at)) DAY) AS period,
    COUNT(*) AS close_rate__denominator
  FROM leads AS leads
  WHERE
    leads.created_at >= CAST('2024-01-03 00:00:00' AS DATETIME)
    AND leads.created_at < CAST('2024-02-01 00:00:00' AS DATETIME)
  GROUP BY
    DATE_SUB(DATE(leads.created_at), INTERVAL (WEEKDAY(leads.created_at)) DAY)
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
  COALESCE(deals_by_closed_at.close_rate__numerator, 0) * 100 / NULLIF(COALESCE(leads_by_created_at.close_rate__denominator, 0), 0) AS close_rate
FROM periods
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
LEFT JOIN leads_by_created_at
  ON leads_by_created_at.period = periods.period
ORDER BY
  CASE WHEN periods.period IS NULL THEN 1 ELSE 0 END, periods.period
