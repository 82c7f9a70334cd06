{{ config(materialized='view') }}

{#-
  One row per raw WMS line, in file order, nothing filtered: the raw columns as
  read (stock_extra_rejects shows them back to the user) next to their
  normalised and parsed forms. Classification happens in int_inventory_lines.
  Each distinct raw value is normalised or parsed once, and every line looks
  its value up: an export repeats a few codes, sizes and timestamps millions of times.
-#}
{%- set dims = variant_dimensions() %}

with raw as (

    -- Every raw column as text, whatever the file format typed it as.
    -- line_number() numbers lines in scan order: DuckDB preserves
    -- insertion order, for a glob in file-name order.
    select
        {{ line_number() }} as line_number,
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

warehouse_codes as (

    select warehouse_code, {{ normalise_code('warehouse_code') }} as warehouse_key
    from (select distinct warehouse_code from raw) as distinct_values

),

skus as (

    select sku, {{ normalise_code('sku') }} as sku_key
    from (select distinct sku from raw) as distinct_values

),

snapshot_ids as (

    select snapshot_id, {{ normalise_id('snapshot_id') }} as snapshot_key
    from (select distinct snapshot_id from raw) as distinct_values

),

quantities as (

    select qty_on_hand, {{ parse_quantity('qty_on_hand') }} as quantity
    from (select distinct qty_on_hand from raw) as distinct_values

),

variants as (

    -- Whether a value makes its variant ambiguous is decided here too, once per
    -- distinct combination (a regular expression per line cost more than the lookup).
    select
        normalised.*,
        coalesce(
            {%- for dim in dims %}
            {{ variant_value_is_ambiguous('normalised."' ~ dim ~ '_value"') }}{% if not loop.last %} or{% endif %}
            {%- endfor %},
            false) as variant_is_ambiguous
    from (
        select
            {%- for dim in dims %}
            "{{ dim }}",
            {{ normalise_dimension_value('"' ~ dim ~ '"') }} as "{{ dim }}_value",
            {%- endfor %}
            {{ product_variant() }} as product_variant
        from (select distinct {% for dim in dims %}"{{ dim }}"{% if not loop.last %}, {% endif %}{% endfor %} from raw) as distinct_values
    ) as normalised

),

snapshot_forms as (

    select snapshot_at, {{ iso_timestamp_offset_length('snapshot_at') }} as offset_length
    from (select distinct snapshot_at from raw) as distinct_values

),

snapshot_parts as (

    select
        snapshot_at,
        {{ iso_timestamp_local('snapshot_at', 'offset_length') }} as local_at,
        {{ iso_offset_minutes('snapshot_at', 'offset_length') }} as offset_minutes
    from snapshot_forms

),

snapshot_instants as (

    select
        snapshot_at,
        local_at,
        {{ iso_timestamp_utc('local_at', 'offset_minutes') }} as utc_at
    from snapshot_parts

),

snapshots as (

    -- A timestamp the export cannot write (local or UTC year outside 1-9999) is no timestamp.
    select
        snapshot_at,
        case when exportable then local_at end as snapshot_local_at,
        case when exportable then utc_at end as snapshot_utc_at,
        cast(case when exportable then local_at end as date) as stock_date_at
    from (
        select *, {{ in_export_years('local_at') }} and {{ in_export_years('utc_at') }} as exportable
        from snapshot_instants
    ) as checked

)

select
    raw.line_number,
    raw.snapshot_id,
    raw.snapshot_at,
    raw.warehouse_code,
    raw.sku,
    {%- for dim in dims %}
    raw."{{ dim }}",
    {%- endfor %}
    raw.bin_code,
    raw.qty_on_hand,
    warehouse_codes.warehouse_key,
    skus.sku_key,
    {%- for dim in dims %}
    variants."{{ dim }}_value",
    {%- endfor %}
    variants.product_variant,
    variants.variant_is_ambiguous,
    snapshot_ids.snapshot_key,
    snapshots.snapshot_local_at,
    snapshots.snapshot_utc_at,
    snapshots.stock_date_at,
    quantities.quantity
from raw
-- A NULL raw value matches no row here, and every value looked up is NULL for it, as the
-- macros give; a combination of dimensions may hold NULLs, so it is matched NULL-safe.
left join warehouse_codes on warehouse_codes.warehouse_code = raw.warehouse_code
left join skus on skus.sku = raw.sku
left join snapshot_ids on snapshot_ids.snapshot_id = raw.snapshot_id
left join quantities on quantities.qty_on_hand = raw.qty_on_hand
left join snapshots on snapshots.snapshot_at = raw.snapshot_at
left join variants
    on {% for dim in dims -%}
    {{ null_safe_equal('variants."' ~ dim ~ '"', 'raw."' ~ dim ~ '"') }}
    {%- if not loop.last %}
    and {% endif %}
    {%- endfor %}
