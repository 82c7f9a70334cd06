/* Peak's location resource keys: one row per location_id that any warehouse */
/* code maps to (several codes may name one site). */
SELECT
  location_id,
  MIN(location_name) AS location_name,
  MIN(country) AS country
FROM stockx.main.stg_warehouse__warehouses
GROUP BY
  location_id
ORDER BY
  location_id NULLS LAST
