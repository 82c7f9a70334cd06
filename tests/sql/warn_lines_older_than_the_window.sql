{{ config(severity='warn') }}
{%- set since = window_start('stock_extra') %}
{%- set stock_since = window_start('stock') %}

-- Accepted lines dated before the window the last build of their model
-- replaced (stock_extra, or stock for a line without a variant) that no build
-- has taken in: a snapshot later than the newest one that model was built
-- from for that day (updated_at), or a day it has no row for. They arrived
-- after their day left the window (a late file); incremental builds keep those
-- rows as they were, by design. To take them in: `stockx build --full-refresh`,
-- or one build with a larger lookback, `--vars '{lookback_days: 30}'`.
-- Lines are compared with their day, not with their key: a key that moved
-- (a warehouse remapped to another location, a SKU to another product) has
-- no row under its new key before the window, yet its lines were taken in
-- when their day was built. What this gives up: a late file whose snapshots
-- are all earlier than the newest one already built for that day is not
-- listed (without a record of which lines a build read, its lines cannot be
-- told from lines taken in). One row per key, with its lines' count and
-- snapshot range.

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
      and (
          (product_variant is not null and stock_date_at < {{ since }})
          or (product_variant is null and stock_date_at < {{ stock_since }})
      )
    group by product_id, location_id, product_variant, stock_date_at

),

built_days as (

    select true as has_variant, stock_date_at, max(updated_at) as built_through
    from {{ ref('stock_extra') }}
    where stock_date_at < {{ since }}
    group by stock_date_at
    union all
    select false as has_variant, stock_date_at, max(updated_at) as built_through
    from {{ ref('stock') }}
    where stock_date_at < {{ stock_since }}
    group by stock_date_at

)

select late.*, built_days.built_through
from late
left join built_days
    on built_days.stock_date_at = late.stock_date_at
   and built_days.has_variant = (late.product_variant is not null)
where built_days.stock_date_at is null
   or late.last_line_at > built_days.built_through
