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

  The rows are stored in no particular order (sorting them was about a third
  of this model's time): the export and the sync read them in key order
  themselves, and an incremental build appends its window at the end anyway.
-#}

{#-
  The accepted variant lines in the window. keys and latest read them separately
  (two CTEs, not one named twice): a CTE named twice is materialised first, which
  cost more than reading these columns of int_inventory_lines again.
-#}
{%- set accepted_lines %}
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
        product_variant,
        stock_date_at,
        min(snapshot_utc_at) as created_at,
        max(snapshot_utc_at) as updated_at,
        sum(quantity) as units,
        max(snapshot_key) as snapshot_key
    from accepted
    group by product_id, location_id, product_variant, stock_date_at

),

-- Keys with lines at more than one instant (few): the sum over bins and the greatest
-- id of the lines at the latest instant only (max() gives NULL when none has an id).
latest as (

    select
        accepted.product_id,
        accepted.location_id,
        accepted.product_variant,
        accepted.stock_date_at,
        sum(accepted.quantity) as units,
        max(accepted.snapshot_key) as snapshot_key
    from accepted_again as accepted
    inner join keys
        on keys.product_id = accepted.product_id
        and keys.location_id = accepted.location_id
        and keys.product_variant = accepted.product_variant
        and keys.stock_date_at = accepted.stock_date_at
        and keys.updated_at = accepted.snapshot_utc_at
    where keys.created_at < keys.updated_at
    group by accepted.product_id, accepted.location_id, accepted.product_variant, accepted.stock_date_at

)

select
    keys.product_id,
    keys.location_id,
    keys.product_variant,
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
    and latest.product_variant = keys.product_variant
    and latest.stock_date_at = keys.stock_date_at
