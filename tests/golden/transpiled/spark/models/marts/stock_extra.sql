WITH accepted AS (
  SELECT
    product_id,
    location_id,
    product_variant,
    stock_date_at,
    snapshot_utc_at,
    snapshot_key,
    quantity
  FROM stockx.main.int_inventory_lines
  WHERE
    reject_reason IS NULL AND NOT product_variant IS NULL AND TRUE
), per_instant AS (
  SELECT
    product_id,
    location_id,
    product_variant,
    stock_date_at,
    snapshot_utc_at,
    SUM(quantity) AS units,
    MAX(snapshot_key) AS snapshot_key
  FROM accepted
  GROUP BY
    product_id,
    location_id,
    product_variant,
    stock_date_at,
    snapshot_utc_at
)
SELECT
  product_id,
  location_id,
  product_variant,
  stock_date_at,
  MIN(snapshot_utc_at) AS created_at,
  NULLIF(
    SUBSTRING(
      MAX_BY(COALESCE('#' || snapshot_key, ''), snapshot_utc_at) FILTER(WHERE
        NOT COALESCE('#' || snapshot_key, '') IS NULL),
      2
    ),
    ''
  ) AS stock_id, /* The latest instant's id, and NULL when it has none, rather than an older */ /* snapshot's id: arg_max skips NULL values, so each id is marked with '#' and a */ /* missing one is '' (never NULL), then the mark is taken off again. */
  CAST(GREATEST(MAX_BY(units, snapshot_utc_at) FILTER(WHERE
    NOT units IS NULL), 0) AS BIGINT) AS stock_units,
  MAX(snapshot_utc_at) AS updated_at
FROM per_instant
GROUP BY
  product_id,
  location_id,
  product_variant,
  stock_date_at
ORDER BY
  product_id NULLS LAST,
  location_id NULLS LAST,
  product_variant NULLS LAST,
  stock_date_at NULLS LAST
