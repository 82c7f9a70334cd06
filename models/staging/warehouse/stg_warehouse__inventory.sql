{{ config(materialized='view') }}

{#-
  One row per raw WMS line, in file order, nothing filtered: the raw columns as
  read (stock_extra_rejects shows them back to the user) next to their
  normalised and parsed forms. Classification happens in int_inventory_lines.
  Each step is computed once, in the CTE that first needs it: this view runs
  for every raw line, and a regex is the dearest thing it does.
-#}
{%- set dims = variant_dimensions() %}

with raw as (

    -- Every raw column as text, whatever the file format typed it as.
    -- row_number() over () numbers lines in scan order: DuckDB preserves
    -- insertion order, for a glob in file-name order.
    select
        row_number() over () as line_number,
        cast(snapshot_id as varchar) as snapshot_id,
        cast(snapshot_at as varchar) as snapshot_at,
        cast(warehouse_code as varchar) as warehouse_code,
        cast(sku as varchar) as sku,
        {%- for dim in dims %}
        cast("{{ dim }}" as varchar) as "{{ dim }}",
        {%- endfor %}
        cast(bin_code as varchar) as bin_code,
        cast(qty_on_hand as varchar) as qty_on_hand
    from {{ source('warehouse', 'inventory') }}

),

normalised as (

    select
        *,
        {{ normalise_code('warehouse_code') }} as warehouse_key,
        {{ normalise_code('sku') }} as sku_key,
        {%- for dim in dims %}
        {{ normalise_value('"' ~ dim ~ '"') }} as "{{ dim }}_value",
        {%- endfor %}
        {{ normalise_id('snapshot_id') }} as snapshot_key,
        {{ trim_whitespace('qty_on_hand') }} as qty_text,
        {{ iso_timestamp_offset_length('snapshot_at') }} as offset_length
    from raw

),

parsed as (

    select
        *,
        {{ product_variant(normalised_suffix='_value') }} as product_variant,
        {{ iso_timestamp_local('snapshot_at', 'offset_length') }} as local_at,
        {{ iso_offset_minutes('snapshot_at', 'offset_length') }} as offset_minutes,
        {{ parse_quantity('qty_text', trimmed=true) }} as quantity
    from normalised

),

instants as (

    select
        *,
        {{ iso_timestamp_utc('local_at', 'offset_minutes') }} as utc_at
    from parsed

),

checked as (

    select
        *,
        -- A timestamp the export cannot write (local or UTC year outside 1-9999) is no timestamp.
        {{ in_export_years('local_at') }} and {{ in_export_years('utc_at') }} as exportable
    from instants

)

select
    line_number,
    snapshot_id,
    snapshot_at,
    warehouse_code,
    sku,
    {%- for dim in dims %}
    "{{ dim }}",
    {%- endfor %}
    bin_code,
    qty_on_hand,
    warehouse_key,
    sku_key,
    {%- for dim in dims %}
    "{{ dim }}_value",
    {%- endfor %}
    product_variant,
    snapshot_key,
    case when exportable then local_at end as snapshot_local_at,
    case when exportable then utc_at end as snapshot_utc_at,
    cast(case when exportable then local_at end as date) as stock_date_at,
    quantity
from checked
