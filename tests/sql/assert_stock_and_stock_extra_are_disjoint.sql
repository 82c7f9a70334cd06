{%- set since = window_start('stock_extra') %}

-- Every accepted raw line ends in exactly one of stock (no variant) and
-- stock_extra (a variant), and no (product, location, date) is counted in
-- both: Peak adds the two, so such a day would count its stock twice. With
-- assert_inventory_lines_accounted (accepted + rejected = raw), every raw line
-- is in exactly one of stock, stock_extra or stock_extra_rejects.
-- Checked from the window the last build replaced on (both models share it);
-- returns each offending key with where it was found.

with line_keys as (

    select distinct
        case when product_variant is null then 'stock' else 'stock_extra' end as model,
        product_id, location_id, stock_date_at
    from {{ ref('int_inventory_lines') }}
    where reject_reason is null
      and stock_date_at >= {{ since }}

),

table_keys as (

    select distinct 'stock_extra' as model, product_id, location_id, stock_date_at
    from {{ ref('stock_extra') }}
    where stock_date_at >= {{ since }}
    union all
    select 'stock' as model, product_id, location_id, stock_date_at
    from {{ ref('stock') }}
    where stock_date_at >= {{ since }}

),

in_both as (

    select product_id, location_id, stock_date_at
    from table_keys
    group by product_id, location_id, stock_date_at
    having count(distinct model) > 1

)

select 'in stock and stock_extra' as problem, product_id, location_id, stock_date_at from in_both
union all
select 'accepted lines only (' || model || ')', product_id, location_id, stock_date_at
from (select * from line_keys except select * from table_keys)
union all
select 'table only (' || model || ')', product_id, location_id, stock_date_at
from (select * from table_keys except select * from line_keys)
