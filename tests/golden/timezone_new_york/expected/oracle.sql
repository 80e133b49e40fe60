WITH leads_by_created_at AS (
  SELECT
    TRUNC(
      CAST(FROM_TZ(CAST(leads.created_at AS TIMESTAMP), 'UTC') AT TIME ZONE 'America/New_York' AS TIMESTAMP),
      'DD'
    ) AS period,
    COUNT(*) AS leads_created
  FROM leads leads
  WHERE
    leads.created_at >= TO_TIMESTAMP('2024-03-08 05:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND leads.created_at < TO_TIMESTAMP('2024-03-12 04:00:00', 'YYYY-MM-DD HH24:MI:SS')
  GROUP BY
    TRUNC(
      CAST(FROM_TZ(CAST(leads.created_at AS TIMESTAMP), 'UTC') AT TIME ZONE 'America/New_York' AS TIMESTAMP),
      'DD'
    )
), periods AS (
  SELECT
    TO_DATE('2024-03-08', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-03-09', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-03-10', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-03-11', 'YYYY-MM-DD') AS period
  FROM "DUAL"
)
SELECT
  periods.period AS period,
  COALESCE(leads_by_created_at.leads_created, 0) AS leads_created
FROM periods
LEFT JOIN leads_by_created_at
  ON leads_by_created_at.period = periods.period
ORDER BY
  periods.period
