WITH sales_by_date AS (
  SELECT
    DATEFROMPARTS(YEAR(sales.date), MONTH(sales.date), 1) AS period,
    sales.[group] AS [group],
    sales.[Channel] AS [Channel],
    COUNT(DISTINCT CASE WHEN sales.[group] <> 'internal' THEN sales.[order] END) AS orders,
    SUM(sales.[Amount]) AS revenue
  FROM [Sales] AS sales
  WHERE
    sales.date >= CAST('2024-01-01 00:00:00' AS DATETIME2)
    AND sales.date < CAST('2024-03-01 00:00:00' AS DATETIME2)
  GROUP BY
    DATEFROMPARTS(YEAR(sales.date), MONTH(sales.date), 1),
    sales.[group],
    sales.[Channel]
), periods AS (
  SELECT
    CAST('2024-01-01' AS DATE) AS period
  UNION ALL
  SELECT
    CAST('2024-02-01' AS DATE) AS period
), dimension_keys AS (
  SELECT
    period AS period,
    [group] AS [group],
    [Channel] AS [Channel]
  FROM sales_by_date
)
SELECT
  periods.period AS period,
  dimension_keys.[group] AS [group],
  dimension_keys.[Channel] AS [Channel],
  COALESCE(sales_by_date.orders, 0) AS orders,
  COALESCE(sales_by_date.revenue, 0) AS revenue
FROM periods
LEFT JOIN dimension_keys
  ON dimension_keys.period = periods.period
LEFT JOIN sales_by_date
  ON sales_by_date.period = periods.period
  AND (
    sales_by_date.[group] = dimension_keys.[group]
    OR (
      sales_by_date.[group] IS NULL AND dimension_keys.[group] IS NULL
    )
  )
  AND (
    sales_by_date.[Channel] = dimension_keys.[Channel]
    OR (
      sales_by_date.[Channel] IS NULL AND dimension_keys.[Channel] IS NULL
    )
  )
ORDER BY
  CASE WHEN periods.period IS NULL THEN 1 ELSE 0 END, periods.period,
  CASE WHEN dimension_keys.[group] IS NULL THEN 1 ELSE 0 END, dimension_keys.[group],
  CASE WHEN dimension_keys.[Channel] IS NULL THEN 1 ELSE 0 END, dimension_keys.[Channel]
