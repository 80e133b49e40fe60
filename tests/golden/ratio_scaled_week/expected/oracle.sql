WITH deals_by_closed_at AS (
  SELECT
    TRUNC(deals.closed_at, 'IW') AS period,
    COUNT(*) AS close_rate__numerator
  FROM deals deals
  WHERE
    deals.closed_at >= TO_TIMESTAMP('2024-01-03 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND deals.closed_at < TO_TIMESTAMP('2024-02-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND deals.stage = 'won'
  GROUP BY
    TRUNC(deals.closed_at, 'IW')
), leads_by_created_at AS (
  SELECT
    TRUNC(leads.created_at, 'IW') AS period,
    COUNT(*) AS close_rate__denominator
  FROM leads leads
  WHERE
    leads.created_at >= TO_TIMESTAMP('2024-01-03 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND leads.created_at < TO_TIMESTAMP('2024-02-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
  GROUP BY
    TRUNC(leads.created_at, 'IW')
), periods AS (
  SELECT
    TO_DATE('2024-01-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-01-08', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-01-15', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-01-22', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-01-29', 'YYYY-MM-DD') AS period
  FROM "DUAL"
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
  periods.period
