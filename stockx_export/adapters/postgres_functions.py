"""The support functions SQL translated from DuckDB calls on PostgreSQL (DuckDB's TRY_CAST).

Its own small module: the analysis writes them into ``compile --dialect postgres``
output without importing the adapter.
"""

from __future__ import annotations

from stockx_export.db import quote

# Types whose TRY_CAST gets a function of its own: a static cast is many times faster than the
# generic function's dynamic SQL, which a model may call for every line.
TRY_CAST_TYPES = ("bigint", "integer", "smallint", "numeric", "double precision", "real", "boolean", "date",
                  "timestamp", "timestamptz", "time", "text", "uuid", "interval")


def try_cast_sql(schema: str | None = None) -> str:
    """DuckDB's TRY_CAST for SQL translated from DuckDB (stockx_export.analysis.rewrites):
    ``stockx_try_cast(value, NULL::T)`` is ``value`` cast to ``T``, or NULL when it does not cast."""
    name = f"{quote(schema)}.stockx_try_cast" if schema else "stockx_try_cast"
    functions = [f"""create or replace function {name}(value text, target anyelement) returns anyelement
language plpgsql stable as $$
begin
    if value is null then
        return null;
    end if;
    execute format('select %L::%s', value, pg_typeof(target)) into target;
    return target;
exception when others then
    return null;
end
$$;"""]
    for kind in TRY_CAST_TYPES:
        functions.append(f"""create or replace function {name}(value text, target {kind}) returns {kind}
language plpgsql stable as $$
begin
    return value::{kind};
exception when others then
    return null;
end
$$;""")
    return "\n\n".join(functions) + "\n"
