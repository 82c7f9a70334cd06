/* Peak's product resource: one row per product_id that any SKU maps to. */
/* Several SKUs may share a product; their names and categories can disagree, */
/* so the smallest is kept to stay deterministic. Peak requires a name, a */
/* description and a category: the feed has no description, so it is the */
/* product's name; a product without a name is named by its id, and one without */
/* a category is in default_product_category(). The feed has no timestamps. */
SELECT
  product_id,
  CAST(NULL AS DATETIME) AS created_at,
  COALESCE(MIN(product_name), product_id) AS description,
  COALESCE(MIN(category), 'UNCATEGORISED') AS lowest_product_category_id,
  COALESCE(MIN(product_name), product_id) AS name,
  CAST(NULL AS DATETIME) AS updated_at
FROM stockx.main.stg_warehouse__products
GROUP BY
  product_id
ORDER BY
  product_id NULLS LAST
