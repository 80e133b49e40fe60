WITH customers_by_signed_up_at AS (
  SELECT
    TRUNC(customers.signed_up_at, 'Q') AS period,
    COUNT(*) AS new_customers
  FROM customers customers
  WHERE
    customers.signed_up_at >= TO_TIMESTAMP('2024-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND customers.signed_up_at < TO_TIMESTAMP('2025-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
  GROUP BY
    TRUNC(customers.signed_up_at, 'Q')
), customers_by_signed_up_at_1_year_earlier AS (
  SELECT
    ADD_MONTHS(TRUNC(customers.signed_up_at, 'Q'), (
      4 * 3
    )) AS period,
    COUNT(*) AS new_customers__1_year_earlier
  FROM customers customers
  WHERE
    customers.signed_up_at >= TO_TIMESTAMP('2023-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND customers.signed_up_at < TO_TIMESTAMP('2024-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
  GROUP BY
    ADD_MONTHS(TRUNC(customers.signed_up_at, 'Q'), (
      4 * 3
    ))
), periods AS (
  SELECT
    TO_DATE('2024-01-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-04-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-07-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-10-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
), customers_at_period_start AS (
  SELECT
    periods.period AS period,
    CAST(SUM(lifecycle.active_customers) AS INT) AS active_customers
  FROM periods
  INNER JOIN (
    SELECT
      TRUNC(customers.signed_up_at, 'Q') AS start_period,
      CASE
        WHEN customers.signed_up_at <= CAST(TRUNC(customers.signed_up_at, 'Q') AS TIMESTAMP)
        THEN 1
        ELSE 0
      END AS start_exact,
      TRUNC(customers.churned_at, 'Q') AS end_period,
      CASE
        WHEN customers.churned_at <= CAST(TRUNC(customers.churned_at, 'Q') AS TIMESTAMP)
        THEN 1
        ELSE 0
      END AS end_exact,
      COUNT(*) AS active_customers
    FROM customers customers
    GROUP BY
      TRUNC(customers.signed_up_at, 'Q'),
      CASE
        WHEN customers.signed_up_at <= CAST(TRUNC(customers.signed_up_at, 'Q') AS TIMESTAMP)
        THEN 1
        ELSE 0
      END,
      TRUNC(customers.churned_at, 'Q'),
      CASE
        WHEN customers.churned_at <= CAST(TRUNC(customers.churned_at, 'Q') AS TIMESTAMP)
        THEN 1
        ELSE 0
      END
  ) lifecycle
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
    CAST(SUM(lifecycle.active_customers__1_year_earlier) AS INT) AS active_customers__1_year_earlier
  FROM periods
  INNER JOIN (
    SELECT
      TRUNC(customers.signed_up_at, 'Q') AS start_period,
      CASE
        WHEN customers.signed_up_at <= CAST(TRUNC(customers.signed_up_at, 'Q') AS TIMESTAMP)
        THEN 1
        ELSE 0
      END AS start_exact,
      TRUNC(customers.churned_at, 'Q') AS end_period,
      CASE
        WHEN customers.churned_at <= CAST(TRUNC(customers.churned_at, 'Q') AS TIMESTAMP)
        THEN 1
        ELSE 0
      END AS end_exact,
      COUNT(*) AS active_customers__1_year_earlier
    FROM customers customers
    GROUP BY
      TRUNC(customers.signed_up_at, 'Q'),
      CASE
        WHEN customers.signed_up_at <= CAST(TRUNC(customers.signed_up_at, 'Q') AS TIMESTAMP)
        THEN 1
        ELSE 0
      END,
      TRUNC(customers.churned_at, 'Q'),
      CASE
        WHEN customers.churned_at <= CAST(TRUNC(customers.churned_at, 'Q') AS TIMESTAMP)
        THEN 1
        ELSE 0
      END
  ) lifecycle
    ON (
      lifecycle.start_period < ADD_MONTHS(periods.period, (
        -4 * 3
      ))
      OR (
        lifecycle.start_period = ADD_MONTHS(periods.period, (
          -4 * 3
        ))
        AND lifecycle.start_exact = 1
      )
    )
    AND (
      lifecycle.end_period IS NULL
      OR lifecycle.end_period > ADD_MONTHS(periods.period, (
        -4 * 3
      ))
      OR (
        lifecycle.end_period = ADD_MONTHS(periods.period, (
          -4 * 3
        ))
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
  100 * (
    (
      COALESCE(customers_by_signed_up_at.new_customers, 0)
    ) - (
      COALESCE(customers_by_signed_up_at_1_year_earlier.new_customers__1_year_earlier, 0)
    )
  ) / NULLIF(
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
  100 * (
    (
      COALESCE(customers_at_period_start.active_customers, 0)
    ) - (
      COALESCE(customers_at_period_start_1_year_earlier.active_customers__1_year_earlier, 0)
    )
  ) / NULLIF(
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
