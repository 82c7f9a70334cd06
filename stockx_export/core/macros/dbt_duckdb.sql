{#-
  dbt-duckdb's versions of the cross-database macros (duckdb__dateadd, duckdb__listagg, ...),
  found first by adapter.dispatch on a duckdb target. Copied unchanged from dbt-duckdb 1.10.1
  (dbt/include/duckdb/macros/utils/*.sql, and the timestamp macros of adapters.sql), Apache License 2.0, copyright the dbt-duckdb authors:
  see LICENSE-dbt in this folder. Left out: external_location.sql and upstream.sql (dbt-duckdb's
  external materialization, which stockx does not have).
-#}

{#- ---- utils/any_value.sql ---- -#}
{% macro duckdb__any_value(expression) -%}

    arbitrary({{ expression }})

{%- endmacro %}

{#- ---- utils/dateadd.sql ---- -#}
{% macro duckdb__dateadd(datepart, interval, from_date_or_timestamp) %}

    {#
      Support both literal and expression intervals (e.g., column references)
      by multiplying an INTERVAL by the value. This avoids DuckDB parser issues
      with "interval (<expr>) <unit>" and works across versions.

      Also map unsupported units:
      - quarter => 3 months
      - week    => 7 days (DuckDB supports WEEK as a literal, but keep it explicit)
    #}

    {%- set unit = datepart | lower -%}
    {%- if unit == 'quarter' -%}
        ({{ from_date_or_timestamp }} + (cast({{ interval }} as bigint) * 3) * interval 1 month)
    {%- elif unit == 'week' -%}
        ({{ from_date_or_timestamp }} + (cast({{ interval }} as bigint) * 7) * interval 1 day)
    {%- else -%}
        ({{ from_date_or_timestamp }} + cast({{ interval }} as bigint) * interval 1 {{ unit }})
    {%- endif -%}

{% endmacro %}

{#- ---- utils/datediff.sql ---- -#}
{% macro duckdb__datediff(first_date, second_date, datepart) -%}
    {% if datepart == 'week' %}
            ({{ datediff(first_date, second_date, 'day') }} // 7 + case
            when date_part('dow', ({{first_date}})::timestamp) <= date_part('dow', ({{second_date}})::timestamp) then
                case when {{first_date}} <= {{second_date}} then 0 else -1 end
            else
                case when {{first_date}} <= {{second_date}} then 1 else 0 end
        end)
    {% else %}
        (date_diff('{{ datepart }}', {{ first_date }}::timestamp, {{ second_date}}::timestamp ))
    {% endif %}
{%- endmacro %}

{#- ---- utils/generate_series.sql ---- -#}
{% macro duckdb__generate_series(upper_bound) %}
    select
        generate_series as generated_number
    from generate_series(1, {{ upper_bound }})
{% endmacro %}

{#- ---- utils/lastday.sql ---- -#}
{% macro duckdb__last_day(date, datepart) -%}

    {%- if datepart == 'quarter' -%}
    -- duckdb dateadd does not support quarter interval.
    cast(
        {{dbt.dateadd('day', '-1',
        dbt.dateadd('month', '3', dbt.date_trunc(datepart, date))
        )}}
        as date)
    {%- else -%}
    {{dbt.default_last_day(date, datepart)}}
    {%- endif -%}

{%- endmacro %}

{#- ---- utils/listagg.sql ---- -#}
{% macro duckdb__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {% if limit_num -%}
    list_aggr(
        (array_agg(
            {{ measure }}
            {% if order_by_clause -%}
            {{ order_by_clause }}
            {%- endif %}
        ))[1:{{ limit_num }}],
        'string_agg',
        {{ delimiter_text }}
        )
    {%- else %}
    string_agg(
        {{ measure }},
        {{ delimiter_text }}
        {% if order_by_clause -%}
        {{ order_by_clause }}
        {%- endif %}
        )
    {%- endif %}
{%- endmacro %}

{#- ---- utils/splitpart.sql ---- -#}
{% macro duckdb__split_part(string_text, delimiter_text, part_number) %}
    string_split({{ string_text }}, {{ delimiter_text }})[ {{ part_number }} ]
{% endmacro %}

{#- ---- adapters.sql: timestamps ---- -#}
{% macro duckdb__current_timestamp() -%}
  now()
{%- endmacro %}

{% macro duckdb__snapshot_string_as_time(timestamp) -%}
    {%- set result = "'" ~ timestamp ~ "'::timestamp" -%}
    {{ return(result) }}
{%- endmacro %}

{% macro duckdb__snapshot_get_time() -%}
  {{ current_timestamp() }}::timestamp
{%- endmacro %}

