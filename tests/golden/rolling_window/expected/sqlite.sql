WITH periods AS (
  SELECT
    '2024-01-01' AS period
  UNION ALL
  SELECT
    '2024-01-08' AS period
  UNION ALL
  SELECT
    '2024-01-15' AS period
  UNION ALL
  SELECT
    '2024-01-22' AS period
), deals_by_closed_at__last_90_days AS (
  SELECT
    periods.period AS period,
    COUNT(*) AS won_deals_90d
  FROM periods
  INNER JOIN deals AS deals
    ON deals.closed_at >= DATETIME(DATE(DATE(periods.period, (
      1 * 7
    ) || ' days'), (
      -90
    ) || ' days'))
    AND deals.closed_at < DATETIME(DATE(periods.period, (
      1 * 7
    ) || ' days'))
  WHERE
    deals.stage = 'won'
    AND deals.closed_at < '2024-01-29'
    AND deals.closed_at >= '2023-10-10'
  GROUP BY
    periods.period
), deals_by_closed_at__last_3_months AS (
  SELECT
    periods.period AS period,
    SUM(deals.amount) AS revenue_3m
  FROM periods
  INNER JOIN deals AS deals
    ON deals.closed_at >= DATETIME(
      MIN(
        DATE(
          DATE(periods.period, (
            1 * 7
          ) || ' days'),
          'start of month',
          (
            -3
          ) || ' months',
          (
            CAST(STRFTIME('%d', DATE(periods.period, (
              1 * 7
            ) || ' days')) AS INTEGER) - 1
          ) || ' days'
        ),
        DATE(
          DATE(periods.period, (
            1 * 7
          ) || ' days'),
          'start of month',
          (
            (
              -3
            ) + 1
          ) || ' months',
          '-1 days'
        )
      )
    )
    AND deals.closed_at < DATETIME(DATE(periods.period, (
      1 * 7
    ) || ' days'))
  WHERE
    deals.stage = 'won'
    AND deals.closed_at < '2024-01-29'
    AND deals.closed_at >= '2023-10-08'
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
  periods.period NULLS LAST
