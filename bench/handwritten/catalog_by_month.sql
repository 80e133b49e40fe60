-- Hand-written DuckDB SQL: the 36 metrics of the CRM catalog by month,
-- 2023-01-01 <= t < 2025-01-01. Same result as:
--   kpispec compile cac cac_payback_months ... crm_roi (the 36 catalog metrics)
--       --grain month --from 2023-01-01 --to 2025-01-01 --dialect duckdb
-- written as a person would write it for speed: every table is read once.
--  * customers: one GROUP BY into a tiny table of (sign-up month, churn month, whether each
--    fell on the first instant of its month); sign-ups, churns, lifespans and the customers
--    active at the start and end of every month are sums over it (no range join).
--  * subscriptions: one GROUP BY by (start month, renewal month) serves both placements.
--  * orders: one pass over three years; the year-earlier gross profit (crm_roi) is the
--    monthly aggregate joined to itself twelve months back.
--  * deals: the leads join is only for "lead source = marketing": it joins marketing leads.
WITH periods AS (
  SELECT CAST(range AS DATE) AS period
  FROM range(DATE '2023-01-01', DATE '2025-01-01', INTERVAL 1 MONTH)
),
spend_m AS (
  SELECT
    CAST(date_trunc('month', spent_on) AS DATE) AS period,
    sum(amount) FILTER (WHERE category IN ('marketing', 'sales')) AS sales_and_marketing_spend,
    sum(amount) FILTER (WHERE category = 'marketing') AS marketing_spend,
    sum(amount) FILTER (WHERE category = 'retention') AS retention_spend,
    sum(amount) FILTER (WHERE category = 'crm_software') AS crm_software_spend
  FROM spend
  WHERE spent_on >= DATE '2023-01-01' AND spent_on < DATE '2025-01-01'
  GROUP BY ALL
),
customer_groups AS (
  SELECT
    CAST(date_trunc('month', signed_up_at) AS DATE) AS signup_month,
    signed_up_at = date_trunc('month', signed_up_at) AS signup_at_month_start,
    CAST(date_trunc('month', churned_at) AS DATE) AS churn_month,
    churned_at = date_trunc('month', churned_at) AS churn_at_month_start,
    count(*) AS n,
    count(*) FILTER (WHERE originated_by = 'marketing') AS n_marketing,
    sum(date_diff('second', signed_up_at, churned_at) / 86400.0 / 365.25) AS lifespan_sum,
    count(date_diff('second', signed_up_at, churned_at)) AS lifespan_n
  FROM customers
  GROUP BY ALL
),
customers_m AS (
  SELECT
    p.period,
    sum(g.n) FILTER (WHERE g.signup_month = p.period) AS signups,
    sum(g.n_marketing) FILTER (WHERE g.signup_month = p.period) AS marketing_signups,
    sum(g.n) FILTER (WHERE g.churn_month = p.period) AS churned,
    sum(g.lifespan_sum) FILTER (WHERE g.churn_month = p.period)
      / sum(g.lifespan_n) FILTER (WHERE g.churn_month = p.period) AS avg_lifespan_years,
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
),
subscription_groups AS (
  SELECT
    CAST(date_trunc('month', started_at) AS DATE) AS start_month,
    CAST(date_trunc('month', renewal_due_at) AS DATE) AS due_month,
    sum(mrr) AS mrr_sum,
    count(mrr) AS mrr_n,
    count(*) AS n,
    count(*) FILTER (WHERE renewed) AS n_renewed
  FROM subscriptions
  GROUP BY ALL
),
subscriptions_m AS (
  SELECT
    p.period,
    sum(g.mrr_sum) FILTER (WHERE g.start_month = p.period)
      / sum(g.mrr_n) FILTER (WHERE g.start_month = p.period) AS avg_started_mrr,
    sum(g.n_renewed) FILTER (WHERE g.due_month = p.period) AS renewed,
    sum(g.n) FILTER (WHERE g.due_month = p.period) AS due
  FROM periods AS p
  CROSS JOIN subscription_groups AS g
  GROUP BY ALL
),
leads_m AS (
  SELECT
    CAST(date_trunc('month', created_at) AS DATE) AS period,
    count(*) AS leads,
    count(*) FILTER (WHERE status = 'abandoned') AS abandoned
  FROM leads
  WHERE created_at >= TIMESTAMP '2023-01-01 00:00:00' AND created_at < TIMESTAMP '2025-01-01 00:00:00'
  GROUP BY ALL
),
sessions_m AS (
  SELECT
    CAST(date_trunc('month', started_at) AS DATE) AS period,
    count(DISTINCT visitor_id) AS visitors,
    count(*) AS sessions,
    count(*) FILTER (WHERE converted) AS converted,
    count(*) FILTER (WHERE clicked AND NOT converted) AS clicked_not_converted
  FROM web_sessions
  WHERE started_at >= TIMESTAMP '2023-01-01 00:00:00' AND started_at < TIMESTAMP '2025-01-01 00:00:00'
  GROUP BY ALL
),
marketing_leads AS (
  SELECT lead_id FROM leads WHERE source = 'marketing'
),
deals_m AS (
  SELECT
    CAST(date_trunc('month', d.closed_at) AS DATE) AS period,
    count(*) FILTER (WHERE d.stage = 'won') AS won,
    count(*) FILTER (WHERE d.stage IN ('won', 'lost')) AS won_or_lost,
    sum(d.amount) FILTER (WHERE d.stage = 'won') AS won_revenue,
    sum(d.amount) FILTER (WHERE d.stage = 'won' AND m.lead_id IS NOT NULL) AS marketing_won_revenue,
    avg(d.amount) FILTER (WHERE d.stage = 'won') AS avg_deal_size,
    sum(d.amount) FILTER (WHERE d.stage = 'won' AND d.deal_type = 'new') AS net_new_revenue,
    avg(date_diff('second', d.created_at, d.closed_at) / 86400.0)
      FILTER (WHERE d.stage = 'won') AS sales_cycle_days,
    count(DISTINCT CASE WHEN d.stage = 'won' AND d.deal_type = 'upsell' THEN d.customer_id END) AS upsell_customers,
    count(DISTINCT CASE WHEN d.stage = 'won' AND d.deal_type = 'cross_sell' THEN d.customer_id END) AS cross_sell_customers
  FROM deals AS d
  LEFT JOIN marketing_leads AS m ON m.lead_id = d.lead_id
  WHERE d.closed_at >= TIMESTAMP '2023-01-01 00:00:00' AND d.closed_at < TIMESTAMP '2025-01-01 00:00:00'
  GROUP BY ALL
),
stages_m AS (
  SELECT
    CAST(date_trunc('month', exited_at) AS DATE) AS period,
    avg(date_diff('second', entered_at, exited_at) / 86400.0) AS stage_duration_days
  FROM deal_stage_history
  WHERE exited_at >= TIMESTAMP '2023-01-01 00:00:00' AND exited_at < TIMESTAMP '2025-01-01 00:00:00'
  GROUP BY ALL
),
quotas_m AS (
  SELECT CAST(date_trunc('month', period_start) AS DATE) AS period, sum(amount) AS quota
  FROM quotas
  WHERE period_start >= DATE '2023-01-01' AND period_start < DATE '2025-01-01'
  GROUP BY ALL
),
calls_m AS (
  SELECT CAST(date_trunc('month', called_at) AS DATE) AS period, count(*) AS calls
  FROM calls
  WHERE called_at >= TIMESTAMP '2023-01-01 00:00:00' AND called_at < TIMESTAMP '2025-01-01 00:00:00'
  GROUP BY ALL
),
orders_m AS (  -- three years: the first is only read twelve months later, by crm_roi
  SELECT
    CAST(date_trunc('month', ordered_at) AS DATE) AS period,
    sum(amount) AS revenue,
    count(*) AS orders,
    count(DISTINCT customer_id) AS buyers,
    sum(amount - cost) AS gross_profit
  FROM orders
  WHERE ordered_at >= TIMESTAMP '2022-01-01 00:00:00' AND ordered_at < TIMESTAMP '2025-01-01 00:00:00'
  GROUP BY ALL
),
nps_m AS (
  SELECT
    CAST(date_trunc('month', responded_at) AS DATE) AS period,
    count(*) FILTER (WHERE score BETWEEN 9 AND 10) AS promoters,
    count(*) FILTER (WHERE score BETWEEN 0 AND 6) AS detractors,
    count(score) AS responses
  FROM nps_responses
  WHERE responded_at >= TIMESTAMP '2023-01-01 00:00:00' AND responded_at < TIMESTAMP '2025-01-01 00:00:00'
  GROUP BY ALL
),
ces_m AS (
  SELECT CAST(date_trunc('month', responded_at) AS DATE) AS period, avg(score) AS ces
  FROM ces_responses
  WHERE responded_at >= TIMESTAMP '2023-01-01 00:00:00' AND responded_at < TIMESTAMP '2025-01-01 00:00:00'
  GROUP BY ALL
),
tickets_m AS (
  SELECT
    CAST(date_trunc('month', resolved_at) AS DATE) AS period,
    avg(date_diff('second', opened_at, resolved_at) / 3600.0) AS avg_resolution_hours
  FROM tickets
  WHERE resolved_at >= TIMESTAMP '2023-01-01 00:00:00' AND resolved_at < TIMESTAMP '2025-01-01 00:00:00'
  GROUP BY ALL
),
logins_m AS (
  SELECT
    CAST(date_trunc('month', logged_in_at) AS DATE) AS period,
    count(*) AS logins,
    count(DISTINCT user_id) AS users
  FROM crm_logins
  WHERE logged_in_at >= TIMESTAMP '2023-01-01 00:00:00' AND logged_in_at < TIMESTAMP '2025-01-01 00:00:00'
  GROUP BY ALL
),
records_m AS (
  SELECT CAST(date_trunc('month', created_at) AS DATE) AS period, count(*) AS records
  FROM crm_records
  WHERE created_at >= TIMESTAMP '2023-01-01 00:00:00' AND created_at < TIMESTAMP '2025-01-01 00:00:00'
  GROUP BY ALL
),
base AS (
  SELECT
    p.period,
    coalesce(sp.sales_and_marketing_spend, 0) / NULLIF(c.signups, 0) AS cac,
    sp.* EXCLUDE (period),
    c.* EXCLUDE (period),
    su.* EXCLUDE (period),
    l.* EXCLUDE (period),
    se.* EXCLUDE (period),
    d.* EXCLUDE (period),
    st.* EXCLUDE (period),
    q.* EXCLUDE (period),
    ca.* EXCLUDE (period),
    o.* EXCLUDE (period),
    n.* EXCLUDE (period),
    ce.* EXCLUDE (period),
    t.* EXCLUDE (period),
    lo.* EXCLUDE (period),
    r.* EXCLUDE (period),
    coalesce(prev.gross_profit, 0) AS gross_profit_year_earlier
  FROM periods AS p
  LEFT JOIN spend_m AS sp ON sp.period = p.period
  LEFT JOIN customers_m AS c ON c.period = p.period
  LEFT JOIN subscriptions_m AS su ON su.period = p.period
  LEFT JOIN leads_m AS l ON l.period = p.period
  LEFT JOIN sessions_m AS se ON se.period = p.period
  LEFT JOIN deals_m AS d ON d.period = p.period
  LEFT JOIN stages_m AS st ON st.period = p.period
  LEFT JOIN quotas_m AS q ON q.period = p.period
  LEFT JOIN calls_m AS ca ON ca.period = p.period
  LEFT JOIN orders_m AS o ON o.period = p.period
  LEFT JOIN orders_m AS prev ON prev.period = CAST(p.period - INTERVAL 12 MONTH AS DATE)
  LEFT JOIN nps_m AS n ON n.period = p.period
  LEFT JOIN ces_m AS ce ON ce.period = p.period
  LEFT JOIN tickets_m AS t ON t.period = p.period
  LEFT JOIN logins_m AS lo ON lo.period = p.period
  LEFT JOIN records_m AS r ON r.period = p.period
)
SELECT
  period,
  cac,
  cac / NULLIF(avg_started_mrr * 0.8, 0) AS cac_payback_months,
  coalesce(marketing_signups, 0) * 100 / NULLIF(signups, 0) AS marketing_originated_pct,
  coalesce(leads, 0) * 100 / NULLIF(visitors, 0) AS traffic_to_lead_rate,
  coalesce(converted, 0) * 100 / NULLIF(sessions, 0) AS landing_page_conversion_rate,
  coalesce(clicked_not_converted, 0) AS clicks_without_conversion,
  coalesce(converted, 0) AS signups,
  100 * (coalesce(marketing_won_revenue, 0) - coalesce(marketing_spend, 0))
    / NULLIF(marketing_spend, 0) AS marketing_roi,
  coalesce(abandoned, 0) * 100 / NULLIF(leads, 0) AS lead_abandonment_rate,
  coalesce(won, 0) * 100 / NULLIF(leads, 0) AS close_rate,
  coalesce(won, 0) * 100 / NULLIF(won_or_lost, 0) AS win_rate,
  sales_cycle_days,
  stage_duration_days,
  avg_deal_size,
  coalesce(net_new_revenue, 0) AS net_new_revenue,
  100 * coalesce(won_revenue, 0) / NULLIF(quota, 0) AS quota_attainment,
  coalesce(calls, 0) AS calls_made,
  coalesce(won, 0) / NULLIF(calls, 0) AS sales_per_call,
  coalesce(churned, 0) * 100 / NULLIF(active_start, 0) AS churn_rate,
  100 * (coalesce(active_end, 0) - coalesce(signups, 0)) / NULLIF(active_start, 0) AS retention_rate,
  coalesce(renewed, 0) * 100 / NULLIF(due, 0) AS renewal_rate,
  coalesce(revenue, 0) / NULLIF(orders, 0) AS avg_purchase_value,
  coalesce(orders, 0) / NULLIF(buyers, 0) AS purchase_frequency,
  avg_lifespan_years AS avg_customer_lifespan_years,
  (coalesce(revenue, 0) / NULLIF(orders, 0)) * (coalesce(orders, 0) / NULLIF(buyers, 0))
    * avg_lifespan_years AS clv,
  (coalesce(gross_profit, 0) / NULLIF(buyers, 0)) * avg_lifespan_years - cac AS clv_net,
  coalesce(upsell_customers, 0) * 100 / NULLIF(active_end, 0) AS upsell_rate,
  coalesce(cross_sell_customers, 0) * 100 / NULLIF(active_end, 0) AS cross_sell_rate,
  coalesce(revenue, 0) / NULLIF(buyers, 0) AS avg_revenue_per_customer,
  coalesce(retention_spend, 0) / NULLIF(active_end, 0) AS customer_retention_cost,
  100 * (coalesce(promoters, 0) - coalesce(detractors, 0)) / NULLIF(responses, 0) AS nps,
  ces,
  avg_resolution_hours,
  coalesce(logins, 0) / NULLIF(users, 0) AS logins_per_user,
  coalesce(records, 0) AS records_created,
  100 * (coalesce(gross_profit, 0) - gross_profit_year_earlier - coalesce(crm_software_spend, 0))
    / NULLIF(crm_software_spend, 0) AS crm_roi
FROM base
ORDER BY period
