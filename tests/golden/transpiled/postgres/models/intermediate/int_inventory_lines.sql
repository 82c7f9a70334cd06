WITH lines AS MATERIALIZED (
  SELECT
    *
  FROM stockx.main.stg_warehouse__inventory
), warehouses AS MATERIALIZED (
  SELECT
    warehouse_key,
    location_id
  FROM stockx.main.stg_warehouse__warehouses
), products AS MATERIALIZED (
  SELECT
    sku_key,
    product_id
  FROM stockx.main.stg_warehouse__products
), checked AS MATERIALIZED (
  SELECT
    lines.*,
    warehouses.location_id,
    products.product_id,
    CASE
      WHEN lines.snapshot_local_at IS NULL
      THEN 'bad_timestamp'
      WHEN lines.quantity IS NULL
      THEN 'bad_quantity'
      WHEN warehouses.location_id IS NULL
      THEN 'unknown_warehouse'
      WHEN products.product_id IS NULL
      THEN 'unknown_sku'
      WHEN lines.product_variant IS NULL
      THEN 'no_variant'
      WHEN (
        POSITION(':' IN lines."size_value") > 0
        OR POSITION('|' IN lines."size_value") > 0
      )
      OR (
        POSITION(':' IN lines."colour_value") > 0
        OR POSITION('|' IN lines."colour_value") > 0
      )
      OR (
        POSITION(':' IN lines."pack_value") > 0
        OR POSITION('|' IN lines."pack_value") > 0
      )
      THEN 'ambiguous_variant'
    END AS invalid_reason
  FROM lines
  LEFT JOIN warehouses
    ON warehouses.warehouse_key = lines.warehouse_key
  LEFT JOIN products
    ON products.sku_key = lines.sku_key
), distinct_lines /* The valid lines once each (a duplicate_line is an exact copy, so DISTINCT drops */ /* just the copies), with what stock_extra sums them by. */ AS MATERIALIZED (
  SELECT DISTINCT
    snapshot_id,
    snapshot_at,
    warehouse_key,
    sku_key,
    "size_value",
    "colour_value",
    "pack_value",
    bin_code,
    quantity,
    product_id,
    location_id,
    product_variant,
    stock_date_at,
    snapshot_utc_at
  FROM checked
  WHERE
    invalid_reason IS NULL
), instants /* Per key and snapshot instant, the sum over bins stock_extra takes; recency 1 is the key's latest instant. */ AS MATERIALIZED (
  SELECT
    product_id,
    location_id,
    product_variant,
    stock_date_at,
    SUM(quantity) AS units,
    ROW_NUMBER() OVER (
      PARTITION BY product_id, location_id, product_variant, stock_date_at
      ORDER BY snapshot_utc_at DESC NULLS LAST
    ) AS recency
  FROM distinct_lines
  GROUP BY
    product_id,
    location_id,
    product_variant,
    stock_date_at,
    snapshot_utc_at
), overflowing AS MATERIALIZED (
  SELECT
    product_id,
    location_id,
    product_variant,
    stock_date_at
  FROM instants
  WHERE
    recency = 1 AND NOT units BETWEEN -2147483648 AND 2147483647
)
SELECT
  checked.*,
  CASE
    WHEN NOT checked.invalid_reason IS NULL
    THEN checked.invalid_reason
    WHEN ROW_NUMBER() OVER (
      PARTITION BY checked.invalid_reason, checked.snapshot_id, checked.snapshot_at, checked.warehouse_key, checked.sku_key, checked."size_value", checked."colour_value", checked."pack_value", checked.bin_code, checked.quantity
      ORDER BY checked.line_number
    ) > 1
    THEN 'duplicate_line'
    WHEN NOT overflowing.product_id IS NULL
    THEN 'quantity_overflow'
  END AS reject_reason
FROM checked
LEFT JOIN overflowing
  ON overflowing.product_id = checked.product_id
  AND overflowing.location_id = checked.location_id
  AND overflowing.product_variant = checked.product_variant
  AND overflowing.stock_date_at = checked.stock_date_at
