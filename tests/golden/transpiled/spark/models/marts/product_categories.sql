/* Peak's product_category resource: one row per category named in the product */
/* feed. The feed has no hierarchy, so parent_product_category_id is null; a */
/* product with no category gets default_product_category() (see products). */
/* The feed carries no metadata or timestamps for categories: those are null. */
SELECT
  COALESCE(category, 'UNCATEGORISED') AS product_category_id,
  CAST(NULL AS TIMESTAMP_NTZ) AS created_at,
  CAST(NULL AS STRING) AS metadata,
  COALESCE(MIN(category), 'UNCATEGORISED') AS name,
  CAST(NULL AS STRING) AS parent_product_category_id,
  CAST(NULL AS TIMESTAMP_NTZ) AS updated_at
FROM stockx.main.stg_warehouse__products
GROUP BY
  COALESCE(category, 'UNCATEGORISED')
ORDER BY
  product_category_id NULLS LAST
