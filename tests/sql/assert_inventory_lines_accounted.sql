-- Accounting: every raw inventory line is counted exactly once, either among
-- the lines that feed stock or stock_extra or in stock_extra_rejects. Returns one row
-- (the three counts) when raw lines != accepted lines + rejected lines.

with counts as (

    select
        (select count(*) from {{ source('warehouse', 'inventory') }}) as raw_lines,
        (select count(*) from {{ ref('int_inventory_lines') }} where reject_reason is null) as accepted_lines,
        (select count(*) from {{ ref('stock_extra_rejects') }}) as rejected_lines

)

select raw_lines, accepted_lines, rejected_lines
from counts
where raw_lines <> accepted_lines + rejected_lines
