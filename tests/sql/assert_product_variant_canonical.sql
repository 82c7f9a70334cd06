{%- set dims = variant_dimensions() %}
{%- set sep = variant_separator() | replace("'", "''") %}

-- Every product_variant in stock_extra is canonical: `dimension:value` pairs
-- joined by var('variant_separator'), dimensions known, in var('variant_dimensions')
-- order and each at most once, values trimmed with single inner spaces and
-- without ':'. A value containing the separator breaks this too (Peak could not
-- split it). And no variant stands for two different tuples of dimension values
-- among the lines stock_extra is built from (`size` = `M|colour:red` beside size M,
-- colour red). Returns each offending variant and what is wrong with it.
-- Written without lists or lambdas, so it runs on every target: a variant has at
-- most one part per dimension, and part i is split_part(product_variant, separator, i).

with variants as (

    select
        product_variant,
        first_day,
        (length(product_variant) - length(replace(product_variant, '{{ sep }}', ''))) / length('{{ sep }}') + 1 as parts
    from (
        select product_variant, min(stock_date_at) as first_day
        from {{ ref('stock_extra') }}
        group by product_variant
    ) as distinct_variants

),

checked as (

    select
        product_variant,
        first_day,
        parts,
        {%- for i in range(1, dims | length + 1) %}
        regexp_matches(split_part(product_variant, '{{ sep }}', {{ i }}), '^[a-z_][a-z0-9_]*:[^:\s]+( [^:\s]+)*$') as pair_ok_{{ i }},
        case split_part(split_part(product_variant, '{{ sep }}', {{ i }}), ':', 1)
            {%- for dim in dims %}
            when '{{ dim }}' then {{ loop.index }}
            {%- endfor %}
        end as position_{{ i }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from variants

),

collisions as (

    select product_variant, count(*) as tuples
    from (
        select distinct
            product_variant,
            {%- for dim in dims %}
            "{{ dim }}_value"{% if not loop.last %},{% endif %}
            {%- endfor %}
        from {{ ref('int_inventory_lines') }}
        where reject_reason is null
    ) as value_tuples
    group by product_variant
    having count(*) > 1

)

-- A variant built before the window kept its form when the vars changed since (an
-- incremental build rebuilds the window only), so its row says why and how to rebuild
-- it, in columns short enough to print whole in the build's log.
select
    product_variant,
    case
        when first_day < {{ window_start('stock_extra') }} then 'not canonical, built before the window'
        else 'not canonical'
    end as problem,
    case
        when first_day < {{ window_start('stock_extra') }} then 'variant_separator/_dimensions changed?'
    end as likely_cause,
    case
        when first_day < {{ window_start('stock_extra') }} then 'stockx build --full-refresh (once)'
    end as to_fix
from checked
where product_variant is null
   or parts > {{ dims | length }}
   {%- for i in range(1, dims | length + 1) %}
   or ({{ i }} <= parts and not (pair_ok_{{ i }} and position_{{ i }} is not null
        {%- if i > 1 %} and position_{{ i }} > position_{{ i - 1 }}{% endif %}))
   {%- endfor %}
union all
select
    product_variant,
    'stands for ' || tuples || ' sets of values' as problem,
    cast(null as varchar) as likely_cause,
    cast(null as varchar) as to_fix
from collisions
