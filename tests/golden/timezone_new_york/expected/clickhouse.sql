WITH leads_by_created_at AS (
  SELECT
    CAST(dateTrunc(
      'DAY',
      addSeconds(leads.created_at, timeZoneOffset(toTimeZone(leads.created_at, 'America/New_York')))
    ) AS Nullable(DATE)) AS period,
    COUNT(*) AS leads_created
  FROM leads AS leads
  WHERE
    leads.created_at >= CAST('2024-03-08 05:00:00' AS Nullable(DateTime))
    AND leads.created_at < CAST('2024-03-12 04:00:00' AS Nullable(DateTime))
  GROUP BY
    CAST(dateTrunc(
      'DAY',
      addSeconds(leads.created_at, timeZoneOffset(toTimeZone(leads.created_at, 'America/New_York')))
    ) AS Nullable(DATE))
), periods AS (
  SELECT
    CAST('2024-03-08' AS Nullable(DATE)) AS period
  UNION ALL
  SELECT
    CAST('2024-03-09' AS Nullable(DATE)) AS period
  UNION ALL
  SELECT
    CAST('2024-03-10' AS Nullable(DATE)) AS period
  UNION ALL
  SELECT
    CAST('2024-03-11' AS Nullable(DATE)) AS period
)
SELECT
  periods.period AS period,
  COALESCE(leads_by_created_at.leads_created, 0) AS leads_created
FROM periods
LEFT JOIN leads_by_created_at
  ON leads_by_created_at.period = periods.period
ORDER BY
  periods.period
SETTINGS join_use_nulls = 1
