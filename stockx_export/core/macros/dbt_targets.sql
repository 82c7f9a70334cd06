{#-
  The time macros of dbt-postgres 1.9 (macros/timestamps.sql, adapters.sql) and dbt-spark 1.9
  (macros/utils/timestamps.sql) that a snapshot's time needs on those targets (the rest of their
  cross-database macros keep dbt's default__ versions, which is what those adapters use too).
  Apache License 2.0, copyright dbt Labs: see LICENSE-dbt in this folder.
-#}

{% macro postgres__current_timestamp() -%}
  now()
{%- endmacro %}

{% macro postgres__snapshot_get_time() -%}
  {{ current_timestamp() }}::timestamp without time zone
{%- endmacro %}

{% macro spark__current_timestamp() -%}
  current_timestamp()
{%- endmacro %}
