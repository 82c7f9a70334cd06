{#-
  Text normalisation shared by every model that reads WMS exports (rule 1 of the
  stock_extra spec). Each macro takes a VARCHAR SQL expression and returns one.
  "Whitespace" is RE2's \s: space, tab, newline, carriage return, form feed.
-#}

{% macro trim_whitespace(expr) -%}
regexp_replace({{ expr }}, '^\s+|\s+$', '', 'g')
{%- endmacro %}

{#- Codes (warehouse_code, sku) match case-insensitively: trimmed and upper-cased; blank is NULL. -#}
{% macro normalise_code(expr) -%}
nullif(upper({{ trim_whitespace(expr) }}), '')
{%- endmacro %}

{#- Dimension values keep their case: trimmed, inner whitespace runs become one space; blank is NULL (absent). -#}
{% macro normalise_value(expr) -%}
nullif(regexp_replace({{ trim_whitespace(expr) }}, '\s+', ' ', 'g'), '')
{%- endmacro %}

{#- Identifiers sent to Peak (product_id, location_id, snapshot_id): trimmed, case kept; blank is NULL. -#}
{% macro normalise_id(expr) -%}
nullif({{ trim_whitespace(expr) }}, '')
{%- endmacro %}

{#- An integer written as an optional sign and digits (after trimming) that fits a BIGINT, else NULL: `12.5`, `1e3`, `` are not. -#}
{% macro parse_quantity(expr) -%}
case
    when regexp_full_match({{ trim_whitespace(expr) }}, '[+-]?[0-9]+')
        then try_cast({{ trim_whitespace(expr) }} as bigint)
end
{%- endmacro %}
