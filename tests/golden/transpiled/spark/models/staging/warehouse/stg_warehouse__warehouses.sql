/* The warehouse -> location mapping, one row per distinct (warehouse_code, */
/* location_id) after normalisation. A code mapped to two locations fails the */
/* `unique` test on warehouse_key rather than being guessed. Rows without a */
/* code or a location_id map nothing and are dropped. */
WITH raw AS (
  SELECT
    NULLIF(
      UPPER(
        REGEXP_REPLACE(
          CAST(warehouse_code AS STRING),
          '^[\\s\013   -     　]+|[\\s\013   -     　]+\\z',
          ''
        )
      ),
      ''
    ) AS warehouse_key,
    NULLIF(
      REGEXP_REPLACE(CAST(location_id AS STRING), '^[\\s\013   -     　]+|[\\s\013   -     　]+\\z', ''),
      ''
    ) AS location_id,
    NULLIF(
      TRIM(REGEXP_REPLACE(CAST(location_name AS STRING), '[\\s\013   -     　]+', ' ')),
      ''
    ) AS location_name,
    NULLIF(
      UPPER(
        REGEXP_REPLACE(CAST(country AS STRING), '^[\\s\013   -     　]+|[\\s\013   -     　]+\\z', '')
      ),
      ''
    ) AS country
  FROM stockx.main.raw_warehouses
)
SELECT
  warehouse_key,
  location_id,
  MIN(location_name) AS location_name,
  MIN(country) AS country
FROM raw
WHERE
  NOT warehouse_key IS NULL AND NOT location_id IS NULL
GROUP BY
  warehouse_key,
  location_id
