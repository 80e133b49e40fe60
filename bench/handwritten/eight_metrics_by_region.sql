-- Hand-written DuckDB SQL: 8 CRM metrics by month and region, 2023-01-01 <= t < 2025-01-01.
-- Same result as:
--   kpispec compile win_rate avg_deal_size net_new_revenue sales_cycle_days
--       marketing_won_revenue upsell_rate churn_rate marketing_originated_pct
--       --by region --grain month --from 2023-01-01 --to 2025-01-01 --dialect duckdb
-- written as a person would write it for speed: every table is read once.
--  * deals: one GROUP BY; the leads join is only needed for "lead source = marketing",
--    so it joins the marketing leads alone (a much smaller hash table).
--  * customers: one GROUP BY into a tiny table of (region, sign-up month, churn month,
--    whether each fell on the first instant of its month); sign-ups, churns and the
--    customers active at the start and at the end of every month are sums over it
--    (no range join of months x customers).
WITH periods AS (
  SELECT CAST(range AS DATE) AS period
  FROM range(DATE '2023-01-01', DATE '2025-01-01', INTERVAL 1 MONTH)
),
marketing_leads AS (
  SELECT lead_id FROM leads WHERE source = 'marketing'
),
deals_m AS (
  SELECT
    CAST(date_trunc('month', d.closed_at) AS DATE) AS period,
    d.region,
    count(*) FILTER (WHERE d.stage = 'won') AS won,
    count(*) FILTER (WHERE d.stage IN ('won', 'lost')) AS won_or_lost,
    avg(d.amount) FILTER (WHERE d.stage = 'won') AS avg_deal_size,
    sum(d.amount) FILTER (WHERE d.stage = 'won' AND d.deal_type = 'new') AS net_new_revenue,
    avg(date_diff('second', d.created_at, d.closed_at) / 86400.0)
      FILTER (WHERE d.stage = 'won') AS sales_cycle_days,
    sum(d.amount) FILTER (WHERE d.stage = 'won' AND m.lead_id IS NOT NULL) AS marketing_won_revenue,
    count(DISTINCT CASE WHEN d.stage = 'won' AND d.deal_type = 'upsell' THEN d.customer_id END) AS upsell_customers
  FROM deals AS d
  LEFT JOIN marketing_leads AS m ON m.lead_id = d.lead_id
  WHERE d.closed_at >= TIMESTAMP '2023-01-01 00:00:00'
    AND d.closed_at < TIMESTAMP '2025-01-01 00:00:00'
  GROUP BY ALL
),
customer_groups AS (
  SELECT
    region,
    CAST(date_trunc('month', signed_up_at) AS DATE) AS signup_month,
    signed_up_at = date_trunc('month', signed_up_at) AS signup_at_month_start,
    CAST(date_trunc('month', churned_at) AS DATE) AS churn_month,
    churned_at = date_trunc('month', churned_at) AS churn_at_month_start,
    count(*) AS n,
    count(*) FILTER (WHERE originated_by = 'marketing') AS n_marketing
  FROM customers
  GROUP BY ALL
),
customers_m AS (
  SELECT
    p.period,
    g.region,
    sum(g.n) FILTER (WHERE g.signup_month = p.period) AS signups,
    sum(g.n_marketing) FILTER (WHERE g.signup_month = p.period) AS marketing_signups,
    sum(g.n) FILTER (WHERE g.churn_month = p.period) AS churned,
    -- active at the first instant t of the month: signed_up_at <= t, churned_at NULL or > t
    sum(g.n) FILTER (WHERE (g.signup_month < p.period
                            OR (g.signup_month = p.period AND g.signup_at_month_start))
                       AND (g.churn_month IS NULL OR g.churn_month > p.period
                            OR (g.churn_month = p.period AND NOT g.churn_at_month_start))) AS active_start,
    -- active at the end (next month's first instant n, exclusive): signed_up_at < n, churned_at NULL or >= n
    sum(g.n) FILTER (WHERE g.signup_month <= p.period
                       AND (g.churn_month IS NULL OR g.churn_month > p.period)) AS active_end
  FROM periods AS p
  CROSS JOIN customer_groups AS g
  GROUP BY ALL
  HAVING coalesce(signups, 0) + coalesce(churned, 0) + coalesce(active_start, 0)
         + coalesce(active_end, 0) > 0
),
combined AS (
  SELECT
    coalesce(d.period, c.period) AS period,
    coalesce(d.region, c.region) AS region,
    d.won, d.won_or_lost, d.avg_deal_size, d.net_new_revenue, d.sales_cycle_days,
    d.marketing_won_revenue, d.upsell_customers,
    c.signups, c.marketing_signups, c.churned, c.active_start, c.active_end
  FROM deals_m AS d
  FULL OUTER JOIN customers_m AS c
    ON c.period = d.period AND c.region IS NOT DISTINCT FROM d.region
)
SELECT
  p.period,
  x.region,
  x.won * 100 / NULLIF(x.won_or_lost, 0) AS win_rate,
  x.avg_deal_size,
  coalesce(x.net_new_revenue, 0) AS net_new_revenue,
  x.sales_cycle_days,
  coalesce(x.marketing_won_revenue, 0) AS marketing_won_revenue,
  coalesce(x.upsell_customers, 0) * 100 / NULLIF(x.active_end, 0) AS upsell_rate,
  coalesce(x.churned, 0) * 100 / NULLIF(x.active_start, 0) AS churn_rate,
  coalesce(x.marketing_signups, 0) * 100 / NULLIF(x.signups, 0) AS marketing_originated_pct
FROM periods AS p
LEFT JOIN combined AS x ON x.period = p.period
ORDER BY p.period, x.region NULLS LAST
