{#-
  left and right are equal, NULL equal to NULL (a join key that may be NULL).
  Dispatched: DuckDB and Spark hash-join IS NOT DISTINCT FROM; Postgres cannot,
  and joins it row by row (1M raw lines against their variants: still running after
  18 minutes). Its version says the same with two plain equalities, which Postgres
  hashes: the values as text, NULL as '' (which a non-NULL '' also gives), and
  whether each is NULL.
-#}
{% macro null_safe_equal(left, right) -%}
{{ return(adapter.dispatch('null_safe_equal')(left, right)) }}
{%- endmacro %}

{% macro default__null_safe_equal(left, right) -%}
{{ left }} is not distinct from {{ right }}
{%- endmacro %}

{% macro postgres__null_safe_equal(left, right) -%}
coalesce(cast({{ left }} as varchar), '') = coalesce(cast({{ right }} as varchar), '') and ({{ left }} is null) = ({{ right }} is null)
{%- endmacro %}
