WITH accepted AS (
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
), accepted_again /* The same lines again, for the keys with more than one instant. */ AS (
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
), keys /* Per key: its earliest and latest snapshot instants, and the sum and greatest id of */ /* all its lines, which are the latest instant's own when the key has only one instant. */ AS (
  SELECT
    product_id,
    location_id,
    stock_date_at,
    MIN(snapshot_utc_at) AS created_at,
    MAX(snapshot_utc_at) AS updated_at,
    SUM(quantity) AS units,
    MAX(snapshot_key) AS snapshot_key
  FROM accepted
  GROUP BY
    product_id,
    location_id,
    stock_date_at
), latest /* Keys with lines at more than one instant (few): the sum over bins and the greatest */ /* id of the lines at the latest instant only (max() gives NULL when none has an id). */ AS (
  SELECT
    accepted.product_id,
    accepted.location_id,
    accepted.stock_date_at,
    SUM(accepted.quantity) AS units,
    MAX(accepted.snapshot_key) AS snapshot_key
  FROM accepted_again AS accepted
  INNER JOIN keys
    ON keys.product_id = accepted.product_id
    AND keys.location_id = accepted.location_id
    AND keys.stock_date_at = accepted.stock_date_at
    AND keys.updated_at = accepted.snapshot_utc_at
  WHERE
    keys.created_at < keys.updated_at
  GROUP BY
    accepted.product_id,
    accepted.location_id,
    accepted.stock_date_at
)
SELECT
  keys.product_id,
  keys.location_id,
  keys.stock_date_at,
  keys.created_at,
  CASE
    WHEN keys.created_at = keys.updated_at
    THEN keys.snapshot_key
    ELSE latest.snapshot_key
  END AS stock_id, /* One instant: the key's own sum and id; more: its latest instant's. */
  CAST(GREATEST(
    CASE WHEN keys.created_at = keys.updated_at THEN keys.units ELSE latest.units END,
    0
  ) AS BIGINT) AS stock_units,
  keys.updated_at
FROM keys
LEFT JOIN latest
  ON latest.product_id = keys.product_id
  AND latest.location_id = keys.location_id
  AND latest.stock_date_at = keys.stock_date_at
