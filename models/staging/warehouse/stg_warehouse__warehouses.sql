{{ config(materialized='view') }}

-- The warehouse -> location mapping, one row per distinct (warehouse_code,
-- location_id) after normalisation. A code mapped to two locations fails the
-- `unique` test on warehouse_key rather than being guessed. Rows without a
-- code or a location_id map nothing and are dropped.

with raw as (

    select
        {{ normalise_code('cast(warehouse_code as varchar)') }} as warehouse_key,
        {{ normalise_id('cast(location_id as varchar)') }} as location_id,
        {{ normalise_value('cast(location_name as varchar)') }} as location_name,
        {{ normalise_code('cast(country as varchar)') }} as country
    from {{ source('warehouse', 'warehouses') }}

)

select
    warehouse_key,
    location_id,
    min(location_name) as location_name,
    min(country) as country
from raw
where warehouse_key is not null and location_id is not null
group by warehouse_key, location_id
