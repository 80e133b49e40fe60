WITH deals_by_closed_at AS (
  SELECT
    TRUNC(deals.closed_at, 'Q') AS period,
    SUM(deals.amount) AS won_revenue
  FROM deals deals
  WHERE
    deals.closed_at >= TO_TIMESTAMP('2024-07-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND deals.closed_at < TO_TIMESTAMP('2025-07-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND deals.stage = 'won'
  GROUP BY
    TRUNC(deals.closed_at, 'Q')
), periods AS (
  SELECT
    TO_DATE('2024-07-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-10-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2025-01-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2025-04-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
)
SELECT
  periods.period AS period,
  'FY' || TO_CHAR(
    (
      EXTRACT(YEAR FROM periods.period) + CASE
        WHEN EXTRACT(MONTH FROM periods.period) IN (7, 8, 9, 10, 11, 12)
        THEN 1
        ELSE 0
      END
    )
  ) || CASE
    WHEN EXTRACT(MONTH FROM periods.period) IN (7, 8, 9)
    THEN ' Q1'
    WHEN EXTRACT(MONTH FROM periods.period) IN (10, 11, 12)
    THEN ' Q2'
    WHEN EXTRACT(MONTH FROM periods.period) IN (1, 2, 3)
    THEN ' Q3'
    WHEN EXTRACT(MONTH FROM periods.period) IN (4, 5, 6)
    THEN ' Q4'
  END AS period_label,
  COALESCE(deals_by_closed_at.won_revenue, 0) AS won_revenue
FROM periods
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
ORDER BY
  periods.period
