{#-
  ISO 8601 timestamps as WMS exports write them:
      YYYY-MM-DD('T'|' ')HH:MM[:SS[.fraction]][Z|+HH:MM|-HH:MM]
  No offset means UTC. The text is matched as written (no trimming): anything
  else, or an impossible date such as 2026-02-30, parses to NULL.

  Parse once with iso_timestamp_parts() into a struct column, then derive the
  wall-clock (local) and the UTC instant from it, so the regex runs once per line.

  The export writes four-digit years only: a timestamp whose local or UTC form
  falls outside years 1-9999 (0000-12-31T23:30:00-01:00, or
  9999-12-31T23:30:00-01:00, which is year 10000 in UTC) is a bad timestamp too;
  test both with in_export_years().
-#}

{% macro iso_timestamp_parts(expr) -%}
regexp_extract(
    {{ expr }},
    '^(\d{4}-\d{2}-\d{2})[T ]((?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?)(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?$',
    ['date_part', 'time_part', 'offset_part']
)
{%- endmacro %}

{#- The timestamp as written, offset not applied (the warehouse's wall clock). -#}
{% macro iso_timestamp_local(parts) -%}
case
    when {{ parts }}.date_part <> ''
        then try_cast({{ parts }}.date_part || ' ' || {{ parts }}.time_part as timestamp)
end
{%- endmacro %}

{#- The same instant in UTC, as a naive TIMESTAMP. -#}
{% macro iso_timestamp_utc(parts) -%}
({{ iso_timestamp_local(parts) }}) - to_minutes(
    case
        when {{ parts }}.offset_part in ('', 'Z') then 0
        else (case when left({{ parts }}.offset_part, 1) = '-' then -1 else 1 end)
            * (cast(substr({{ parts }}.offset_part, 2, 2) as integer) * 60
               + cast(substr({{ parts }}.offset_part, 5, 2) as integer))
    end
)
{%- endmacro %}

{#- True when the timestamp ``expr`` falls in years 1-9999 (what the export can write). -#}
{% macro in_export_years(expr) -%}
({{ expr }} between timestamp '0001-01-01 00:00:00' and timestamp '9999-12-31 23:59:59.999999')
{%- endmacro %}
