{{ config(severity='warn') }}
{%- set since = window_start('stock_extra') %}

-- Accepted lines dated before the window the last build of stock_extra
-- replaced, which stock_extra (or stock, for a line without a variant) does not reflect: their key has no row, or a line
-- was snapshot outside the row's created_at..updated_at. They arrived after
-- their day left the window (a late file); incremental builds keep those rows
-- as they were, by design. To take them in: `stockx build --full-refresh`, or
-- one build with a larger lookback, `--vars '{lookback_days: 30}'`.
-- One row per key, with its lines' count and snapshot range.

with late as (

    select
        product_id,
        location_id,
        product_variant,
        stock_date_at,
        count(*) as lines,
        min(snapshot_utc_at) as first_line_at,
        max(snapshot_utc_at) as last_line_at
    from {{ ref('int_inventory_lines') }}
    where reject_reason is null
      and stock_date_at < {{ since }}
    group by product_id, location_id, product_variant, stock_date_at

),

built as (

    select product_id, location_id, product_variant, stock_date_at, created_at, updated_at
    from {{ ref('stock_extra') }}
    union all
    select product_id, location_id, cast(null as varchar), stock_date_at, created_at, updated_at
    from {{ ref('stock') }}

)

select late.*, built.created_at, built.updated_at
from late
left join built
    on built.product_id = late.product_id
   and built.location_id = late.location_id
   and built.product_variant is not distinct from late.product_variant
   and built.stock_date_at = late.stock_date_at
where built.product_id is null
   or late.first_line_at < built.created_at
   or late.last_line_at > built.updated_at
