WITH leads_by_created_at AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', leads.created_at) AS DATE) AS period,
    COUNT(*) AS leads_created
  FROM leads AS leads
  WHERE
    NOT leads.created_at IS NULL
  GROUP BY
    CAST(DATE_TRUNC('MONTH', leads.created_at) AS DATE)
), digits AS (
  SELECT
    0 AS d
  UNION ALL
  SELECT
    1 AS d
  UNION ALL
  SELECT
    2 AS d
  UNION ALL
  SELECT
    3 AS d
  UNION ALL
  SELECT
    4 AS d
  UNION ALL
  SELECT
    5 AS d
  UNION ALL
  SELECT
    6 AS d
  UNION ALL
  SELECT
    7 AS d
  UNION ALL
  SELECT
    8 AS d
  UNION ALL
  SELECT
    9 AS d
), numbers AS (
  SELECT
    ones.d + 10 * tens.d + 100 * hundreds.d + 1000 * thousands.d + 10000 * ten_thousands.d AS n
  FROM digits AS ones
  CROSS JOIN digits AS tens
  CROSS JOIN digits AS hundreds
  CROSS JOIN digits AS thousands
  CROSS JOIN digits AS ten_thousands
), bounds AS (
  SELECT
    MIN(period) AS first_period,
    MAX(period) AS last_period
  FROM (
    SELECT
      period
    FROM leads_by_created_at
  ) AS scanned
), periods AS (
  SELECT
    CAST(DATEADD(MONTH, numbers.n, bounds.first_period) AS DATE) AS period
  FROM bounds
  CROSS JOIN numbers
  WHERE
    CAST(DATEADD(MONTH, numbers.n, bounds.first_period) AS DATE) <= bounds.last_period
)
SELECT
  periods.period AS period,
  COALESCE(leads_by_created_at.leads_created, 0) AS leads_created
FROM periods
LEFT JOIN leads_by_created_at
  ON leads_by_created_at.period = periods.period
ORDER BY
  periods.period
