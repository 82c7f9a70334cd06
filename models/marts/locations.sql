{{ config(materialized='table') }}

-- Peak's location resource: one row per location_id that any warehouse code
-- maps to (several codes may name one site). The feed has no currency, region
-- or timestamps: those are null.

select
    location_id,
    min(country) as country,
    cast(null as timestamp) as created_at,
    cast(null as varchar) as currency,
    min(location_name) as name,
    cast(null as varchar) as region,
    cast(null as timestamp) as updated_at
from {{ ref('stg_warehouse__warehouses') }}
group by location_id
order by location_id
