/* The SKU -> product mapping, one row per distinct (sku, product_id) after */
/* normalisation: the export repeats rows and spells SKUs loosely. A SKU mapped */
/* to two products fails the `unique` test on sku_key rather than being guessed. */
/* Rows without a SKU or a product_id map nothing and are dropped. */
WITH raw AS MATERIALIZED (
  SELECT
    NULLIF(
      UPPER(
        REGEXP_REPLACE(CAST(sku AS TEXT), '^[\s   -     　]+|[\s   -     　]+$', '', 'g')
      ),
      ''
    ) AS sku_key,
    NULLIF(
      REGEXP_REPLACE(CAST(product_id AS TEXT), '^[\s   -     　]+|[\s   -     　]+$', '', 'g'),
      ''
    ) AS product_id,
    NULLIF(
      TRIM(REGEXP_REPLACE(CAST(product_name AS TEXT), '[\s   -     　]+', ' ', 'g')),
      ''
    ) AS product_name,
    NULLIF(TRIM(REGEXP_REPLACE(CAST(category AS TEXT), '[\s   -     　]+', ' ', 'g')), '') AS category
  FROM stockx.main.raw_products
)
SELECT
  sku_key,
  product_id,
  MIN(product_name) AS product_name,
  MIN(category) AS category
FROM raw
WHERE
  NOT sku_key IS NULL AND NOT product_id IS NULL
GROUP BY
  sku_key,
  product_id
