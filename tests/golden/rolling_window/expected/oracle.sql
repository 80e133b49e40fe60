WITH periods AS (
  SELECT
    TO_DATE('2024-01-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-01-08', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-01-15', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-01-22', 'YYYY-MM-DD') AS period
  FROM "DUAL"
), deals_by_closed_at__last_90_days AS (
  SELECT
    periods.period AS period,
    COUNT(*) AS won_deals_90d
  FROM periods
  INNER JOIN deals deals
    ON deals.closed_at >= CAST((
      periods.period + (
        1 * 7
      )
    ) + (
      -90
    ) AS TIMESTAMP)
    AND deals.closed_at < CAST(periods.period + (
      1 * 7
    ) AS TIMESTAMP)
  WHERE
    deals.stage = 'won'
    AND deals.closed_at < TO_TIMESTAMP('2024-01-29 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND deals.closed_at >= TO_TIMESTAMP('2023-10-10 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
  GROUP BY
    periods.period
), deals_by_closed_at__last_3_months AS (
  SELECT
    periods.period AS period,
    SUM(deals.amount) AS revenue_3m
  FROM periods
  INNER JOIN deals deals
    ON deals.closed_at >= CAST(LEAST(
      ADD_MONTHS(TRUNC((
        periods.period + (
          1 * 7
        )
      ), 'MM'), (
        -3
      )) + (
        EXTRACT(DAY FROM (
          periods.period + (
            1 * 7
          )
        )) - 1
      ),
      LAST_DAY(ADD_MONTHS(TRUNC((
        periods.period + (
          1 * 7
        )
      ), 'MM'), (
        -3
      )))
    ) AS TIMESTAMP)
    AND deals.closed_at < CAST(periods.period + (
      1 * 7
    ) AS TIMESTAMP)
  WHERE
    deals.stage = 'won'
    AND deals.closed_at < TO_TIMESTAMP('2024-01-29 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND deals.closed_at >= TO_TIMESTAMP('2023-10-08 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
  GROUP BY
    periods.period
)
SELECT
  periods.period AS period,
  COALESCE(deals_by_closed_at__last_90_days.won_deals_90d, 0) AS won_deals_90d,
  COALESCE(deals_by_closed_at__last_3_months.revenue_3m, 0) AS revenue_3m
FROM periods
LEFT JOIN deals_by_closed_at__last_90_days
  ON deals_by_closed_at__last_90_days.period = periods.period
LEFT JOIN deals_by_closed_at__last_3_months
  ON deals_by_closed_at__last_3_months.period = periods.period
ORDER BY
  periods.period
