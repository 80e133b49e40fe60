WITH sales_by_date AS (
  SELECT
    DATE(sales.date, 'start of month') AS period,
    sales."group" AS "group",
    sales."Channel" AS "Channel",
    COUNT(DISTINCT CASE WHEN sales."group" <> 'internal' THEN sales."order" END) AS orders,
    SUM(sales."Amount") AS revenue
  FROM "Sales" AS sales
  WHERE
    sales.date >= '2024-01-01' AND sales.date < '2024-03-01'
  GROUP BY
    DATE(sales.date, 'start of month'),
    sales."group",
    sales."Channel"
), periods AS (
  SELECT
    '2024-01-01' AS period
  UNION ALL
  SELECT
    '2024-02-01' AS period
), dimension_keys AS (
  SELECT
    period,
    "group",
    "Channel"
  FROM sales_by_date
)
SELECT
  periods.period AS period,
  dimension_keys."group" AS "group",
  dimension_keys."Channel" AS "Channel",
  COALESCE(sales_by_date.orders, 0) AS orders,
  COALESCE(sales_by_date.revenue, 0) AS revenue
FROM periods
LEFT JOIN dimension_keys
  ON dimension_keys.period = periods.period
LEFT JOIN sales_by_date
  ON sales_by_date.period = periods.period
  AND sales_by_date."group" IS dimension_keys."group"
  AND sales_by_date."Channel" IS dimension_keys."Channel"
ORDER BY
  periods.period NULLS LAST,
  dimension_keys."group" NULLS LAST,
  dimension_keys."Channel" NULLS LAST
