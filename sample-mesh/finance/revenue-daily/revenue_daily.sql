-- Daily revenue per channel. A derived product: meshbox runs this over the sales.orders product (an input port of
-- revenue-daily.odps.yaml) on every load and whenever orders change, then tests the result against the contract.
SELECT CAST(order_ts AS DATE) AS order_date,
       channel,
       count(*) AS orders,
       CAST(sum(total_amount) AS DECIMAL(14, 2)) AS revenue_eur,
       CAST(avg(total_amount) AS DECIMAL(12, 2)) AS avg_order_value_eur
FROM sales.orders
WHERE status <> 'cancelled'
GROUP BY ALL
ORDER BY 1, 2
