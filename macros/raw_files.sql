{#-
  How the sources read the raw export from files instead of the bundled seeds
  (see models/staging/warehouse/_warehouse__sources.yml):

      external_location: "{{ read_raw_files('inventory_path') }}"

  var(var_name) is a path or glob; empty or unset means "read the seed". A path
  ending in .parquet is read as Parquet, anything else as CSV in one dialect:
  comma-separated, '"' quotes (doubled inside a value), UTF-8, a header line,
  every column as text. The dialect is fixed, not sniffed, so a malformed file
  is an error rather than a different reading of it. Files of a glob are
  matched by column name; stockx checks every file's header before a model
  reads it (a file lacking a column would otherwise read as NULLs).
-#}
{% macro read_raw_files(var_name) -%}
{%- set path = raw_files_path(var_name) -%}
{%- if path -%}
{%- set quoted = "'" ~ (path | replace("'", "''")) ~ "'" -%}
{%- if path.lower().endswith('.parquet') -%}
read_parquet({{ quoted }}, union_by_name=true)
{%- else -%}
read_csv({{ quoted }}, header=true, skip=0, all_varchar=true, union_by_name=true, delim=',', quote='"', escape='"')
{%- endif -%}
{%- endif -%}
{%- endmacro %}

{#- var(var_name) as a path string ('' when unset); anything but a string is an error naming the var. -#}
{% macro raw_files_path(var_name) -%}
{%- set path = var(var_name, '') -%}
{%- if path is none -%}
{{ return('') }}
{%- endif -%}
{%- if path is not string -%}
{%- set kind = 'true/false' if path is boolean else 'a number' if path is number else 'a mapping' if path is mapping else 'a list' if path is sequence else 'a value that is not text' -%}
{{ exceptions.raise_compiler_error("var('" ~ var_name ~ "') must be a path or glob written as one string, e.g. \"/data/exports/" ~ var_name.replace('_path', '') ~ "-*.csv\"; got " ~ kind ~ ": " ~ path) }}
{%- endif -%}
{{ return(path) }}
{%- endmacro %}

{#- var('max_reject_rate'): the share of rejected raw lines above which the build warns, a number from 0 to 1. -#}
{% macro max_reject_rate() -%}
{%- set rate = var('max_reject_rate', 0.05) -%}
{%- if rate is boolean or rate is not number or rate < 0 or rate > 1 -%}
{{ exceptions.raise_compiler_error("var('max_reject_rate') must be a number from 0 to 1 (0.05 warns above 5% of lines rejected); got '" ~ rate ~ "'") }}
{%- endif -%}
{{ return(rate) }}
{%- endmacro %}

{#-
  The position of each row of the raw input, 1 for the first: its line number
  among the data lines (files of a glob in name order). Dispatched: DuckDB
  numbers rows in scan order, which is file order. Other engines need their own:
  Spark allows row_number() only over an ordered window, and Postgres scans in
  storage order only without parallel workers.
-#}
{% macro line_number() -%}
{{ return(adapter.dispatch('line_number')()) }}
{%- endmacro %}

{% macro default__line_number() -%}
row_number() over ()
{%- endmacro %}
