{#- The product_category of a product whose feed names none: Peak requires lowest_product_category_id. -#}
{% macro default_product_category() -%}
{{ var('default_product_category', 'UNCATEGORISED') }}
{%- endmacro %}
