WITH raw AS MATERIALIZED (
  /* Every raw column as text, whatever the file format typed it as. */
  /* row_number() over () numbers lines in scan order: DuckDB preserves */
  /* insertion order, for a glob in file-name order. */
  SELECT
    ROW_NUMBER() OVER () AS line_number,
    CAST(snapshot_id AS TEXT) AS snapshot_id,
    CAST(snapshot_at AS TEXT) AS snapshot_at,
    CAST(warehouse_code AS TEXT) AS warehouse_code,
    CAST(sku AS TEXT) AS sku,
    CAST("size" AS TEXT) AS "size",
    CAST("colour" AS TEXT) AS "colour",
    CAST("pack" AS TEXT) AS "pack",
    CAST(bin_code AS TEXT) AS bin_code,
    CAST(qty_on_hand AS TEXT) AS qty_on_hand
  FROM stockx.main.raw_inventory
), parsed AS MATERIALIZED (
  SELECT
    *,
    REGEXP_MATCH(
      snapshot_at,
      '^(\d{4}-\d{2}-\d{2})[T ]((?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?)(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?$'
    ) AS snapshot_parts
  FROM raw
), instants AS MATERIALIZED (
  SELECT
    *,
    CASE
      WHEN COALESCE(snapshot_parts[1], '') <> ''
      THEN STOCKX_TRY_CAST(
        CAST(COALESCE(snapshot_parts[1], '') || ' ' || COALESCE(snapshot_parts[2], '') AS TEXT),
        CAST(NULL AS TIMESTAMP)
      )
    END AS local_at,
    (
      CASE
        WHEN COALESCE(snapshot_parts[1], '') <> ''
        THEN STOCKX_TRY_CAST(
          CAST(COALESCE(snapshot_parts[1], '') || ' ' || COALESCE(snapshot_parts[2], '') AS TEXT),
          CAST(NULL AS TIMESTAMP)
        )
      END
    ) - (
      CASE
        WHEN COALESCE(snapshot_parts[3], '') IN ('', 'Z')
        THEN 0
        ELSE (
          CASE WHEN LEFT(COALESCE(snapshot_parts[3], ''), 1) = '-' THEN -1 ELSE 1 END
        ) * (
          CAST(SUBSTRING(COALESCE(snapshot_parts[3], '') FROM 2 FOR 2) AS INT) * 60 + CAST(SUBSTRING(COALESCE(snapshot_parts[3], '') FROM 5 FOR 2) AS INT)
        )
      END
    ) * INTERVAL '1 MINUTE' AS utc_at
  FROM parsed
)
SELECT
  line_number,
  snapshot_id,
  snapshot_at,
  warehouse_code,
  sku,
  "size",
  "colour",
  "pack",
  bin_code,
  qty_on_hand,
  NULLIF(
    UPPER(REGEXP_REPLACE(warehouse_code, '^[\s   -     　]+|[\s   -     　]+$', '', 'g')),
    ''
  ) AS warehouse_key,
  NULLIF(UPPER(REGEXP_REPLACE(sku, '^[\s   -     　]+|[\s   -     　]+$', '', 'g')), '') AS sku_key,
  NULLIF(
    REGEXP_REPLACE(
      REGEXP_REPLACE("size", '^[\s   -     　]+|[\s   -     　]+$', '', 'g'),
      '[\s   -     　]+',
      ' ',
      'g'
    ),
    ''
  ) AS "size_value",
  NULLIF(
    REGEXP_REPLACE(
      REGEXP_REPLACE("colour", '^[\s   -     　]+|[\s   -     　]+$', '', 'g'),
      '[\s   -     　]+',
      ' ',
      'g'
    ),
    ''
  ) AS "colour_value",
  NULLIF(
    REGEXP_REPLACE(
      REGEXP_REPLACE("pack", '^[\s   -     　]+|[\s   -     　]+$', '', 'g'),
      '[\s   -     　]+',
      ' ',
      'g'
    ),
    ''
  ) AS "pack_value",
  NULLIF(
    CONCAT_WS(
      '|',
      'size:' || NULLIF(
        REGEXP_REPLACE(
          REGEXP_REPLACE("size", '^[\s   -     　]+|[\s   -     　]+$', '', 'g'),
          '[\s   -     　]+',
          ' ',
          'g'
        ),
        ''
      ),
      'colour:' || NULLIF(
        REGEXP_REPLACE(
          REGEXP_REPLACE("colour", '^[\s   -     　]+|[\s   -     　]+$', '', 'g'),
          '[\s   -     　]+',
          ' ',
          'g'
        ),
        ''
      ),
      'pack:' || NULLIF(
        REGEXP_REPLACE(
          REGEXP_REPLACE("pack", '^[\s   -     　]+|[\s   -     　]+$', '', 'g'),
          '[\s   -     　]+',
          ' ',
          'g'
        ),
        ''
      )
    ),
    ''
  ) AS product_variant,
  NULLIF(REGEXP_REPLACE(snapshot_id, '^[\s   -     　]+|[\s   -     　]+$', '', 'g'), '') AS snapshot_key,
  CASE
    WHEN (
      local_at BETWEEN CAST('0001-01-01 00:00:00' AS TIMESTAMP) AND CAST('9999-12-31 23:59:59.999999' AS TIMESTAMP)
    )
    AND (
      utc_at BETWEEN CAST('0001-01-01 00:00:00' AS TIMESTAMP) AND CAST('9999-12-31 23:59:59.999999' AS TIMESTAMP)
    )
    THEN local_at
  END AS snapshot_local_at, /* A timestamp the export cannot write (local or UTC year outside 1-9999) is no timestamp. */
  CASE
    WHEN (
      local_at BETWEEN CAST('0001-01-01 00:00:00' AS TIMESTAMP) AND CAST('9999-12-31 23:59:59.999999' AS TIMESTAMP)
    )
    AND (
      utc_at BETWEEN CAST('0001-01-01 00:00:00' AS TIMESTAMP) AND CAST('9999-12-31 23:59:59.999999' AS TIMESTAMP)
    )
    THEN utc_at
  END AS snapshot_utc_at,
  CAST(CASE
    WHEN (
      local_at BETWEEN CAST('0001-01-01 00:00:00' AS TIMESTAMP) AND CAST('9999-12-31 23:59:59.999999' AS TIMESTAMP)
    )
    AND (
      utc_at BETWEEN CAST('0001-01-01 00:00:00' AS TIMESTAMP) AND CAST('9999-12-31 23:59:59.999999' AS TIMESTAMP)
    )
    THEN local_at
  END AS DATE) AS stock_date_at,
  CASE
    WHEN REGEXP_REPLACE(qty_on_hand, '^[\s   -     　]+|[\s   -     　]+$', '', 'g') ~ '^(?:[+-]?[0-9]+)$'
    AND STOCKX_TRY_CAST(
      CAST(REGEXP_REPLACE(qty_on_hand, '^[\s   -     　]+|[\s   -     　]+$', '', 'g') AS TEXT),
      CAST(NULL AS BIGINT)
    ) BETWEEN -2147483648 AND 2147483647
    THEN STOCKX_TRY_CAST(
      CAST(REGEXP_REPLACE(qty_on_hand, '^[\s   -     　]+|[\s   -     　]+$', '', 'g') AS TEXT),
      CAST(NULL AS BIGINT)
    )
  END AS quantity
FROM instants
