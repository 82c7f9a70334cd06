-- Support functions for SQL transpiled by `stockx compile --dialect postgres`.
-- Run once in the target database, before the models.

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

create or replace function stockx_try_cast(value text, target bigint) returns bigint
language plpgsql stable as $$
begin
    return value::bigint;
exception when others then
    return null;
end
$$;

create or replace function stockx_try_cast(value text, target integer) returns integer
language plpgsql stable as $$
begin
    return value::integer;
exception when others then
    return null;
end
$$;

create or replace function stockx_try_cast(value text, target smallint) returns smallint
language plpgsql stable as $$
begin
    return value::smallint;
exception when others then
    return null;
end
$$;

create or replace function stockx_try_cast(value text, target numeric) returns numeric
language plpgsql stable as $$
begin
    return value::numeric;
exception when others then
    return null;
end
$$;

create or replace function stockx_try_cast(value text, target double precision) returns double precision
language plpgsql stable as $$
begin
    return value::double precision;
exception when others then
    return null;
end
$$;

create or replace function stockx_try_cast(value text, target real) returns real
language plpgsql stable as $$
begin
    return value::real;
exception when others then
    return null;
end
$$;

create or replace function stockx_try_cast(value text, target boolean) returns boolean
language plpgsql stable as $$
begin
    return value::boolean;
exception when others then
    return null;
end
$$;

create or replace function stockx_try_cast(value text, target date) returns date
language plpgsql stable as $$
begin
    return value::date;
exception when others then
    return null;
end
$$;

create or replace function stockx_try_cast(value text, target timestamp) returns timestamp
language plpgsql stable as $$
begin
    return value::timestamp;
exception when others then
    return null;
end
$$;

create or replace function stockx_try_cast(value text, target timestamptz) returns timestamptz
language plpgsql stable as $$
begin
    return value::timestamptz;
exception when others then
    return null;
end
$$;

create or replace function stockx_try_cast(value text, target time) returns time
language plpgsql stable as $$
begin
    return value::time;
exception when others then
    return null;
end
$$;

create or replace function stockx_try_cast(value text, target text) returns text
language plpgsql stable as $$
begin
    return value::text;
exception when others then
    return null;
end
$$;

create or replace function stockx_try_cast(value text, target uuid) returns uuid
language plpgsql stable as $$
begin
    return value::uuid;
exception when others then
    return null;
end
$$;

create or replace function stockx_try_cast(value text, target interval) returns interval
language plpgsql stable as $$
begin
    return value::interval;
exception when others then
    return null;
end
$$;
