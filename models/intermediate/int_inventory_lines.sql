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

)

select
    *,
    case
        when invalid_reason is not null then invalid_reason
        when row_number() over (
            partition by
                invalid_reason,
                snapshot_id,
                snapshot_at,
                warehouse_key,
                sku_key,
                {%- for dim in dims %}
                "{{ dim }}_value",
                {%- endfor %}
                bin_code,
                quantity
            order by line_number
        ) > 1 then 'duplicate_line'
    end as reject_reason
from checked
