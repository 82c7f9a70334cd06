WITH lines AS (
  SELECT
    *
  FROM stockx.main.stg_warehouse__inventory
), warehouses AS (
  SELECT
    warehouse_key,
    location_id
  FROM stockx.main.stg_warehouse__warehouses
), products AS (
  SELECT
    sku_key,
    product_id
  FROM stockx.main.stg_warehouse__products
), checked AS (
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
    END AS invalid_reason
  FROM lines
  LEFT JOIN warehouses
    ON warehouses.warehouse_key = lines.warehouse_key
  LEFT JOIN products
    ON products.sku_key = lines.sku_key
)
SELECT
  *,
  CASE
    WHEN NOT invalid_reason IS NULL
    THEN invalid_reason
    WHEN ROW_NUMBER() OVER (
      PARTITION BY invalid_reason, snapshot_id, snapshot_at, warehouse_key, sku_key, "size_value", "colour_value", "pack_value", bin_code, quantity
      ORDER BY line_number
    ) > 1
    THEN 'duplicate_line'
  END AS reject_reason
FROM checked
