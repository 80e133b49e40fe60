WITH sales_by_date AS (
  SELECT
    DATE_SUB(DATE(sales.date), INTERVAL (
      DAYOFMONTH(sales.date) - 1
    ) DAY) AS period,
    sales.`group` AS `group`,
    sales.`Channel` AS `Channel`,
    COUNT(DISTINCT CASE WHEN sales.`group` <> 'internal' THEN sales.`order` END) AS orders,
    SUM(sales.`Amount`) AS revenue
  FROM `Sales` AS sales
  WHERE
    sales.date >= CAST('2024-01-01 00:00:00' AS DATETIME)
    AND sales.date < CAST('2024-03-01 00:00:00' AS DATETIME)
  GROUP BY
    DATE_SUB(DATE(sales.date), INTERVAL (
      DAYOFMONTH(sales.date) - 1
    ) DAY),
    sales.`group`,
    sales.`Channel`
), periods AS (
  SELECT
    CAST('2024-01-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-02-01' AS DATE) AS period
), dimension_keys AS (
  SELECT
    period,
    `group`,
    `Channel`
  FROM sales_by_date
)
SELECT
  periods.period AS period,
  dimension_keys.`group` AS `group`,
  dimension_keys.`Channel` AS `Channel`,
  COALESCE(sales_by_date.orders, 0) AS orders,
  COALESCE(sales_by_date.revenue, 0) AS revenue
FROM periods
LEFT JOIN dimension_keys
  ON dimension_keys.period = periods.period
LEFT JOIN sales_by_date
  ON sales_by_date.period = periods.period
  AND sales_by_date.`group` <=> dimension_keys.`group`
  AND sales_by_date.`Channel` <=> dimension_keys.`Channel`
ORDER BY
  CASE WHEN periods.period IS NULL THEN 1 ELSE 0 END, periods.period,
  CASE WHEN dimension_keys.`group` IS NULL THEN 1 ELSE 0 END, dimension_keys.`group`,
  CASE WHEN dimension_keys.`Channel` IS NULL THEN 1 ELSE 0 END, dimension_keys.`Channel`
