

with raw as (

    -- Every raw column as text, whatever the file format typed it as.
    -- row_number() over () numbers lines in scan order: DuckDB preserves
    -- insertion order, for a glob in file-name order.
    select
        row_number() over () as line_number,
        cast(snapshot_id as varchar) as snapshot_id,
        cast(snapshot_at as varchar) as snapshot_at,
        cast(warehouse_code as varchar) as warehouse_code,
        cast(sku as varchar) as sku,
        cast("size" as varchar) as "size",
        cast("colour" as varchar) as "colour",
        cast("pack" as varchar) as "pack",
        cast(bin_code as varchar) as bin_code,
        cast(qty_on_hand as varchar) as qty_on_hand
    from read_csv('@inventory_path@', header=true, skip=0, all_varchar=true, union_by_name=true, delim=',', quote='"', escape='"')

),

parsed as (

    select
        *,
        regexp_extract(
    snapshot_at,
    '^(\d{4}-\d{2}-\d{2})[T ]((?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?)(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?$',
    ['date_part', 'time_part', 'offset_part']
) as snapshot_parts
    from raw

),

instants as (

    select
        *,
        case
    when snapshot_parts.date_part <> ''
        then try_cast(snapshot_parts.date_part || ' ' || snapshot_parts.time_part as timestamp)
end as local_at,
        (case
    when snapshot_parts.date_part <> ''
        then try_cast(snapshot_parts.date_part || ' ' || snapshot_parts.time_part as timestamp)
end) - to_minutes(
    case
        when snapshot_parts.offset_part in ('', 'Z') then 0
        else (case when left(snapshot_parts.offset_part, 1) = '-' then -1 else 1 end)
            * (cast(substr(snapshot_parts.offset_part, 2, 2) as integer) * 60
               + cast(substr(snapshot_parts.offset_part, 5, 2) as integer))
    end
) as utc_at
    from parsed

)

select
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
    nullif(upper(regexp_replace(warehouse_code, '^[\s   -     　]+|[\s   -     　]+$', '', 'g')), '') as warehouse_key,
    nullif(upper(regexp_replace(sku, '^[\s   -     　]+|[\s   -     　]+$', '', 'g')), '') as sku_key,
    nullif(regexp_replace(regexp_replace("size", '^[\s   -     　]+|[\s   -     　]+$', '', 'g'), '[\s   -     　]+', ' ', 'g'), '') as "size_value",
    nullif(regexp_replace(regexp_replace("colour", '^[\s   -     　]+|[\s   -     　]+$', '', 'g'), '[\s   -     　]+', ' ', 'g'), '') as "colour_value",
    nullif(regexp_replace(regexp_replace("pack", '^[\s   -     　]+|[\s   -     　]+$', '', 'g'), '[\s   -     　]+', ' ', 'g'), '') as "pack_value",
    nullif(concat_ws('|',
    'size:' || nullif(regexp_replace(regexp_replace("size", '^[\s   -     　]+|[\s   -     　]+$', '', 'g'), '[\s   -     　]+', ' ', 'g'), ''),
    'colour:' || nullif(regexp_replace(regexp_replace("colour", '^[\s   -     　]+|[\s   -     　]+$', '', 'g'), '[\s   -     　]+', ' ', 'g'), ''),
    'pack:' || nullif(regexp_replace(regexp_replace("pack", '^[\s   -     　]+|[\s   -     　]+$', '', 'g'), '[\s   -     　]+', ' ', 'g'), '')
), '') as product_variant,
    nullif(regexp_replace(snapshot_id, '^[\s   -     　]+|[\s   -     　]+$', '', 'g'), '') as snapshot_key,
    -- A timestamp the export cannot write (local or UTC year outside 1-9999) is no timestamp.
    case when (local_at between timestamp '0001-01-01 00:00:00' and timestamp '9999-12-31 23:59:59.999999') and (utc_at between timestamp '0001-01-01 00:00:00' and timestamp '9999-12-31 23:59:59.999999') then local_at end as snapshot_local_at,
    case when (local_at between timestamp '0001-01-01 00:00:00' and timestamp '9999-12-31 23:59:59.999999') and (utc_at between timestamp '0001-01-01 00:00:00' and timestamp '9999-12-31 23:59:59.999999') then utc_at end as snapshot_utc_at,
    cast(case when (local_at between timestamp '0001-01-01 00:00:00' and timestamp '9999-12-31 23:59:59.999999') and (utc_at between timestamp '0001-01-01 00:00:00' and timestamp '9999-12-31 23:59:59.999999') then local_at end as date) as stock_date_at,
    case
    when regexp_full_match(regexp_replace(qty_on_hand, '^[\s   -     　]+|[\s   -     　]+$', '', 'g'), '[+-]?[0-9]+')
     and try_cast(regexp_replace(qty_on_hand, '^[\s   -     　]+|[\s   -     　]+$', '', 'g') as bigint) between -2147483648 and 2147483647
        then try_cast(regexp_replace(qty_on_hand, '^[\s   -     　]+|[\s   -     　]+$', '', 'g') as bigint)
end as quantity
from instants
