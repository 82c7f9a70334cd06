

-- The warehouse -> location mapping, one row per distinct (warehouse_code,
-- location_id) after normalisation. A code mapped to two locations fails the
-- `unique` test on warehouse_key rather than being guessed. Rows without a
-- code or a location_id map nothing and are dropped.

with raw as (

    select
        nullif(upper(regexp_replace(cast(warehouse_code as varchar), '^[\s   -     　]+|[\s   -     　]+$', '', 'g')), '') as warehouse_key,
        nullif(regexp_replace(cast(location_id as varchar), '^[\s   -     　]+|[\s   -     　]+$', '', 'g'), '') as location_id,
        nullif(regexp_replace(regexp_replace(cast(location_name as varchar), '^[\s   -     　]+|[\s   -     　]+$', '', 'g'), '[\s   -     　]+', ' ', 'g'), '') as location_name,
        nullif(upper(regexp_replace(cast(country as varchar), '^[\s   -     　]+|[\s   -     　]+$', '', 'g')), '') as country
    from read_csv('@warehouses_path@', header=true, skip=0, all_varchar=true, union_by_name=true, delim=',', quote='"', escape='"')

)

select
    warehouse_key,
    location_id,
    min(location_name) as location_name,
    min(country) as country
from raw
where warehouse_key is not null and location_id is not null
group by warehouse_key, location_id
