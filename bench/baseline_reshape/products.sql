

-- Peak's product resource keys: one row per product_id that any SKU maps to.
-- Several SKUs may share a product; their names and categories can disagree,
-- so the smallest is kept to stay deterministic.

select
    product_id,
    min(product_name) as product_name,
    min(category) as category
from main.stg_warehouse__products
group by product_id
order by product_id
