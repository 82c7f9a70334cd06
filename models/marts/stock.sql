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
  (mixed_variants), so nothing is counted twice. Stored in no particular
  order, as stock_extra is.
-#}

{#- The accepted variant-less lines in the window, read by two CTEs as in stock_extra. -#}
{%- set accepted_lines %}
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
{%- endset %}

with accepted as (
{{ accepted_lines }}

),

-- The same lines again, for the keys with more than one instant.
accepted_again as (
{{ accepted_lines }}

),

-- Per key: its earliest and latest snapshot instants, and the sum and greatest id of
-- all its lines, which are the latest instant's own when the key has only one instant.
keys as (

    select
        product_id,
        location_id,
        stock_date_at,
        min(snapshot_utc_at) as created_at,
        max(snapshot_utc_at) as updated_at,
        sum(quantity) as units,
        max(snapshot_key) as snapshot_key
    from accepted
    group by product_id, location_id, stock_date_at

),

-- Keys with lines at more than one instant (few): the sum over bins and the greatest
-- id of the lines at the latest instant only (max() gives NULL when none has an id).
latest as (

    select
        accepted.product_id,
        accepted.location_id,
        accepted.stock_date_at,
        sum(accepted.quantity) as units,
        max(accepted.snapshot_key) as snapshot_key
    from accepted_again as accepted
    inner join keys
        on keys.product_id = accepted.product_id
        and keys.location_id = accepted.location_id
        and keys.stock_date_at = accepted.stock_date_at
        and keys.updated_at = accepted.snapshot_utc_at
    where keys.created_at < keys.updated_at
    group by accepted.product_id, accepted.location_id, accepted.stock_date_at

)

select
    keys.product_id,
    keys.location_id,
    keys.stock_date_at,
    keys.created_at,
    -- One instant: the key's own sum and id; more: its latest instant's.
    case when keys.created_at = keys.updated_at then keys.snapshot_key else latest.snapshot_key end as stock_id,
    cast(greatest(case when keys.created_at = keys.updated_at then keys.units else latest.units end, 0) as bigint) as stock_units,
    keys.updated_at
from keys
left join latest
    on latest.product_id = keys.product_id
    and latest.location_id = keys.location_id
    and latest.stock_date_at = keys.stock_date_at
