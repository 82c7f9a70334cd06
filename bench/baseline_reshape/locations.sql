

-- Peak's location resource keys: one row per location_id that any warehouse
-- code maps to (several codes may name one site).

select
    location_id,
    min(location_name) as location_name,
    min(country) as country
from main.stg_warehouse__warehouses
group by location_id
order by location_id
