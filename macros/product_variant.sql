{#-
  Peak's product_variant: `dimension:value` for each present dimension, in the
  order of var('variant_dimensions'), joined by var('variant_separator'):
      size:M|colour:navy blue
  NULL when no dimension is present (such stock belongs to Peak's `stock`
  resource). stock_extra and sale_extra must produce byte-identical strings
  because Peak joins them on it, so both call this macro on their raw columns:

      {{ product_variant() }}                      -- columns size, colour, pack
      {{ product_variant(relation_alias='s') }}    -- s.size, s.colour, s.pack
  Values are normalised here (normalise_dimension_value), so raw or already-normalised
  columns give the same string. Each present pair is written with the separator
  in front and the first separator is cut off (see variant_pair below).
-#}

{% macro product_variant(relation_alias=none, dimensions=none, separator=none) -%}
{%- set dims = variant_dimensions(dimensions) -%}
{%- set sep = variant_separator(separator) -%}
nullif(substr(
{%- for dim in dims %}
    {% if not loop.first %}|| {% endif %}{{ variant_pair(dim, sep, relation_alias) }}
{%- endfor %},
    {{ sep | length + 1 }}), '')
{%- endmacro %}

{#- The variant dimensions: a list, or a comma-separated string from --vars; names must be plain column names. -#}
{% macro variant_dimensions(dimensions=none) -%}
{%- set dims = dimensions if dimensions is not none else var('variant_dimensions', ['size', 'colour', 'pack']) -%}
{%- if dims is string -%}
{%- set dims = dims.split(',') | map('trim') | reject('equalto', '') | list -%}
{%- endif -%}
{%- if dims | length == 0 -%}
{{ exceptions.raise_compiler_error("var('variant_dimensions') is empty: name at least one variant column, e.g. [size, colour, pack]") }}
{%- endif -%}
{%- for dim in dims -%}
{%- if not (dim is string and dim.replace('_', 'a').isalnum() and dim.isascii() and dim == dim.lower() and not dim[0].isdigit()) -%}
{{ exceptions.raise_compiler_error("var('variant_dimensions'): '" ~ dim ~ "' is not a lower-case column name (letters, digits, _)") }}
{%- endif -%}
{%- endfor -%}
{%- if dims | unique | list | length != dims | length -%}
{{ exceptions.raise_compiler_error("var('variant_dimensions') names a dimension twice: " ~ dims | join(', ')) }}
{%- endif -%}
{#- The inventory models' own columns: a dimension of that name would be two columns in one. -#}
{%- set taken = ['line_number', 'snapshot_id', 'snapshot_at', 'warehouse_code', 'sku', 'bin_code', 'qty_on_hand',
                 'warehouse_key', 'sku_key', 'product_variant', 'variant_is_ambiguous', 'snapshot_key',
                 'snapshot_local_at', 'snapshot_utc_at', 'stock_date_at', 'quantity', 'location_id', 'product_id',
                 'invalid_reason', 'reject_reason'] -%}
{%- for dim in dims if dim in taken or (dim.endswith('_value') and dim[:-6] in dims) -%}
{%- if loop.first -%}
{{ exceptions.raise_compiler_error("var('variant_dimensions'): '" ~ dim ~ "' is a column the inventory models make themselves, not a dimension of the raw file: name the raw file's own variant columns") }}
{%- endif -%}
{%- endfor -%}
{{ return(dims | list) }}
{%- endmacro %}

{#-
  The separator between `dimension:value` pairs: never empty, and made of
  characters that can be in neither a dimension name nor a value the variant
  keeps. Values holding ':' or the separator are rejected (ambiguous_variant in
  int_inventory_lines); a separator holding ':' or a dimension-name character
  (a-z, 0-9, _) could make two variants read alike, e.g. `size:Mscolour:red`
  with the separator `s`. With both rules, a variant reads back one way only.
-#}
{% macro variant_separator(separator=none) -%}
{%- set sep = separator if separator is not none else var('variant_separator', '|') -%}
{%- if sep is not string or sep == '' or ':' in sep -%}
{{ exceptions.raise_compiler_error("var('variant_separator') must be a non-empty string without ':', got '" ~ sep ~ "'") }}
{%- endif -%}
{%- for char in sep if char in 'abcdefghijklmnopqrstuvwxyz0123456789_' -%}
{%- if loop.first -%}
{{ exceptions.raise_compiler_error("var('variant_separator') must not contain '" ~ char ~ "': a-z, 0-9 and _ can be part of a dimension name, so two variants could read alike; use e.g. '|' or ' / '") }}
{%- endif -%}
{%- endfor -%}
{{ return(sep) }}
{%- endmacro %}

{#-
  True when a normalised dimension value would make its variant ambiguous: it
  holds ':' or the separator, so `size` = `M|colour:red` would read as size M and
  colour red; or a control character, so `M\x00` would print as `M`. Such lines
  are rejected (ambiguous_variant), never guessed. For sale_extra: apply it to
  normalise_dimension_value(column), as product_variant() does.
-#}
{% macro variant_value_is_ambiguous(value, separator=none) -%}
{%- set sep = variant_separator(separator) -%}
(strpos({{ value }}, ':') > 0 or strpos({{ value }}, '{{ sep | replace("'", "''") }}') > 0
 or regexp_matches({{ value }}, '{{ control_character_class() }}'))
{%- endmacro %}

{% macro variant_column(dim, relation_alias=none) -%}
{%- if relation_alias %}{{ relation_alias }}.{% endif %}"{{ dim }}"
{%- endmacro %}

{#-
  One dimension's part of product_variant(): the separator, `dim:` and the
  normalised value, or '' when the value is absent. `||` gives NULL for an
  absent value in every engine, whereas concat_ws() skips NULLs in DuckDB and
  Postgres but not in Snowflake or BigQuery.
-#}
{% macro variant_pair(dim, sep, relation_alias=none) -%}
coalesce('{{ sep | replace("'", "''") }}' || '{{ dim }}:' || {{ normalise_dimension_value(variant_column(dim, relation_alias)) }}, '')
{%- endmacro %}
