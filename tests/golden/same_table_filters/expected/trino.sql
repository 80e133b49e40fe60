WITH deals_by_closed_at AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', deals.closed_at) AS DATE) AS period,
    COUNT(CASE WHEN deals.stage = 'won' THEN 1 END) AS deals_won,
    SUM(CASE WHEN deals.stage = 'lost' THEN deals.amount END) AS lost_amount
  FROM deals AS deals
  WHERE
    NOT deals.closed_at IS NULL
  GROUP BY
    CAST(DATE_TRUNC('MONTH', deals.closed_at) AS DATE)
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
    FROM deals_by_closed_at
  ) AS scanned
), periods AS (
  SELECT
    CAST(DATE_ADD('MONTH', CAST(numbers.n AS BIGINT), bounds.first_period) AS DATE) AS period
  FROM bounds
  CROSS JOIN numbers
  WHERE
    CAST(DATE_ADD('MONTH', CAST(numbers.n AS BIGINT), bounds.first_period) AS DATE) <= bounds.last_period
)
SELECT
  periods.period AS period,
  COALESCE(deals_by_closed_at.deals_won, 0) AS deals_won,
  COALESCE(deals_by_closed_at.lost_amount, 0) AS lost_amount
FROM periods
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
ORDER BY
  periods.period
