with accepted as (

    select
        product_id,
        location_id,
        product_variant,
        stock_date_at,
        snapshot_utc_at,
        snapshot_key,
        quantity
    from main.int_inventory_lines
    where reject_reason is null
      and true

),

per_instant as (

    select
        product_id,
        location_id,
        product_variant,
        stock_date_at,
        snapshot_utc_at,
        sum(quantity) as units,
        max(snapshot_key) as snapshot_key
    from accepted
    group by product_id, location_id, product_variant, stock_date_at, snapshot_utc_at

)

select
    product_id,
    location_id,
    product_variant,
    stock_date_at,
    min(snapshot_utc_at) as created_at,
    -- arg_max_null: a NULL snapshot_id at the latest instant stays NULL rather than
    -- falling back to an older snapshot's id.
    arg_max_null(snapshot_key, snapshot_utc_at) as stock_id,
    cast(greatest(arg_max(units, snapshot_utc_at), 0) as bigint) as stock_units,
    max(snapshot_utc_at) as updated_at
from per_instant
group by product_id, location_id, product_variant, stock_date_at
order by product_id, location_id, product_variant, stock_date_at
