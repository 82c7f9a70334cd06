

with lines as (

    select * from main.stg_warehouse__inventory

),

warehouses as (

    select warehouse_key, location_id from main.stg_warehouse__warehouses

),

products as (

    select sku_key, product_id from main.stg_warehouse__products

),

checked as (

    select
        lines.*,
        warehouses.location_id,
        products.product_id,
        case
            when lines.snapshot_local_at is null then 'bad_timestamp'
            when lines.quantity is null then 'bad_quantity'
            when warehouses.location_id is null then 'unknown_warehouse'
            when products.product_id is null then 'unknown_sku'
            when lines.product_variant is null then 'no_variant'
            when
                (strpos(lines."size_value", ':') > 0 or strpos(lines."size_value", '|') > 0) or
                (strpos(lines."colour_value", ':') > 0 or strpos(lines."colour_value", '|') > 0) or
                (strpos(lines."pack_value", ':') > 0 or strpos(lines."pack_value", '|') > 0)
                then 'ambiguous_variant'
        end as invalid_reason
    from lines
    left join warehouses on warehouses.warehouse_key = lines.warehouse_key
    left join products on products.sku_key = lines.sku_key

),

-- The valid lines once each (a duplicate_line is an exact copy, so DISTINCT drops
-- just the copies), with what stock_extra sums them by.
distinct_lines as (

    select distinct
        snapshot_id,
        snapshot_at,
        warehouse_key,
        sku_key,
        "size_value",
        "colour_value",
        "pack_value",
        bin_code,
        quantity,
        product_id,
        location_id,
        product_variant,
        stock_date_at,
        snapshot_utc_at
    from checked
    where invalid_reason is null

),

-- Per key and snapshot instant, the sum over bins stock_extra takes; recency 1 is the key's latest instant.
instants as (

    select
        product_id,
        location_id,
        product_variant,
        stock_date_at,
        sum(quantity) as units,
        row_number() over (
            partition by product_id, location_id, product_variant, stock_date_at
            order by snapshot_utc_at desc
        ) as recency
    from distinct_lines
    group by product_id, location_id, product_variant, stock_date_at, snapshot_utc_at

),

overflowing as (

    select product_id, location_id, product_variant, stock_date_at
    from instants
    where recency = 1
      and units not between -2147483648 and 2147483647

)

select
    checked.*,
    case
        when checked.invalid_reason is not null then checked.invalid_reason
        when row_number() over (
            partition by
                checked.invalid_reason,
                checked.snapshot_id,
                checked.snapshot_at,
                checked.warehouse_key,
                checked.sku_key,
                checked."size_value",
                checked."colour_value",
                checked."pack_value",
                checked.bin_code,
                checked.quantity
            order by checked.line_number
        ) > 1 then 'duplicate_line'
        when overflowing.product_id is not null then 'quantity_overflow'
    end as reject_reason
from checked
left join overflowing
    on overflowing.product_id = checked.product_id
    and overflowing.location_id = checked.location_id
    and overflowing.product_variant = checked.product_variant
    and overflowing.stock_date_at = checked.stock_date_at
