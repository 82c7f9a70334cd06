{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        window_column='stock_date_at',
        unique_key=['product_id', 'location_id', 'stock_date_at'],
        on_schema_change='fail',
        contract={'enforced': true},
    )
}}

{#-
  Peak's stock: the variant-less lines (every dimension blank), one row per
  (product_id, location_id, stock_date_at), by stock_extra's rules: only the
  lines at the key's latest snapshot instant (in UTC) count, stock_units sums
  them over bins floored at 0, stock_id is their greatest snapshot_id,
  created_at / updated_at the earliest / latest snapshot instant in UTC; the
  same replace_window incremental build. A product, location and day with
  variant lines is stock_extra's alone: its variant-less lines are rejected
  (mixed_variants), so nothing is counted twice.
-#}

with accepted as (

    select
        product_id,
        location_id,
        stock_date_at,
        snapshot_utc_at,
        snapshot_key,
        quantity
    from {{ ref('int_inventory_lines') }}
    where reject_reason is null
      and product_variant is null
      and {{ in_window('stock_date_at') }}

),

per_instant as (

    select
        product_id,
        location_id,
        stock_date_at,
        snapshot_utc_at,
        sum(quantity) as units,
        max(snapshot_key) as snapshot_key
    from accepted
    group by product_id, location_id, stock_date_at, snapshot_utc_at

)

select
    product_id,
    location_id,
    stock_date_at,
    min(snapshot_utc_at) as created_at,
    -- As in stock_extra: the latest instant's id, NULL when it has none.
    nullif(substr(arg_max(coalesce('#' || snapshot_key, ''), snapshot_utc_at), 2), '') as stock_id,
    cast(greatest(arg_max(units, snapshot_utc_at), 0) as bigint) as stock_units,
    max(snapshot_utc_at) as updated_at
from per_instant
group by product_id, location_id, stock_date_at
order by product_id, location_id, stock_date_at
