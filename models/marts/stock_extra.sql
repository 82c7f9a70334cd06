{{
    config(
        materialized='incremental',
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

  Incremental runs recompute whole keys from every accepted line dated within
  var('lookback_days') of the newest day already built, and merge on the key:
  all of a key's lines share its date, so a recomputed key equals the full
  refresh. A snapshot arriving later than that needs --full-refresh, and so
  does removing a future-dated line (the window follows the newest built day;
  the stock_extra_has_no_future_dates test warns about them).
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
    {%- if is_incremental() %}
      and stock_date_at >= (
          select coalesce(max(stock_date_at), date '0001-01-01') - cast({{ var('lookback_days', 3) }} as integer)
          from {{ this }}
      )
    {%- endif %}

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
