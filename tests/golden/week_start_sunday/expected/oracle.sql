WITH leads_by_created_at AS (
  SELECT
    TRUNC((
      TRUNC(leads.created_at, 'DD') + (
        -6
      )
    ), 'IW') + 6 AS period,
    COUNT(*) AS leads_created
  FROM leads leads
  WHERE
    leads.created_at >= TO_TIMESTAMP('2024-03-06 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND leads.created_at < TO_TIMESTAMP('2024-03-31 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
  GROUP BY
    TRUNC((
      TRUNC(leads.created_at, 'DD') + (
        -6
      )
    ), 'IW') + 6
), periods AS (
  SELECT
    TO_DATE('2024-03-03', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-03-10', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-03-17', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-03-24', 'YYYY-MM-DD') AS period
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
