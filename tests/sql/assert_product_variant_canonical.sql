{%- set dims = variant_dimensions() %}
{%- set sep = variant_separator() | replace("'", "''") %}

-- Every product_variant in stock_extra is canonical: `dimension:value` pairs
-- joined by var('variant_separator'), dimensions known, in var('variant_dimensions')
-- order and each at most once, values trimmed with single inner spaces and
-- without ':'. A value containing the separator breaks this too (Peak could not
-- split it). And no variant stands for two different tuples of dimension values
-- among the lines stock_extra is built from (`size` = `M|colour:red` beside size M,
-- colour red). Returns each offending variant and what is wrong with it.

with variants as (

    select distinct product_variant, string_split(product_variant, '{{ sep }}') as parts
    from {{ ref('stock_extra') }}

),

checked as (

    select
        product_variant,
        list_bool_and(list_transform(parts, lambda part:
            regexp_full_match(part, '[a-z_][a-z0-9_]*:[^:\s]+( [^:\s]+)*'))) as pairs_ok,
        list_transform(parts, lambda part:
            list_position([{% for dim in dims %}'{{ dim }}'{% if not loop.last %}, {% endif %}{% endfor %}], split_part(part, ':', 1))) as positions
    from variants

),

collisions as (

    select
        product_variant,
        count(distinct [{% for dim in dims %}"{{ dim }}_value"{% if not loop.last %}, {% endif %}{% endfor %}]) as tuples
    from {{ ref('int_inventory_lines') }}
    where reject_reason is null
    group by product_variant
    having count(distinct [{% for dim in dims %}"{{ dim }}_value"{% if not loop.last %}, {% endif %}{% endfor %}]) > 1

)

select product_variant, 'not canonical' as problem
from checked
where product_variant is null
   or not pairs_ok
   or list_contains(positions, null)
   or positions <> list_sort(list_distinct(positions))
union all
select product_variant, 'stands for ' || tuples || ' sets of values' as problem
from collisions
