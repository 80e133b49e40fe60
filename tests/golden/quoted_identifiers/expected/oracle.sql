WITH sales_by_date AS (
  SELECT
    TRUNC(sales."date", 'MM') AS period,
    sales."group" AS "group",
    sales."Channel" AS "Channel",
    COUNT(DISTINCT CASE WHEN sales."group" <> 'internal' THEN sales."order" END) AS orders,
    SUM(sales."Amount") AS revenue
  FROM "Sales" sales
  WHERE
    sales."date" >= TO_TIMESTAMP('2024-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
    AND sales."date" < TO_TIMESTAMP('2024-03-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')
  GROUP BY
    TRUNC(sales."date", 'MM'),
    sales."group",
    sales."Channel"
), periods AS (
  SELECT
    TO_DATE('2024-01-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
  UNION ALL
  SELECT
    TO_DATE('2024-02-01', 'YYYY-MM-DD') AS period
  FROM "DUAL"
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
  AND (
    sales_by_date."group" = dimension_keys."group"
    OR (
      sales_by_date."group" IS NULL AND dimension_keys."group" IS NULL
    )
  )
  AND (
    sales_by_date."Channel" = dimension_keys."Channel"
    OR (
      sales_by_date."Channel" IS NULL AND dimension_keys."Channel" IS NULL
    )
  )
ORDER BY
  periods.period,
  dimension_keys."group",
  dimension_keys."Channel"
