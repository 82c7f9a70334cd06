{{ config(materialized='table') }}

{#-
  Every raw line with its verdict: reject_reason is NULL for a line that feeds
  stock_extra, else the first reason that applies, in this order:
    bad_timestamp, bad_quantity, unknown_warehouse, unknown_sku,
    ambiguous_variant (stg_warehouse__inventory's variant_is_ambiguous, which unit tests give),
    value_too_long (a product_variant, snapshot_id, product_id or location_id
    longer than max_value_chars(): its row could not fit a Peak payload),
    then duplicate_line for a valid line equal to an earlier valid line (all
    columns, codes and dimension values normalised, quantity as a number),
    then mixed_variants for a variant-less line (every dimension blank: Peak's
    stock) whose product, location and day also have valid variant lines
    (stock_extra's): counting it in stock too would count that stock twice,
    then quantity_overflow for every line of a key whose sum over bins at its
    latest snapshot instant (the sum stock_extra computes) leaves stock_units'
    range, a signed 32-bit integer (stock_units_min() .. stock_units_max()).
  A valid line with no variant feeds stock, one with a variant stock_extra.
  A table, so line numbers and verdicts are computed once and stock,
  stock_extra, stock_extra_rejects and the accounting tests all see the same ones.
-#}
{%- set dims = variant_dimensions() %}
{#-
  How it stays cheap on millions of lines: the wide line rows pass through once
  and are joined only to short lists (the duplicates, the mixed lines, the
  overflowing keys), and each pass over all lines keeps only what it needs:
  - duplicates: the valid lines are grouped by four short columns (snapshot
    instant, SKU, bin, quantity) that copies share, and only the lines sharing
    them with another line, few in any real export, are grouped by every column;
  - mixed variants: the products, locations and days of valid variant-less
    lines (stock's, few) are the short list, and the variant lines are only
    looked up in it;
  - overflow: the pass first sums |quantity| per location and day, a bound on
    every key's sum there, and computes the exact sums (as stock_extra does)
    only where that bound leaves the range: rarely, and never on more lines
    than the table has;
  - the verdicts these passes give (duplicate, mixed, overflow) come to one short
    list of line numbers, which the lines meet in one join on line_number.
-#}
{#- The line's columns this model keeps: every one of stg_warehouse__inventory's but variant_is_ambiguous, which the verdict has read. -#}
{%- set stored_line_columns = ['line_number', 'snapshot_id', 'snapshot_at', 'warehouse_code', 'sku'] %}
{%- for dim in dims %}{% set _ = stored_line_columns.append('"' ~ dim ~ '"') %}{% endfor %}
{%- set _ = stored_line_columns.extend(['bin_code', 'qty_on_hand', 'warehouse_key', 'sku_key']) %}
{%- for dim in dims %}{% set _ = stored_line_columns.append('"' ~ dim ~ '_value"') %}{% endfor %}
{%- set _ = stored_line_columns.extend(['product_variant', 'snapshot_key', 'snapshot_local_at', 'snapshot_utc_at',
                                        'stock_date_at', 'quantity']) %}
{#- The columns two copies of a line share: codes and dimension values normalised, quantity as a number. -#}
{%- set line_columns = ['snapshot_id', 'snapshot_at', 'warehouse_key', 'sku_key'] %}
{%- for dim in dims %}{% set _ = line_columns.append('"' ~ dim ~ '_value"') %}{% endfor %}
{%- set _ = line_columns.extend(['bin_code', 'quantity']) %}
{#-
  Some of them, or what they fix, which every copy of a line shares: the duplicate pass groups
  by these first. The snapshot instant (a timestamp) stands for the raw text it is read from:
  cheaper to group by, and equal for copies.
-#}
{%- set prefilter_columns = ['snapshot_utc_at', 'sku_key', 'bin_code', 'quantity'] %}

with lines as (

    select * from {{ ref('stg_warehouse__inventory') }}

),

warehouses as (

    select warehouse_key, location_id from {{ ref('stg_warehouse__warehouses') }}

),

products as (

    select sku_key, product_id from {{ ref('stg_warehouse__products') }}

),

checked as (

    select
        {%- for column in stored_line_columns %}
        lines.{{ column }},
        {%- endfor %}
        warehouses.location_id,
        products.product_id,
        case
            when lines.snapshot_local_at is null then 'bad_timestamp'
            when lines.quantity is null then 'bad_quantity'
            when warehouses.location_id is null then 'unknown_warehouse'
            when products.product_id is null then 'unknown_sku'
            when lines.variant_is_ambiguous then 'ambiguous_variant'
            -- coalesce: greatest() is NULL when any argument is, in Snowflake and BigQuery.
            when greatest(coalesce(length(lines.product_variant), 0), coalesce(length(lines.snapshot_key), 0),
                          length(products.product_id), length(warehouses.location_id)) > {{ max_value_chars() }}
                then 'value_too_long'
        end as invalid_reason
    from lines
    left join warehouses on warehouses.warehouse_key = lines.warehouse_key
    left join products on products.sku_key = lines.sku_key

),

-- Snapshot instants, SKUs, bins and quantities shared by two or more valid lines: a
-- line's copies share them, and they are few and cheap to group by.
shared_bins as (

    select {{ prefilter_columns | join(', ') }}
    from checked
    where invalid_reason is null
    group by {{ prefilter_columns | join(', ') }}
    having count(*) > 1

),

-- The valid lines of those (every copy, and the lines merely sharing a bin with another).
candidates as (

    select checked.*
    from checked
    inner join shared_bins
        on {% for column in prefilter_columns -%}
        {{ null_safe_equal('checked.' ~ column, 'shared_bins.' ~ column) }}
        {% if not loop.last %}and {% endif %}
        {%- endfor %}
    where checked.invalid_reason is null

),

-- Valid lines written more than once (equal on every column, NULLs equal), with their first line.
repeated as (

    select
        {%- for column in line_columns %}
        {{ column }},
        {%- endfor %}
        min(line_number) as first_line
    from candidates
    group by {{ line_columns | join(', ') }}
    having count(*) > 1

),

-- Every later copy of a repeated line.
duplicates as (

    select candidates.line_number
    from candidates
    inner join repeated
        on {% for column in line_columns -%}
        {{ null_safe_equal('candidates.' ~ column, 'repeated.' ~ column) }}
        {% if not loop.last %}and {% endif %}
        {%- endfor %}
    where candidates.line_number > repeated.first_line

),

-- Valid variant-less lines (stock's), with the product, location and day they count for.
variantless as (

    select line_number, product_id, location_id, stock_date_at
    from checked
    where invalid_reason is null
      and product_variant is null

),

-- Of those products, locations and days, the ones that also have valid variant lines (stock_extra's).
variant_days as (

    select distinct variantless.product_id, variantless.location_id, variantless.stock_date_at
    from checked
    inner join variantless
        on variantless.product_id = checked.product_id
        and variantless.location_id = checked.location_id
        and variantless.stock_date_at = checked.stock_date_at
    where checked.invalid_reason is null
      and checked.product_variant is not null

),

-- Valid variant-less lines of such a product, location and day.
mixed as (

    select variantless.line_number
    from variantless
    inner join variant_days
        on variant_days.product_id = variantless.product_id
        and variant_days.location_id = variantless.location_id
        and variant_days.stock_date_at = variantless.stock_date_at

),

-- Locations and days whose valid lines' |quantity| sum past stock_units' range. Every key
-- lies in one location and day, and |a sum over some of the lines| <= the sum of their
-- |quantity|, so no key elsewhere can overflow.
crowded as (

    select location_id, stock_date_at
    from checked
    where invalid_reason is null
    group by location_id, stock_date_at
    having sum(abs(quantity)) > {{ stock_units_max() }}

),

-- The valid lines of crowded locations and days, each once (later copies and mixed
-- variant-less lines left out), with what stock and stock_extra sum them by.
counted as (

    select
        checked.line_number,
        checked.product_id,
        checked.location_id,
        checked.product_variant,
        checked.stock_date_at,
        checked.snapshot_utc_at,
        checked.quantity
    from checked
    inner join crowded
        on crowded.location_id = checked.location_id
        and crowded.stock_date_at = checked.stock_date_at
    left join duplicates
        on duplicates.line_number = checked.line_number
    left join mixed
        on mixed.line_number = checked.line_number
    where checked.invalid_reason is null
      and duplicates.line_number is null
      and mixed.line_number is null

),

-- Per key and snapshot instant, the sum over bins stock and stock_extra take (a
-- variant-less key's product_variant is NULL).
instants as (

    select
        product_id,
        location_id,
        product_variant,
        stock_date_at,
        snapshot_utc_at,
        sum(quantity) as units
    from counted
    group by product_id, location_id, product_variant, stock_date_at, snapshot_utc_at

),

-- Keys whose sum at their latest instant leaves the range (instants are unique per key).
overflowing as (

    select product_id, location_id, product_variant, stock_date_at
    from instants
    group by product_id, location_id, product_variant, stock_date_at
    having arg_max(units, snapshot_utc_at) not between {{ stock_units_min() }} and {{ stock_units_max() }}

),

-- The lines of those keys that no earlier reason rejects: the counted ones, at every instant.
overflowed as (

    select counted.line_number
    from counted
    inner join overflowing
        on overflowing.product_id = counted.product_id
        and overflowing.location_id = counted.location_id
        and {{ null_safe_equal('overflowing.product_variant', 'counted.product_variant') }}
        and overflowing.stock_date_at = counted.stock_date_at

),

-- Every valid line rejected after all, with the first reason that applies to it: a copy,
-- else a mixed variant-less line, else a line of an overflowing key (counted lines are neither).
later_rejects as (

    select line_number, 'duplicate_line' as reject_reason
    from duplicates

    union all

    select mixed.line_number, 'mixed_variants' as reject_reason
    from mixed
    left join duplicates
        on duplicates.line_number = mixed.line_number
    where duplicates.line_number is null

    union all

    select line_number, 'quantity_overflow' as reject_reason
    from overflowed

)

select
    checked.*,
    coalesce(checked.invalid_reason, later_rejects.reject_reason) as reject_reason
from checked
left join later_rejects
    on later_rejects.line_number = checked.line_number
