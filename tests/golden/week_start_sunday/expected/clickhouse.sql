WITH leads_by_created_at AS (
  SELECT
    addDays(
      toDate32(
        CAST(dateTrunc(
          'WEEK',
          addDays(toDate32(CAST(dateTrunc('DAY', leads.created_at) AS Nullable(DATE))), (
            -6
          ))
        ) AS Nullable(DATE))
      ),
      6
    ) AS period,
    COUNT(*) AS leads_created
  FROM leads AS leads
  WHERE
    leads.created_at >= CAST('2024-03-06 00:00:00' AS Nullable(DateTime))
    AND leads.created_at < CAST('2024-03-31 00:00:00' AS Nullable(DateTime))
  GROUP BY
    addDays(
      toDate32(
        CAST(dateTrunc(
          'WEEK',
          addDays(toDate32(CAST(dateTrunc('DAY', leads.created_at) AS Nullable(DATE))), (
            -6
          ))
        ) AS Nullable(DATE))
      ),
      6
    )
), periods AS (
  SELECT
    CAST('2024-03-03' AS Nullable(DATE)) AS period
  UNION ALL
  SELECT
    CAST('2024-03-10' AS Nullable(DATE)) AS period
  UNION ALL
  SELECT
    CAST('2024-03-17' AS Nullable(DATE)) AS period
  UNION ALL
  SELECT
    CAST('2024-03-24' AS Nullable(DATE)) AS period
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
