WITH deals_by_closed_at AS (
  SELECT
    CAST(dateTrunc('WEEK', deals.closed_at) AS Nullable(DATE)) AS period,
    COUNT(*) AS close_rate__numerator
  FROM deals AS deals
  WHERE
    deals.closed_at >= CAST('2024-01-03 00:00:00' AS Nullable(DateTime))
    AND deals.closed_at < CAST('2024-02-01 00:00:00' AS Nullable(DateTime))
    AND deals.stage = 'won'
  GROUP BY
    CAST(dateTrunc('WEEK', deals.closed_at) AS Nullable(DATE))
), leads_by_created_at AS (
  SELECT
    CAST(dateTrunc('WEEK', leads.created_at) AS Nullable(DATE)) AS period,
    COUNT(*) AS close_rate__denominator
  FROM leads AS leads
  WHERE
    leads.created_at >= CAST('2024-01-03 00:00:00' AS Nullable(DateTime))
    AND leads.created_at < CAST('2024-02-01 00:00:00' AS Nullable(DateTime))
  GROUP BY
    CAST(dateTrunc('WEEK', leads.created_at) AS Nullable(DATE))
), periods AS (
  SELECT
    CAST('2024-01-01' AS Nullable(DATE)) AS period
  UNION ALL
  SELECT
    CAST('2024-01-08' AS Nullable(DATE)) AS period
  UNION ALL
  SELECT
    CAST('2024-01-15' AS Nullable(DATE)) AS period
  UNION ALL
  SELECT
    CAST('2024-01-22' AS Nullable(DATE)) AS period
  UNION ALL
  SELECT
    CAST('2024-01-29' AS Nullable(DATE)) AS period
)
SELECT
  periods.period AS period,
  COALESCE(deals_by_closed_at.close_rate__numerator, 0) * 100 / nullIf(COALESCE(leads_by_created_at.close_rate__denominator, 0), 0) AS close_rate
FROM periods
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
LEFT JOIN leads_by_created_at
  ON leads_by_created_at.period = periods.period
ORDER BY
  periods.period
SETTINGS join_use_nulls = 1
