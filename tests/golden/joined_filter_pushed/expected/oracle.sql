WITH deals_by_closed_at AS (
  SELECT
    TRUNC(deals.closed_at, 'MM') AS period,
    SUM(CASE WHEN deals.stage = 'won' THEN deals.amount END) AS won_revenue,
    SUM(
      CASE WHEN deals.stage = 'won' AND leads.source = 'marketing' THEN deals.amount END
    ) AS marketing_won_revenue,
    COUNT(CASE WHEN leads.score >= 80 AND leads.source IN ('web', 'event') THEN 1 END) AS hot_lead_deals
  FROM deals deals
  LEFT JOIN (
    SELECT
      *
    FROM leads leads
    WHERE
      leads.source = 'marketing'
      OR (
        leads.score >= 80 AND leads.source IN ('web', 'event')
      )
  ) leads
    ON deals.lead_id = leads.lead_id
  WHERE
    deals.closed_at >= TO_TIMESTAMP('2024-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND deals.closed_at < TO_TIMESTAMP('2024-04-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
  GROUP BY
    TRUNC(deals.closed_at, 'MM')
), periods AS (
  SELECT
    TO_DATE('2024-01-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-02-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-03-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
), customers_at_period_end AS (
  SELECT
    periods.period AS period,
    CAST(SUM(lifecycle.active_customers) AS INT) AS active_customers
  FROM periods
  INNER JOIN (
    SELECT
      TRUNC(customers.signed_up_at, 'MM') AS start_period,
      TRUNC(customers.churned_at, 'MM') AS end_period,
      COUNT(*) AS active_customers
    FROM customers customers
    GROUP BY
      TRUNC(customers.signed_up_at, 'MM'),
      TRUNC(customers.churned_at, 'MM')
  ) lifecycle
    ON (
      lifecycle.start_period <= periods.period
    )
    AND (
      lifecycle.end_period IS NULL OR lifecycle.end_period > periods.period
    )
  GROUP BY
    periods.period
)
SELECT
  periods.period AS period,
  COALESCE(deals_by_closed_at.won_revenue, 0) AS won_revenue,
  COALESCE(deals_by_closed_at.marketing_won_revenue, 0) AS marketing_won_revenue,
  COALESCE(deals_by_closed_at.hot_lead_deals, 0) AS hot_lead_deals,
  COALESCE(customers_at_period_end.active_customers, 0) AS active_customers
FROM periods
LEFT JOIN deals_by_closed_at
  ON deals_by_closed_at.period = periods.period
LEFT JOIN customers_at_period_end
  ON customers_at_period_end.period = periods.period
ORDER BY
  periods.period
