/* Peak's product resource keys: one row per product_id that any SKU maps to. */
/* Several SKUs may share a product; their names and categories can disagree, */
/* so the smallest is kept to stay deterministic. */
SELECT
  product_id,
  MIN(product_name) AS product_name,
  MIN(category) AS category
FROM stockx.main.stg_warehouse__products
GROUP BY
  product_id
ORDER BY
  product_id NULLS LAST
