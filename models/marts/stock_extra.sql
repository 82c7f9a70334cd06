{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        window_column='stock_date_at',
        unique_key=['product_id', 'location_id', 'product_variant', 'stock_date_at'],
        on_schema_change='fail',
        contract={'enforced': true},
    )
}}

{#-
  Peak's stock_extra: one row per (product_id, location_id, product_variant,
  stock_date_at), stock_date_at being the warehouse-local date of the snapshot.
  Only the lines at the key's latest snapshot instant (in UTC) count:
  stock_units sums them over bins, floored at 0; stock_id is their greatest
  snapshot_id (compared as text). created_at / updated_at are the earliest /
  latest snapshot instant of all the key's accepted lines, in UTC.

  Incremental builds replace a window of dates (incremental_strategy
  'replace_window'): every row dated from var('lookback_days') days before the
  newest built day (at most tomorrow) on is deleted and rebuilt from every
  accepted line of those dates. All of a key's lines share its date, so inside
  the window the table equals a full refresh, keys no longer produced there
  included (a SKU that left the product feed, a warehouse moved to another
  location). Older rows stay as they were; lines for them that arrive later
  need --full-refresh or one build with a larger lookback_days
  (warn_lines_older_than_the_window lists them).
-#}

with accepted as (

    select
        product_id,
        location_id,
        product_variant,
        stock_date_at,
        snapshot_utc_at,
        snapshot_key,
        quantity
    from {{ ref('int_inventory_lines') }}
    where reject_reason is null
      and product_variant is not null
      and {{ in_window('stock_date_at') }}

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
    -- The latest instant's id, and NULL when it has none, rather than an older
    -- snapshot's id: arg_max skips NULL values, so each id is marked with '#' and a
    -- missing one is '' (never NULL), then the mark is taken off again.
    nullif(substr(arg_max(coalesce('#' || snapshot_key, ''), snapshot_utc_at), 2), '') as stock_id,
    cast(greatest(arg_max(units, snapshot_utc_at), 0) as bigint) as stock_units,
    max(snapshot_utc_at) as updated_at
from per_instant
group by product_id, location_id, product_variant, stock_date_at
order by product_id, location_id, product_variant, stock_date_at
