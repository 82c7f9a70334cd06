{{ config(materialized='table') }}

-- Peak's product_category resource: one row per category named in the product
-- feed. The feed has no hierarchy, so parent_product_category_id is null; a
-- product with no category gets default_product_category() (see products).
-- The feed carries no metadata or timestamps for categories: those are null.

select
    coalesce(category, '{{ default_product_category() }}') as product_category_id,
    cast(null as timestamp) as created_at,
    cast(null as varchar) as metadata,
    coalesce(min(category), '{{ default_product_category() }}') as name,
    cast(null as varchar) as parent_product_category_id,
    cast(null as timestamp) as updated_at
from {{ ref('stg_warehouse__products') }}
group by coalesce(category, '{{ default_product_category() }}')
order by product_category_id
