{{ config(materialized='table') }}

{#-
  Every raw line with its verdict: reject_reason is NULL for a line that feeds
  stock_extra, else the first reason that applies, in this order:
    bad_timestamp, bad_quantity, unknown_warehouse, unknown_sku, no_variant,
    then duplicate_line for a valid line equal to an earlier valid line (all
    columns, codes and dimension values normalised, quantity as a number).
  A table, so line numbers and verdicts are computed once and stock_extra,
  stock_extra_rejects and the accounting test all see the same ones.
-#}
{%- set dims = variant_dimensions() %}
{#- The columns two lines are compared on for duplicate_line: all that are read, normalised. -#}
{%- set compared = ['snapshot_id', 'snapshot_at', 'warehouse_key', 'sku_key'] -%}
{%- for dim in dims %}{% set _ = compared.append('"' ~ dim ~ '_value"') %}{% endfor -%}
{%- set _ = compared.extend(['bin_code', 'quantity']) %}

with lines as (

    select * from {{ ref('stg_warehouse__inventory') }}

),

warehouses as (

    select warehouse_key, location_id from {{ ref('stg_warehouse__warehouses') }}

),

products as (

    select sku_key, product_id from {{ ref('stg_warehouse__products') }}

),

checked as (

    select
        lines.*,
        warehouses.location_id,
        products.product_id,
        case
            when lines.snapshot_local_at is null then 'bad_timestamp'
            when lines.quantity is null then 'bad_quantity'
            when warehouses.location_id is null then 'unknown_warehouse'
            when products.product_id is null then 'unknown_sku'
            when lines.product_variant is null then 'no_variant'
        end as invalid_reason
    from lines
    left join warehouses on warehouses.warehouse_key = lines.warehouse_key
    left join products on products.sku_key = lines.sku_key

),

-- duplicate_line: a valid line equal on every compared column to an earlier valid
-- line; the first copy counts. Comparing every line by a window over all those columns
-- was the costliest step of the build, so lines are first grouped by a hash of those columns and only the
-- (rare) lines whose hash repeats are compared column by column.
hashed as (

    select
        *,
        case when invalid_reason is null then hash(
            {%- for column in compared %}
            {{ column }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        ) end as line_hash
    from checked

),

repeated_hashes as (

    select line_hash
    from hashed
    where line_hash is not null
    group by line_hash
    having count(*) > 1

),

candidates as (

    select line_number, line_hash, {{ compared | join(', ') }}
    from hashed
    where line_hash in (select line_hash from repeated_hashes)

),

later_copies as (

    select distinct later.line_number
    from candidates as earlier
    join candidates as later
        on later.line_hash = earlier.line_hash
        and later.line_number > earlier.line_number
        {%- for column in compared %}
        and later.{{ column }} is not distinct from earlier.{{ column }}
        {%- endfor %}

)

select
    * exclude (line_hash),
    case
        when invalid_reason is not null then invalid_reason
        when line_number in (select line_number from later_copies) then 'duplicate_line'
    end as reject_reason
from hashed
