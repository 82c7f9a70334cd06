{{ config(materialized='view') }}

-- The SKU -> product mapping, one row per distinct (sku, product_id) after
-- normalisation: the export repeats rows and spells SKUs loosely. A SKU mapped
-- to two products fails the `unique` test on sku_key rather than being guessed.
-- Rows without a SKU or a product_id map nothing and are dropped.

with raw as (

    select
        {{ normalise_code('cast(sku as varchar)') }} as sku_key,
        {{ normalise_id('cast(product_id as varchar)') }} as product_id,
        {{ normalise_value('cast(product_name as varchar)') }} as product_name,
        {{ normalise_value('cast(category as varchar)') }} as category
    from {{ source('warehouse', 'products') }}

)

select
    sku_key,
    product_id,
    min(product_name) as product_name,
    min(category) as category
from raw
where sku_key is not null and product_id is not null
group by sku_key, product_id
