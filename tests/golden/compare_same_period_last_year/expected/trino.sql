WITH customers_by_signed_up_at AS (
  SELECT
    CAST(DATE_TRUNC('QUARTER', customers.signed_up_at) AS DATE) AS period,
    COUNT(*) AS new_customers
  FROM customers AS customers
  WHERE
    customers.signed_up_at >= CAST('2024-01-01 00:00:00' AS TIMESTAMP)
    AND customers.signed_up_at < CAST('2025-01-01 00:00:00' AS TIMESTAMP)
  GROUP BY
    CAST(DATE_TRUNC('QUARTER', customers.signed_up_at) AS DATE)
), customers_by_signed_up_at_1_year_earlier AS (
  SELECT
    CAST(DATE_ADD('MONTH', 4 * 3, CAST(DATE_TRUNC('QUARTER', customers.signed_up_at) AS DATE)) AS DATE) AS period,
    COUNT(*) AS new_customers__1_year_earlier
  FROM customers AS customers
  WHERE
    customers.signed_up_at >= CAST('2023-01-01 00:00:00' AS TIMESTAMP)
    AND customers.signed_up_at < CAST('2024-01-01 00:00:00' AS TIMESTAMP)
  GROUP BY
    CAST(DATE_ADD('MONTH', 4 * 3, CAST(DATE_TRUNC('QUARTER', customers.signed_up_at) AS DATE)) AS DATE)
), periods AS (
  SELECT
    CAST('2024-01-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-04-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-07-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-10-01' AS DATE) AS period
), customers_at_period_start AS (
  SELECT
    periods.period AS period,
    CAST(SUM(lifecycle.active_customers) AS BIGINT) AS active_customers
  FROM periods
  INNER JOIN (
    SELECT
      CAST(DATE_TRUNC('QUARTER', customers.signed_up_at) AS DATE) AS start_period,
      CASE
        WHEN customers.signed_up_at <= CAST(CAST(DATE_TRUNC('QUARTER', customers.signed_up_at) AS DATE) AS TIMESTAMP)
        THEN 1
        ELSE 0
      END AS start_exact,
      CAST(DATE_TRUNC('QUARTER', customers.churned_at) AS DATE) AS end_period,
      CASE
        WHEN customers.churned_at <= CAST(CAST(DATE_TRUNC('QUARTER', customers.churned_at) AS DATE) AS TIMESTAMP)
        THEN 1
        ELSE 0
      END AS end_exact,
      COUNT(*) AS active_customers
    FROM customers AS customers
    GROUP BY
      CAST(DATE_TRUNC('QUARTER', customers.signed_up_at) AS DATE),
      CASE
        WHEN customers.signed_up_at <= CAST(CAST(DATE_TRUNC('QUARTER', customers.signed_up_at) AS DATE) AS TIMESTAMP)
        THEN 1
        ELSE 0
      END,
      CAST(DATE_TRUNC('QUARTER', customers.churned_at) AS DATE),
      CASE
        WHEN customers.churned_at <= CAST(CAST(DATE_TRUNC('QUARTER', customers.churned_at) AS DATE) AS TIMESTAMP)
        THEN 1
        ELSE 0
      END
  ) AS lifecycle
    ON (
      lifecycle.start_period < periods.period
      OR (
        lifecycle.start_period = periods.period AND lifecycle.start_exact = 1
      )
    )
    AND (
      lifecycle.end_period IS NULL
      OR lifecycle.end_period > periods.period
      OR (
        lifecycle.end_period = periods.period AND lifecycle.end_exact = 0
      )
    )
  GROUP BY
    periods.period
), customers_at_period_start_1_year_earlier AS (
  SELECT
    periods.period AS period,
    CAST(SUM(lifecycle.active_customers__1_year_earlier) AS BIGINT) AS active_customers__1_year_earlier
  FROM periods
  INNER JOIN (
    SELECT
      CAST(DATE_TRUNC('QUARTER', customers.signed_up_at) AS DATE) AS start_period,
      CASE
        WHEN customers.signed_up_at <= CAST(CAST(DATE_TRUNC('QUARTER', customers.signed_up_at) AS DATE) AS TIMESTAMP)
        THEN 1
        ELSE 0
      END AS start_exact,
      CAST(DATE_TRUNC('QUARTER', customers.churned_at) AS DATE) AS end_period,
      CASE
        WHEN customers.churned_at <= CAST(CAST(DATE_TRUNC('QUARTER', customers.churned_at) AS DATE) AS TIMESTAMP)
        THEN 1
        ELSE 0
      END AS end_exact,
      COUNT(*) AS active_customers__1_year_earlier
    FROM customers AS customers
    GROUP BY
      CAST(DATE_TRUNC('QUARTER', customers.signed_up_at) AS DATE),
      CASE
        WHEN customers.signed_up_at <= CAST(CAST(DATE_TRUNC('QUARTER', customers.signed_up_at) AS DATE) AS TIMESTAMP)
        THEN 1
        ELSE 0
      END,
      CAST(DATE_TRUNC('QUARTER', customers.churned_at) AS DATE),
      CASE
        WHEN customers.churned_at <= CAST(CAST(DATE_TRUNC('QUARTER', customers.churned_at) AS DATE) AS TIMESTAMP)
        THEN 1
        ELSE 0
      END
  ) AS lifecycle
    ON (
      lifecycle.start_period < CAST(DATE_ADD('MONTH', -4 * 3, periods.period) AS DATE)
      OR (
        lifecycle.start_period = CAST(DATE_ADD('MONTH', -4 * 3, periods.period) AS DATE)
        AND lifecycle.start_exact = 1
      )
    )
    AND (
      lifecycle.end_period IS NULL
      OR lifecycle.end_period > CAST(DATE_ADD('MONTH', -4 * 3, periods.period) AS DATE)
      OR (
        lifecycle.end_period = CAST(DATE_ADD('MONTH', -4 * 3, periods.period) AS DATE)
        AND lifecycle.end_exact = 0
      )
    )
  GROUP BY
    periods.period
)
SELECT
  periods.period AS period,
  COALESCE(customers_by_signed_up_at.new_customers, 0) AS new_customers,
  COALESCE(customers_by_signed_up_at_1_year_earlier.new_customers__1_year_earlier, 0) AS new_customers__compare,
  (
    COALESCE(customers_by_signed_up_at.new_customers, 0)
  ) - (
    COALESCE(customers_by_signed_up_at_1_year_earlier.new_customers__1_year_earlier, 0)
  ) AS new_customers__change,
  100 * CAST((
    (
      COALESCE(customers_by_signed_up_at.new_customers, 0)
    ) - (
      COALESCE(customers_by_signed_up_at_1_year_earlier.new_customers__1_year_earlier, 0)
    )
  ) AS DOUBLE) / NULLIF(
    ABS(
      COALESCE(customers_by_signed_up_at_1_year_earlier.new_customers__1_year_earlier, 0)
    ),
    0
  ) AS new_customers__change_pct,
  COALESCE(customers_at_period_start.active_customers, 0) AS active_customers,
  COALESCE(customers_at_period_start_1_year_earlier.active_customers__1_year_earlier, 0) AS active_customers__compare,
  (
    COALESCE(customers_at_period_start.active_customers, 0)
  ) - (
    COALESCE(customers_at_period_start_1_year_earlier.active_customers__1_year_earlier, 0)
  ) AS active_customers__change,
  100 * CAST((
    (
      COALESCE(customers_at_period_start.active_customers, 0)
    ) - (
      COALESCE(customers_at_period_start_1_year_earlier.active_customers__1_year_earlier, 0)
    )
  ) AS DOUBLE) / NULLIF(
    ABS(
      COALESCE(customers_at_period_start_1_year_earlier.active_customers__1_year_earlier, 0)
    ),
    0
  ) AS active_customers__change_pct
FROM periods
LEFT JOIN customers_by_signed_up_at
  ON customers_by_signed_up_at.period = periods.period
LEFT JOIN customers_by_signed_up_at_1_year_earlier
  ON customers_by_signed_up_at_1_year_earlier.period = periods.period
LEFT JOIN customers_at_period_start
  ON customers_at_period_start.period = periods.period
LEFT JOIN customers_at_period_start_1_year_earlier
  ON customers_at_period_start_1_year_earlier.period = periods.period
ORDER BY
  periods.period
