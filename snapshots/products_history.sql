{% snapshot products_history %}
{#-
  The history of Peak's product master data: one row per version of each product,
  valid from dbt_valid_from to dbt_valid_to (null while current). Every build
  compares products with the current versions (the check strategy, every column)
  and records what changed at the build's time; a product that leaves the feed
  gets its current version closed (hard_deletes: invalidate).
-#}
{{ config(
    schema='snapshots',
    unique_key='product_id',
    strategy='check',
    check_cols='all',
    hard_deletes='invalidate',
) }}
select product_id, name as product_name, lowest_product_category_id as category from {{ ref('products') }}
{% endsnapshot %}
