-- Support functions for SQL transpiled by `stockx compile --dialect postgres`.
-- Run once in the target database, before the models.

-- DuckDB's TRY_CAST: the value cast to the type of `target`, or NULL when it does not cast.
create or replace function stockx_try_cast(value text, target anyelement) returns anyelement
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
$$;
