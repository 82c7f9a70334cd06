{{ config(materialized='table') }}

-- Peak's product resource: one row per product_id that any SKU maps to.
-- Several SKUs may share a product; their names and categories can disagree,
-- so the smallest is kept to stay deterministic. Peak requires a name, a
-- description and a category: the feed has no description, so it is the
-- product's name; a product without a name is named by its id, and one without
-- a category is in default_product_category(). The feed has no timestamps.

select
    product_id,
    cast(null as timestamp) as created_at,
    coalesce(min(product_name), product_id) as description,
    coalesce(min(category), '{{ default_product_category() }}') as lowest_product_category_id,
    coalesce(min(product_name), product_id) as name,
    cast(null as timestamp) as updated_at
from {{ ref('stg_warehouse__products') }}
group by product_id
order by product_id
