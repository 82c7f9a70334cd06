{#-
  ISO 8601 timestamps as WMS exports write them:
      YYYY-MM-DD('T'|' ')HH:MM[:SS[.fraction]][Z|+HH:MM|-HH:MM]
  No offset means UTC. The text is matched as written (no trimming): anything
  else, or an impossible date such as 2026-02-30, parses to NULL.

  One regular expression checks the form (iso_timestamp_offset_length);
  the parts are then cut out by position, which the form fixes: the date is the
  first 10 characters, the offset the last 1 (Z) or 6 (+HH:MM), the time what
  lies between. Every construct here (an anchored POSIX regex, substr, length,
  right, try_cast of text) translates to Postgres, Spark, Snowflake and BigQuery
  with the same meaning; see iso_timestamp_utc() for the one that does not.

  The export writes four-digit years only: a timestamp whose local or UTC form
  falls outside years 1-9999 (0000-12-31T23:30:00-01:00, or
  9999-12-31T23:30:00-01:00, which is year 10000 in UTC) is a bad timestamp too;
  test both with in_export_years().
-#}

{#- The forms above. Plain POSIX ERE (no \d, no (?:...)), which every engine reads alike. -#}
{% macro iso_timestamp_pattern() -%}
^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,9})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$
{%- endmacro %}

{#-
  The length of the offset written at the end of ``expr``: 0 (none), 1 (Z) or
  6 (+HH:MM); NULL when ``expr`` is not one of the forms. The last character must
  also be a digit or Z: Java's `$` (Spark) matches before a final line break too.
-#}
{% macro iso_timestamp_offset_length(expr) -%}
case
    when regexp_matches({{ expr }}, '{{ iso_timestamp_pattern() }}')
     and strpos('0123456789Z', right({{ expr }}, 1)) > 0
        then case
            when right({{ expr }}, 1) = 'Z' then 1
            when substr({{ expr }}, length({{ expr }}) - 5, 1) in ('+', '-') then 6
            else 0
        end
end
{%- endmacro %}

{#-
  The timestamp as written, offset not applied (the warehouse's wall clock); NULL unless valid.
  The time is cut after 6 fraction digits (HH:MM:SS.ffffff is 15 characters):
  timestamps hold microseconds, and DuckDB drops further digits where Postgres
  rounds them, so every engine is given the digits it keeps. (least() skips a
  NULL in every engine, hence the explicit NULL for a text of no known form.)
-#}
{% macro iso_timestamp_local(expr, offset_length) -%}
case
    when {{ offset_length }} is not null
        then try_cast(cast(substr({{ expr }}, 1, 10) || ' ' || substr({{ expr }}, 12, least(length({{ expr }}) - 11 - {{ offset_length }}, 15)) as varchar) as timestamp)
end
{%- endmacro %}

{#- The offset in minutes east of UTC (0 for none or Z). -#}
{% macro iso_offset_minutes(expr, offset_length) -%}
case
    when {{ offset_length }} = 6
        then (case when substr({{ expr }}, length({{ expr }}) - 5, 1) = '-' then -1 else 1 end)
            * (cast(substr({{ expr }}, length({{ expr }}) - 4, 2) as integer) * 60 + cast(right({{ expr }}, 2) as integer))
    else 0
end
{%- endmacro %}

{#-
  The same instant in UTC, as a naive TIMESTAMP. Dispatched: Postgres, Spark and
  BigQuery read the default (integer * interval); Snowflake multiplies no
  interval and needs a snowflake__ variant (dateadd('minute', -n, local_at)).
-#}
{% macro iso_timestamp_utc(local_at, offset_minutes) -%}
{{ return(adapter.dispatch('iso_timestamp_utc')(local_at, offset_minutes)) }}
{%- endmacro %}

{% macro default__iso_timestamp_utc(local_at, offset_minutes) -%}
({{ local_at }} - {{ offset_minutes }} * interval '1 minute')
{%- endmacro %}

{#- True when the timestamp ``expr`` falls in years 1-9999 (what the export can write). -#}
{% macro in_export_years(expr) -%}
({{ expr }} between timestamp '0001-01-01 00:00:00' and timestamp '9999-12-31 23:59:59.999999')
{%- endmacro %}
