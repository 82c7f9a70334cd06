{{ config(severity='warn') }}

-- Warns when more than var('max_reject_rate') (default 5%) of the raw inventory
-- lines are rejected: the export or the mappings have probably changed. One row
-- with the rate and the count per reason; details in stock_extra_rejects.

with lines as (

    select reject_reason from {{ ref('int_inventory_lines') }}

),

per_reason as (

    select reject_reason, count(*) as rejected
    from lines
    where reject_reason is not null
    group by reject_reason

)

select
    (select count(*) from lines) as raw_lines,
    sum(rejected) as rejected_lines,
    round(sum(rejected) / (select count(*) from lines), 4) as reject_rate,
    string_agg(reject_reason || '=' || rejected, ', ' order by reject_reason) as by_reason
from per_reason
having sum(rejected) > {{ max_reject_rate() }} * (select count(*) from lines)
