WITH accepted AS MATERIALIZED (
  SELECT
    product_id,
    location_id,
    stock_date_at,
    snapshot_utc_at,
    snapshot_key,
    quantity
  FROM stockx.main.int_inventory_lines
  WHERE
    reject_reason IS NULL AND product_variant IS NULL AND TRUE
), per_instant AS MATERIALIZED (
  SELECT
    product_id,
    location_id,
    stock_date_at,
    snapshot_utc_at,
    SUM(quantity) AS units,
    MAX(snapshot_key) AS snapshot_key
  FROM accepted
  GROUP BY
    product_id,
    location_id,
    stock_date_at,
    snapshot_utc_at
)
SELECT
  product_id,
  location_id,
  stock_date_at,
  MIN(snapshot_utc_at) AS created_at,
  NULLIF(
    SUBSTRING((
      ARRAY_AGG(COALESCE('#' || snapshot_key, '') ORDER BY snapshot_utc_at DESC) FILTER(WHERE
        snapshot_utc_at IS NOT NULL AND COALESCE('#' || snapshot_key, '') IS NOT NULL)
    )[1] FROM 2),
    ''
  ) AS stock_id, /* As in stock_extra: the latest instant's id, NULL when it has none. */
  CAST(GREATEST(
    (
      ARRAY_AGG(units ORDER BY snapshot_utc_at DESC) FILTER(WHERE
        snapshot_utc_at IS NOT NULL AND units IS NOT NULL)
    )[1],
    0
  ) AS BIGINT) AS stock_units,
  MAX(snapshot_utc_at) AS updated_at
FROM per_instant
GROUP BY
  product_id,
  location_id,
  stock_date_at
ORDER BY
  product_id,
  location_id,
  stock_date_at
