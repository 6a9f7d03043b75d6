-- Lifetime value and segment per customer, derived from sales.orders (an input port of customer-value.odps.yaml).
SELECT customer_id,
       CAST(min(order_ts) AS DATE) AS first_order_on,
       CAST(max(order_ts) AS DATE) AS last_order_on,
       count(*) AS orders,
       CAST(sum(total_amount) AS DECIMAL(14, 2)) AS revenue_eur,
       CASE WHEN sum(total_amount) >= 2000 THEN 'champion'
            WHEN count(*) >= 6 THEN 'loyal'
            WHEN max(order_ts) < TIMESTAMP '2026-01-01' THEN 'lapsed'
            ELSE 'regular' END AS segment
FROM sales.orders
WHERE status <> 'cancelled'
GROUP BY customer_id
ORDER BY customer_id
