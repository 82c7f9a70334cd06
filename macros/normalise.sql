{#-
  Text normalisation shared by every model that reads WMS exports (rule 1 of the
  stock_extra spec). Each macro takes a VARCHAR SQL expression and returns one.
  "Whitespace" is Unicode's White_Space, not just RE2's ASCII \s: spreadsheets
  and WMS exports carry no-break spaces (U+00A0), and " XL\u00a0" must not be a
  second size. The members beyond \s are written into the SQL as the characters
  themselves (Jinja turns the \u escapes into them), because RE2 and Postgres
  spell code points differently and Snowflake's regexes know no \v.
-#}

{% macro whitespace_class() -%}
{{ "[\\s\u000b\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]" }}
{%- endmacro %}

{% macro trim_whitespace(expr) -%}
regexp_replace({{ expr }}, '^{{ whitespace_class() }}+|{{ whitespace_class() }}+$', '', 'g')
{%- endmacro %}

{#- Codes (warehouse_code, sku) match case-insensitively: trimmed and upper-cased; blank is NULL. -#}
{% macro normalise_code(expr) -%}
nullif(upper({{ trim_whitespace(expr) }}), '')
{%- endmacro %}

{#-
  Unicode format characters (category Cf) that print as nothing: soft hyphen,
  zero-width space and joiners, direction marks and embeddings, word joiner and
  invisible operators, byte order mark. `size:​M` and `size:M` would be two
  Peak variants that print the same. Written as the characters themselves, as
  whitespace_class() is.
-#}
{% macro format_character_class() -%}
{{ "[­​-‏‪-‮⁠-⁤﻿]" }}
{%- endmacro %}

{#-
  Text values keep their case: trimmed, inner whitespace runs become one space; blank is NULL (absent).
  One regex: every run (leading and trailing ones too) becomes one space, and
  trim() then drops the single space left at either end.
-#}
{% macro normalise_value(expr) -%}
nullif(trim(regexp_replace({{ expr }}, '{{ whitespace_class() }}+', ' ', 'g')), '')
{%- endmacro %}

{#-
  Dimension values (the parts of product_variant): as normalise_value(), with the
  format characters removed first, since a variant is a key Peak joins on, not
  text to read. Names (product_name, location_name) keep them: a zero-width
  non-joiner is part of how Persian is spelled.
-#}
{% macro normalise_dimension_value(expr) -%}
{{ normalise_value("regexp_replace(" ~ expr ~ ", '" ~ format_character_class() ~ "', '', 'g')") }}
{%- endmacro %}

{#-
  A C0 or C1 control character (NUL to U+001F, DEL to U+009F), as regex escapes
  (a NUL cannot be written into SQL text). Those that are whitespace (tab, line
  breaks, U+0085) are spaces once normalised; any other left in a normalised
  value prints as nothing or garbles the line (`M\x00`).
-#}
{% macro control_character_class() -%}
[\x00-\x1f\x7f-\x9f]
{%- endmacro %}

{#- Identifiers sent to Peak (product_id, location_id, snapshot_id): trimmed, case kept; blank is NULL. -#}
{% macro normalise_id(expr) -%}
nullif({{ trim_whitespace(expr) }}, '')
{%- endmacro %}

{#-
  Peak's stock_units range. Peak does not publish one, so stockx takes the safe
  choice: a signed 32-bit integer. A line outside it is a bad_quantity; a key
  whose sum over bins leaves it is a quantity_overflow (int_inventory_lines).
-#}
{% macro stock_units_min() %}-2147483648{% endmacro %}
{% macro stock_units_max() %}2147483647{% endmacro %}

{#-
  An integer written as an optional sign and digits (after trimming) within
  stock_units' range, else NULL: `12.5`, `1e3`, `3000000000`, `` are not.
  Trimmed text ends in no line break, so the anchored pattern means the same in
  every engine (Java's `$` also matches before a final line break).
-#}
{% macro parse_quantity(expr) -%}
case
    when regexp_matches({{ trim_whitespace(expr) }}, '^[+-]?[0-9]+$')
     and try_cast(cast({{ trim_whitespace(expr) }} as varchar) as bigint) between {{ stock_units_min() }} and {{ stock_units_max() }}
        then try_cast(cast({{ trim_whitespace(expr) }} as varchar) as bigint)
end
{%- endmacro %}

{#-
  The longest text value a line may send to Peak (product_variant, stock_id,
  product_id, location_id). Peak takes 1,000,000 bytes per payload, so a longer
  value (a malformed export: a quote never closed) would stop the whole export
  and every daily job after it; such a line is a value_too_long reject instead.
-#}
{% macro max_value_chars() %}1000{% endmacro %}
