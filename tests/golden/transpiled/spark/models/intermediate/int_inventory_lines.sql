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
    lines.line_number,
    lines.snapshot_id,
    lines.snapshot_at,
    lines.warehouse_code,
    lines.sku,
    lines.`size`,
    lines.`colour`,
    lines.`pack`,
    lines.bin_code,
    lines.qty_on_hand,
    lines.warehouse_key,
    lines.sku_key,
    lines.`size_value`,
    lines.`colour_value`,
    lines.`pack_value`,
    lines.product_variant,
    lines.snapshot_key,
    lines.snapshot_local_at,
    lines.snapshot_utc_at,
    lines.stock_date_at,
    lines.quantity,
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
      WHEN lines.variant_is_ambiguous
      THEN 'ambiguous_variant'
      WHEN GREATEST(
        COALESCE(LENGTH(lines.product_variant), 0),
        COALESCE(LENGTH(lines.snapshot_key), 0),
        LENGTH(products.product_id),
        LENGTH(warehouses.location_id)
      ) > 1000
      THEN 'value_too_long'
    END AS invalid_reason
  FROM lines
  LEFT JOIN warehouses
    ON warehouses.warehouse_key = lines.warehouse_key
  LEFT JOIN products
    ON products.sku_key = lines.sku_key
), shared_bins /* Snapshot instants, SKUs, bins and quantities shared by two or more valid lines: a */ /* line's copies share them, and they are few and cheap to group by. */ AS (
  SELECT
    snapshot_utc_at,
    sku_key,
    bin_code,
    quantity
  FROM checked
  WHERE
    invalid_reason IS NULL
  GROUP BY
    snapshot_utc_at,
    sku_key,
    bin_code,
    quantity
  HAVING
    COUNT(*) > 1
), candidates /* The valid lines of those (every copy, and the lines merely sharing a bin with another). */ AS (
  SELECT
    checked.*
  FROM checked
  INNER JOIN shared_bins
    ON checked.snapshot_utc_at IS NOT DISTINCT FROM shared_bins.snapshot_utc_at
    AND checked.sku_key IS NOT DISTINCT FROM shared_bins.sku_key
    AND checked.bin_code IS NOT DISTINCT FROM shared_bins.bin_code
    AND checked.quantity IS NOT DISTINCT FROM shared_bins.quantity
  WHERE
    checked.invalid_reason IS NULL
), repeated /* Valid lines written more than once (equal on every column, NULLs equal), with their first line. */ AS (
  SELECT
    snapshot_id,
    snapshot_at,
    warehouse_key,
    sku_key,
    `size_value`,
    `colour_value`,
    `pack_value`,
    bin_code,
    quantity,
    MIN(line_number) AS first_line
  FROM candidates
  GROUP BY
    snapshot_id,
    snapshot_at,
    warehouse_key,
    sku_key,
    `size_value`,
    `colour_value`,
    `pack_value`,
    bin_code,
    quantity
  HAVING
    COUNT(*) > 1
), duplicates /* Every later copy of a repeated line. */ AS (
  SELECT
    candidates.line_number
  FROM candidates
  INNER JOIN repeated
    ON candidates.snapshot_id IS NOT DISTINCT FROM repeated.snapshot_id
    AND candidates.snapshot_at IS NOT DISTINCT FROM repeated.snapshot_at
    AND candidates.warehouse_key IS NOT DISTINCT FROM repeated.warehouse_key
    AND candidates.sku_key IS NOT DISTINCT FROM repeated.sku_key
    AND candidates.`size_value` IS NOT DISTINCT FROM repeated.`size_value`
    AND candidates.`colour_value` IS NOT DISTINCT FROM repeated.`colour_value`
    AND candidates.`pack_value` IS NOT DISTINCT FROM repeated.`pack_value`
    AND candidates.bin_code IS NOT DISTINCT FROM repeated.bin_code
    AND candidates.quantity IS NOT DISTINCT FROM repeated.quantity
  WHERE
    candidates.line_number > repeated.first_line
), variantless /* Valid variant-less lines (stock's), with the product, location and day they count for. */ AS (
  SELECT
    line_number,
    product_id,
    location_id,
    stock_date_at
  FROM checked
  WHERE
    invalid_reason IS NULL AND product_variant IS NULL
), variant_days /* Of those products, locations and days, the ones that also have valid variant lines (stock_extra's). */ AS (
  SELECT DISTINCT
    variantless.product_id,
    variantless.location_id,
    variantless.stock_date_at
  FROM checked
  INNER JOIN variantless
    ON variantless.product_id = checked.product_id
    AND variantless.location_id = checked.location_id
    AND variantless.stock_date_at = checked.stock_date_at
  WHERE
    checked.invalid_reason IS NULL AND NOT checked.product_variant IS NULL
), mixed /* Valid variant-less lines of such a product, location and day. */ AS (
  SELECT
    variantless.line_number
  FROM variantless
  INNER JOIN variant_days
    ON variant_days.product_id = variantless.product_id
    AND variant_days.location_id = variantless.location_id
    AND variant_days.stock_date_at = variantless.stock_date_at
), crowded /* Locations and days whose valid lines' |quantity| sum past stock_units' range. Every key */ /* lies in one location and day, and |a sum over some of the lines| <= the sum of their */ /* |quantity|, so no key elsewhere can overflow. */ AS (
  SELECT
    location_id,
    stock_date_at
  FROM checked
  WHERE
    invalid_reason IS NULL
  GROUP BY
    location_id,
    stock_date_at
  HAVING
    SUM(ABS(quantity)) > 2147483647
), counted /* The valid lines of crowded locations and days, each once (later copies and mixed */ /* variant-less lines left out), with what stock and stock_extra sum them by. */ AS (
  SELECT
    checked.line_number,
    checked.product_id,
    checked.location_id,
    checked.product_variant,
    checked.stock_date_at,
    checked.snapshot_utc_at,
    checked.quantity
  FROM checked
  INNER JOIN crowded
    ON crowded.location_id = checked.location_id
    AND crowded.stock_date_at = checked.stock_date_at
  LEFT JOIN duplicates
    ON duplicates.line_number = checked.line_number
  LEFT JOIN mixed
    ON mixed.line_number = checked.line_number
  WHERE
    checked.invalid_reason IS NULL
    AND duplicates.line_number IS NULL
    AND mixed.line_number IS NULL
), instants /* Per key and snapshot instant, the sum over bins stock and stock_extra take (a */ /* variant-less key's product_variant is NULL). */ AS (
  SELECT
    product_id,
    location_id,
    product_variant,
    stock_date_at,
    snapshot_utc_at,
    SUM(quantity) AS units
  FROM counted
  GROUP BY
    product_id,
    location_id,
    product_variant,
    stock_date_at,
    snapshot_utc_at
), overflowing /* Keys whose sum at their latest instant leaves the range (instants are unique per key). */ AS (
  SELECT
    product_id,
    location_id,
    product_variant,
    stock_date_at
  FROM instants
  GROUP BY
    product_id,
    location_id,
    product_variant,
    stock_date_at
  HAVING
    NOT MAX_BY(units, snapshot_utc_at) FILTER(WHERE
      NOT units IS NULL) BETWEEN -2147483648 AND 2147483647
), overflowed /* The lines of those keys that no earlier reason rejects: the counted ones, at every instant. */ AS (
  SELECT
    counted.line_number
  FROM counted
  INNER JOIN overflowing
    ON overflowing.product_id = counted.product_id
    AND overflowing.location_id = counted.location_id
    AND overflowing.product_variant IS NOT DISTINCT FROM counted.product_variant
    AND overflowing.stock_date_at = counted.stock_date_at
), later_rejects /* Every valid line rejected after all, with the first reason that applies to it: a copy, */ /* else a mixed variant-less line, else a line of an overflowing key (counted lines are neither). */ AS (
  SELECT
    line_number,
    'duplicate_line' AS reject_reason
  FROM duplicates
  UNION ALL
  SELECT
    mixed.line_number,
    'mixed_variants' AS reject_reason
  FROM mixed
  LEFT JOIN duplicates
    ON duplicates.line_number = mixed.line_number
  WHERE
    duplicates.line_number IS NULL
  UNION ALL
  SELECT
    line_number,
    'quantity_overflow' AS reject_reason
  FROM overflowed
)
SELECT
  checked.*,
  COALESCE(checked.invalid_reason, later_rejects.reject_reason) AS reject_reason
FROM checked
LEFT JOIN later_rejects
  ON later_rejects.line_number = checked.line_number
