-- The other half of the accounting: the keys of the accepted lines and the
-- keys of stock_extra are the same set (nothing accepted is dropped, nothing
-- in stock_extra comes from nowhere). Returns each key found on one side only.

with line_keys as (

    select distinct product_id, location_id, product_variant, stock_date_at
    from {{ ref('int_inventory_lines') }}
    where reject_reason is null

),

table_keys as (

    select product_id, location_id, product_variant, stock_date_at
    from {{ ref('stock_extra') }}

)

select 'accepted lines only' as found_in, * from (select * from line_keys except select * from table_keys)
union all
select 'stock_extra only' as found_in, * from (select * from table_keys except select * from line_keys)
