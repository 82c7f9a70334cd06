WITH raw AS (
  /* Every raw column as text, whatever the file format typed it as. */
  /* line_number() numbers lines in scan order: DuckDB preserves */
  /* insertion order, for a glob in file-name order. */
  SELECT
    ROW_NUMBER() OVER () AS line_number,
    CAST(snapshot_id AS VARCHAR) AS snapshot_id,
    CAST(snapshot_at AS VARCHAR) AS snapshot_at,
    CAST(warehouse_code AS VARCHAR) AS warehouse_code,
    CAST(sku AS VARCHAR) AS sku,
    CAST("size" AS VARCHAR) AS "size",
    CAST("colour" AS VARCHAR) AS "colour",
    CAST("pack" AS VARCHAR) AS "pack",
    CAST(bin_code AS VARCHAR) AS bin_code,
    CAST(qty_on_hand AS VARCHAR) AS qty_on_hand
  FROM stockx.main.raw_inventory
), warehouse_codes AS (
  SELECT
    warehouse_code,
    NULLIF(
      UPPER(
        REGEXP_REPLACE(warehouse_code, '^[\\s\x0b   -     　]+|[\\s\x0b   -     　]+$', '')
      ),
      ''
    ) AS warehouse_key
  FROM (
    SELECT DISTINCT
      warehouse_code
    FROM raw
  ) AS distinct_values
), skus AS (
  SELECT
    sku,
    NULLIF(
      UPPER(REGEXP_REPLACE(sku, '^[\\s\x0b   -     　]+|[\\s\x0b   -     　]+$', '')),
      ''
    ) AS sku_key
  FROM (
    SELECT DISTINCT
      sku
    FROM raw
  ) AS distinct_values
), snapshot_ids AS (
  SELECT
    snapshot_id,
    NULLIF(
      REGEXP_REPLACE(snapshot_id, '^[\\s\x0b   -     　]+|[\\s\x0b   -     　]+$', ''),
      ''
    ) AS snapshot_key
  FROM (
    SELECT DISTINCT
      snapshot_id
    FROM raw
  ) AS distinct_values
), quantities AS (
  SELECT
    qty_on_hand,
    CASE
      WHEN REGEXP_LIKE(
        REGEXP_REPLACE(qty_on_hand, '^[\\s\x0b   -     　]+|[\\s\x0b   -     　]+$', ''),
        '^[+-]?[0-9]+$'
      )
      AND TRY_CAST(CAST(REGEXP_REPLACE(qty_on_hand, '^[\\s\x0b   -     　]+|[\\s\x0b   -     　]+$', '') AS VARCHAR) AS BIGINT) BETWEEN -2147483648 AND 2147483647
      THEN TRY_CAST(CAST(REGEXP_REPLACE(qty_on_hand, '^[\\s\x0b   -     　]+|[\\s\x0b   -     　]+$', '') AS VARCHAR) AS BIGINT)
    END AS quantity
  FROM (
    SELECT DISTINCT
      qty_on_hand
    FROM raw
  ) AS distinct_values
), variants AS (
  /* Whether a value makes its variant ambiguous is decided here too, once per */
  /* distinct combination (a regular expression per line cost more than the lookup). */
  SELECT
    normalised.*,
    COALESCE(
      (
        CHARINDEX(':', normalised."size_value") > 0
        OR CHARINDEX('|', normalised."size_value") > 0
        OR REGEXP_LIKE(normalised."size_value", '[\\x00-\\x1f\\x7f-\\x9f]')
      )
      OR (
        CHARINDEX(':', normalised."colour_value") > 0
        OR CHARINDEX('|', normalised."colour_value") > 0
        OR REGEXP_LIKE(normalised."colour_value", '[\\x00-\\x1f\\x7f-\\x9f]')
      )
      OR (
        CHARINDEX(':', normalised."pack_value") > 0
        OR CHARINDEX('|', normalised."pack_value") > 0
        OR REGEXP_LIKE(normalised."pack_value", '[\\x00-\\x1f\\x7f-\\x9f]')
      ),
      FALSE
    ) AS variant_is_ambiguous
  FROM (
    SELECT
      "size",
      NULLIF(
        TRIM(
          REGEXP_REPLACE(REGEXP_REPLACE("size", '[­​-‏‪-‮⁠-⁤﻿]', ''), '[\\s\x0b   -     　]+', ' ')
        ),
        ''
      ) AS "size_value",
      "colour",
      NULLIF(
        TRIM(
          REGEXP_REPLACE(REGEXP_REPLACE("colour", '[­​-‏‪-‮⁠-⁤﻿]', ''), '[\\s\x0b   -     　]+', ' ')
        ),
        ''
      ) AS "colour_value",
      "pack",
      NULLIF(
        TRIM(
          REGEXP_REPLACE(REGEXP_REPLACE("pack", '[­​-‏‪-‮⁠-⁤﻿]', ''), '[\\s\x0b   -     　]+', ' ')
        ),
        ''
      ) AS "pack_value",
      NULLIF(
        SUBSTRING(
          COALESCE(
            '|' || 'size:' || NULLIF(
              TRIM(
                REGEXP_REPLACE(REGEXP_REPLACE("size", '[­​-‏‪-‮⁠-⁤﻿]', ''), '[\\s\x0b   -     　]+', ' ')
              ),
              ''
            ),
            ''
          ) || COALESCE(
            '|' || 'colour:' || NULLIF(
              TRIM(
                REGEXP_REPLACE(REGEXP_REPLACE("colour", '[­​-‏‪-‮⁠-⁤﻿]', ''), '[\\s\x0b   -     　]+', ' ')
              ),
              ''
            ),
            ''
          ) || COALESCE(
            '|' || 'pack:' || NULLIF(
              TRIM(
                REGEXP_REPLACE(REGEXP_REPLACE("pack", '[­​-‏‪-‮⁠-⁤﻿]', ''), '[\\s\x0b   -     　]+', ' ')
              ),
              ''
            ),
            ''
          ),
          2
        ),
        ''
      ) AS product_variant
    FROM (
      SELECT DISTINCT
        "size",
        "colour",
        "pack"
      FROM raw
    ) AS distinct_values
  ) AS normalised
), snapshot_forms AS (
  SELECT
    snapshot_at,
    CASE
      WHEN REGEXP_LIKE(
        snapshot_at,
        '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,9})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$'
      )
      AND CHARINDEX(RIGHT(snapshot_at, 1), '0123456789Z') > 0
      THEN CASE
        WHEN RIGHT(snapshot_at, 1) = 'Z'
        THEN 1
        WHEN SUBSTRING(snapshot_at, LENGTH(snapshot_at) - 5, 1) IN ('+', '-')
        THEN 6
        ELSE 0
      END
    END AS offset_length
  FROM (
    SELECT DISTINCT
      snapshot_at
    FROM raw
  ) AS distinct_values
), snapshot_parts AS (
  SELECT
    snapshot_at,
    CASE
      WHEN NOT offset_length IS NULL
      THEN TRY_CAST(CAST(SUBSTRING(snapshot_at, 1, 10) || ' ' || SUBSTRING(snapshot_at, 12, LEAST_IGNORE_NULLS(LENGTH(snapshot_at) - 11 - offset_length, 15)) AS VARCHAR) AS TIMESTAMPNTZ)
    END AS local_at,
    CASE
      WHEN offset_length = 6
      THEN (
        CASE
          WHEN SUBSTRING(snapshot_at, LENGTH(snapshot_at) - 5, 1) = '-'
          THEN -1
          ELSE 1
        END
      ) * (
        CAST(SUBSTRING(snapshot_at, LENGTH(snapshot_at) - 4, 2) AS INT) * 60 + CAST(RIGHT(snapshot_at, 2) AS INT)
      )
      ELSE 0
    END AS offset_minutes
  FROM snapshot_forms
), snapshot_instants AS (
  SELECT
    snapshot_at,
    local_at,
    (
      local_at - offset_minutes * INTERVAL '1 MINUTE'
    ) AS utc_at
  FROM snapshot_parts
), snapshots AS (
  /* A timestamp the export cannot write (local or UTC year outside 1-9999) is no timestamp. */
  SELECT
    snapshot_at,
    CASE WHEN exportable THEN local_at END AS snapshot_local_at,
    CASE WHEN exportable THEN utc_at END AS snapshot_utc_at,
    CAST(CASE WHEN exportable THEN local_at END AS DATE) AS stock_date_at
  FROM (
    SELECT
      *,
      (
        local_at BETWEEN CAST('0001-01-01 00:00:00' AS TIMESTAMPNTZ) AND CAST('9999-12-31 23:59:59.999999' AS TIMESTAMPNTZ)
      )
      AND (
        utc_at BETWEEN CAST('0001-01-01 00:00:00' AS TIMESTAMPNTZ) AND CAST('9999-12-31 23:59:59.999999' AS TIMESTAMPNTZ)
      ) AS exportable
    FROM snapshot_instants
  ) AS checked
)
SELECT
  raw.line_number,
  raw.snapshot_id,
  raw.snapshot_at,
  raw.warehouse_code,
  raw.sku,
  raw."size",
  raw."colour",
  raw."pack",
  raw.bin_code,
  raw.qty_on_hand,
  warehouse_codes.warehouse_key,
  skus.sku_key,
  variants."size_value",
  variants."colour_value",
  variants."pack_value",
  variants.product_variant,
  variants.variant_is_ambiguous,
  snapshot_ids.snapshot_key,
  snapshots.snapshot_local_at,
  snapshots.snapshot_utc_at,
  snapshots.stock_date_at,
  quantities.quantity
FROM raw
/* A NULL raw value matches no row here, and every value looked up is NULL for it, as the */
/* macros give; a combination of dimensions may hold NULLs, so it is matched NULL-safe. */
LEFT JOIN warehouse_codes
  ON warehouse_codes.warehouse_code = raw.warehouse_code
LEFT JOIN skus
  ON skus.sku = raw.sku
LEFT JOIN snapshot_ids
  ON snapshot_ids.snapshot_id = raw.snapshot_id
LEFT JOIN quantities
  ON quantities.qty_on_hand = raw.qty_on_hand
LEFT JOIN snapshots
  ON snapshots.snapshot_at = raw.snapshot_at
LEFT JOIN variants
  ON variants."size" IS NOT DISTINCT FROM raw."size"
  AND variants."colour" IS NOT DISTINCT FROM raw."colour"
  AND variants."pack" IS NOT DISTINCT FROM raw."pack"
