WITH deals_by_closed_at AS (
  SELECT
    CAST(dateTrunc('MONTH', deals.closed_at) AS Nullable(DATE)) AS period,
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
    deals.closed_at >= CAST('2024-01-01 00:00:00' AS Nullable(DateTime))
    AND deals.closed_at < CAST('2024-04-01 00:00:00' AS Nullable(DateTime))
  GROUP BY
    CAST(dateTrunc('MONTH', deals.closed_at) AS Nullable(DATE))
), periods AS (
  SELECT
    CAST('2024-01-01' AS Nullable(DATE)) AS period
  UNION ALL
  SELECT
    CAST('2024-02-01' AS Nullable(DATE)) AS period
  UNION ALL
  SELECT
    CAST('2024-03-01' AS Nullable(DATE)) AS period
), customers_at_period_end AS (
  SELECT
    periods.period AS period,
    CAST(SUM(lifecycle.active_customers) AS Nullable(Int64)) AS active_customers
  FROM periods
  INNER JOIN (
    SELECT
      CAST(dateTrunc('MONTH', customers.signed_up_at) AS Nullable(DATE)) AS start_period,
      CAST(dateTrunc('MONTH', customers.churned_at) AS Nullable(DATE)) AS end_period,
      COUNT(*) AS active_customers
    FROM customers AS customers
    GROUP BY
      CAST(dateTrunc('MONTH', customers.signed_up_at) AS Nullable(DATE)),
      CAST(dateTrunc('MONTH', customers.churned_at) AS Nullable(DATE))
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
  periods.period
SETTINGS join_use_nulls = 1
