{%- set since = window_start('stock_extra') %}

-- The other half of the accounting: inside the window the last build of
-- stock_extra replaced (every date from window_start on; every date after a
-- first build or a full refresh), the keys of the accepted lines and the keys
-- of stock_extra are the same set (lines with a variant: the others are
-- stock's, assert_stock_and_stock_extra_are_disjoint): nothing accepted is dropped, nothing in
-- stock_extra comes from nowhere. Rows dated before the window were kept as
-- they were by design (their files may be gone, their SKU may have left the
-- feed); late lines for those dates are warn_lines_older_than_the_window's.
-- Returns each key found on one side only.

with line_keys as (

    select distinct product_id, location_id, product_variant, stock_date_at
    from {{ ref('int_inventory_lines') }}
    where reject_reason is null
      and product_variant is not null
      and stock_date_at >= {{ since }}

),

table_keys as (

    select product_id, location_id, product_variant, stock_date_at
    from {{ ref('stock_extra') }}
    where stock_date_at >= {{ since }}

)

select 'accepted lines only' as found_in, * from (select * from line_keys except select * from table_keys)
union all
select 'stock_extra only' as found_in, * from (select * from table_keys except select * from line_keys)
