{#-
  stockx's built-in generic tests. Each is a query whose rows are failures.
  A project test block of the same name in macros/ (a `test not_null` block)
  replaces the built-in. `model` is the tested relation, already
  filtered by the test's `where` config (see get_where_subquery).
  Failing rows keep every column where that helps to find the row (`select *`).
-#}

{#- As dbt's: the relation itself without a `where`, so a test macro may still treat it as one. -#}
{% macro get_where_subquery(relation) -%}
{%- set where = config.get('where') -%}
{%- if where -%}
{%- set filtered -%}
(select * from {{ relation }} where {{ where }}) dbt_subquery
{%- endset -%}
{%- do return(filtered) -%}
{%- else -%}
{%- do return(relation) -%}
{%- endif -%}
{%- endmacro %}

{% test not_null(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} is null
{% endtest %}

{% test unique(model, column_name) %}
select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{% endtest %}

{% test accepted_values(model, column_name, values, quote=true) %}
with all_values as (
    select
        {{ column_name }} as value_field,
        count(*) as n_records
    from {{ model }}
    group by {{ column_name }}
)
select *
from all_values
where value_field not in (
    {%- for value in values -%}
    {%- if quote %}'{{ value | string | replace("'", "''") }}'{% else %}{{ value }}{% endif -%}
    {%- if not loop.last %}, {% endif -%}
    {%- endfor -%}
)
{% endtest %}

{% test relationships(model, column_name, to, field) %}
with child as (
    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
),
parent as (
    select {{ field }} as to_field
    from {{ to }}
)
select from_field
from child
left join parent
    on child.from_field = parent.to_field
where parent.to_field is null
{% endtest %}

{% test unique_combination_of_columns(model, combination_of_columns, quote_columns=false) %}
{%- set columns = [] -%}
{%- for column in combination_of_columns -%}
{%- do columns.append(adapter.quote(column) if quote_columns else column) -%}
{%- endfor -%}
{%- set columns_csv = columns | join(', ') -%}
select
    {{ columns_csv }},
    count(*) as n_records
from {{ model }}
group by {{ columns_csv }}
having count(*) > 1
{% endtest %}

{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
select *
from {{ model }}
where 1 = 2
{%- if min_value is not none %}
    or not {{ column_name }} >{{ "=" if inclusive }} {{ min_value }}
{%- endif %}
{%- if max_value is not none %}
    or not {{ column_name }} <{{ "=" if inclusive }} {{ max_value }}
{%- endif %}
{% endtest %}

{% test expression_is_true(model, expression, column_name=none) %}
select *
from {{ model }}
{%- if column_name is none %}
where not ({{ expression }})
{%- else %}
where not ({{ column_name }} {{ expression }})
{%- endif %}
{% endtest %}

{% test not_empty(model, column_name=none) %}
select count(*) as row_count
from {{ model }}
having count(*) = 0
{% endtest %}

{% test at_least_one(model, column_name) %}
select count({{ column_name }}) as non_null_values
from {{ model }}
having count({{ column_name }}) = 0
{% endtest %}

{% test not_constant(model, column_name) %}
select count(distinct {{ column_name }}) as distinct_values
from {{ model }}
having count(distinct {{ column_name }}) = 1
{% endtest %}

{% test not_empty_string(model, column_name, trim_whitespace=true) %}
select *
from {{ model }}
where {% if trim_whitespace %}trim({{ column_name }}){% else %}{{ column_name }}{% endif %} = ''
{% endtest %}
