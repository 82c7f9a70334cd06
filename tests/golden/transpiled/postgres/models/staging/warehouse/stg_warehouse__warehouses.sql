/* The warehouse -> location mapping, one row per distinct (warehouse_code, */
/* location_id) after normalisation. A code mapped to two locations fails the */
/* `unique` test on warehouse_key rather than being guessed. Rows without a */
/* code or a location_id map nothing and are dropped. */
WITH raw AS MATERIALIZED (
  SELECT
    NULLIF(
      UPPER(
        REGEXP_REPLACE(CAST(warehouse_code AS TEXT), '^[\s   -     　]+|[\s   -     　]+$', '', 'g')
      ),
      ''
    ) AS warehouse_key,
    NULLIF(
      REGEXP_REPLACE(CAST(location_id AS TEXT), '^[\s   -     　]+|[\s   -     　]+$', '', 'g'),
      ''
    ) AS location_id,
    NULLIF(
      TRIM(REGEXP_REPLACE(CAST(location_name AS TEXT), '[\s   -     　]+', ' ', 'g')),
      ''
    ) AS location_name,
    NULLIF(
      UPPER(
        REGEXP_REPLACE(CAST(country AS TEXT), '^[\s   -     　]+|[\s   -     　]+$', '', 'g')
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
