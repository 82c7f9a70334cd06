

-- The SKU -> product mapping, one row per distinct (sku, product_id) after
-- normalisation: the export repeats rows and spells SKUs loosely. A SKU mapped
-- to two products fails the `unique` test on sku_key rather than being guessed.
-- Rows without a SKU or a product_id map nothing and are dropped.

with raw as (

    select
        nullif(upper(regexp_replace(cast(sku as varchar), '^[\s   -     　]+|[\s   -     　]+$', '', 'g')), '') as sku_key,
        nullif(regexp_replace(cast(product_id as varchar), '^[\s   -     　]+|[\s   -     　]+$', '', 'g'), '') as product_id,
        nullif(regexp_replace(regexp_replace(cast(product_name as varchar), '^[\s   -     　]+|[\s   -     　]+$', '', 'g'), '[\s   -     　]+', ' ', 'g'), '') as product_name,
        nullif(regexp_replace(regexp_replace(cast(category as varchar), '^[\s   -     　]+|[\s   -     　]+$', '', 'g'), '[\s   -     　]+', ' ', 'g'), '') as category
    from read_csv('@products_path@', header=true, skip=0, all_varchar=true, union_by_name=true, delim=',', quote='"', escape='"')

)

select
    sku_key,
    product_id,
    min(product_name) as product_name,
    min(category) as category
from raw
where sku_key is not null and product_id is not null
group by sku_key, product_id
