WITH leads_by_created_at AS (
  SELECT
    TRUNC(leads.created_at, 'MM') AS period,
    COUNT(*) AS leads_created
  FROM leads leads
  WHERE
    NOT leads.created_at IS NULL
  GROUP BY
    TRUNC(leads.created_at, 'MM')
), digits AS (
  SELECT
    0 AS d
  FROM "DUAL"
  UNION ALL
  SELECT
    1 AS d
  FROM "DUAL"
  UNION ALL
  SELECT
    2 AS d
  FROM "DUAL"
  UNION ALL
  SELECT
    3 AS d
  FROM "DUAL"
  UNION ALL
  SELECT
    4 AS d
  FROM "DUAL"
  UNION ALL
  SELECT
    5 AS d
  FROM "DUAL"
  UNION ALL
  SELECT
    6 AS d
  FROM "DUAL"
  UNION ALL
  SELECT
    7 AS d
  FROM "DUAL"
  UNION ALL
  SELECT
    8 AS d
  FROM "DUAL"
  UNION ALL
  SELECT
    9 AS d
  FROM "DUAL"
), numbers AS (
  SELECT
    ones.d + 10 * tens.d + 100 * hundreds.d + 1000 * thousands.d + 10000 * ten_thousands.d AS n
  FROM digits ones
  CROSS JOIN digits tens
  CROSS JOIN digits hundreds
  CROSS JOIN digits thousands
  CROSS JOIN digits ten_thousands
), bounds AS (
  SELECT
    MIN(period) AS first_period,
    MAX(period) AS last_period
  FROM (
    SELECT
      period
    FROM leads_by_created_at
  ) scanned
), periods AS (
  SELECT
    ADD_MONTHS(bounds.first_period, numbers.n) AS period
  FROM bounds
  CROSS JOIN numbers
  WHERE
    ADD_MONTHS(bounds.first_period, numbers.n) <= bounds.last_period
)
SELECT
  periods.period AS period,
  COALESCE(leads_by_created_at.leads_created, 0) AS leads_created
FROM periods
LEFT JOIN leads_by_created_at
  ON leads_by_created_at.period = periods.period
ORDER BY
  periods.period
