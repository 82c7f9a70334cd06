{#-
  Peak's product_variant: `dimension:value` for each present dimension, in the
  order of var('variant_dimensions'), joined by var('variant_separator'):
      size:M|colour:navy blue
  NULL when no dimension is present (such stock belongs to Peak's `stock`
  resource). stock_extra and sale_extra must produce byte-identical strings
  because Peak joins them on it, so both call this macro on their raw columns:

      {{ product_variant() }}                      -- columns size, colour, pack
      {{ product_variant(relation_alias='s') }}    -- s.size, s.colour, s.pack

  Values are normalised here (normalise_value), so raw or already-normalised
  columns give the same string.
-#}

{% macro product_variant(relation_alias=none, dimensions=none, separator=none) -%}
{%- set dims = variant_dimensions(dimensions) -%}
{%- set sep = variant_separator(separator) -%}
nullif(concat_ws('{{ sep | replace("'", "''") }}'
{%- for dim in dims %},
    '{{ dim }}:' || {{ normalise_value(variant_column(dim, relation_alias)) }}
{%- endfor %}
), '')
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
{{ return(dims | list) }}
{%- endmacro %}

{#- The separator between `dimension:value` pairs; never empty, never ':'. -#}
{% macro variant_separator(separator=none) -%}
{%- set sep = separator if separator is not none else var('variant_separator', '|') -%}
{%- if sep is not string or sep == '' or ':' in sep -%}
{{ exceptions.raise_compiler_error("var('variant_separator') must be a non-empty string without ':', got '" ~ sep ~ "'") }}
{%- endif -%}
{{ return(sep) }}
{%- endmacro %}

{% macro variant_column(dim, relation_alias=none) -%}
{%- if relation_alias %}{{ relation_alias }}.{% endif %}"{{ dim }}"
{%- endmacro %}
