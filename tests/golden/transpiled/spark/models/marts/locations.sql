/* Peak's location resource: one row per location_id that any warehouse code */
/* maps to (several codes may name one site). The feed has no currency, region */
/* or timestamps: those are null. */
SELECT
  location_id,
  MIN(country) AS country,
  CAST(NULL AS TIMESTAMP_NTZ) AS created_at,
  CAST(NULL AS STRING) AS currency,
  MIN(location_name) AS name,
  CAST(NULL AS STRING) AS region,
  CAST(NULL AS TIMESTAMP_NTZ) AS updated_at
FROM stockx.main.stg_warehouse__warehouses
GROUP BY
  location_id
ORDER BY
  location_id NULLS LAST
