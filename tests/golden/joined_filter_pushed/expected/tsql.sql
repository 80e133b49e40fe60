WITH deals_by_closed_at AS (
  SELECT
    DATEFROMPARTS(YEAR(deals.closed_at), MONTH(deals.closed_at), 1) AS period,
    SUM(CASE WHEN deals.stage = 'won' THEN deals.amount END) AS won_revenue,
    SUM(
      CASE WHEN deals.stage = 'won' AND leads.source = 'marketing' THEN deals.amount END
    ) AS marketing_won_revenue,
    COUNT(CASE WHEN leads.score >= 80 AND leads.source IN ('web', 'event') THEN 1 END) AS hot_lead_deals
  FROM deals AS deals
  LEFT JOIN (
    SELECT
      *
    FROM leads AS leads
    WHERE
      leads.source = 'marketing'
      OR (
        leads.score >= 80 AND leads.source IN ('web', 'event')
      )
  ) AS leads
    ON deals.lead_id = leads.lead_id
  WHERE
    deals.closed_at >= CAST('2024-01-01 00:00:00' AS DATETIME2)
    AND deals.closed_at < CAST('2024-04-01 00:00:00' AS DATETIME2)
  GROUP BY
    DATEFROMPARTS(YEAR(deals.closed_at), MONTH(deals.closed_at), 1)
), periods AS (
  SELECT
    CAST('2024-01-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-02-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-03-01' AS DATE) AS period
), customers_at_period_end AS (
  SELECT
    periods.period AS period,
    CAST(SUM(lifecycle.active_customers) AS BIGINT) AS active_customers
  FROM periods
  INNER JOIN (
    SELECT
      DATEFROMPARTS(YEAR(customers.signed_up_at), MONTH(customers.signed_up_at), 1) AS start_period,
      DATEFROMPARTS(YEAR(customers.churned_at), MONTH(customers.churned_at), 1) AS end_period,
      COUNT(*) AS active_customers
    FROM customers AS customers
    GROUP BY
      DATEFROMPARTS(YEAR(customers.signed_up_at), MONTH(customers.signed_up_at), 1),
      DATEFROMPARTS(YEAR(customers.churned_at), MONTH(customers.churned_at), 1)
  ) AS lifecycle
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
  CASE WHEN periods.period IS NULL THEN 1 ELSE 0 END, periods.period
