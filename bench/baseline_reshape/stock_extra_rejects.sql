

-- Every raw line that did not reach stock_extra: its line number in the input
-- (1-based, files of a glob in name order), its columns exactly as read, and why.

select
    line_number,
    snapshot_id,
    snapshot_at,
    warehouse_code,
    sku,
    "size",
    "colour",
    "pack",
    bin_code,
    qty_on_hand,
    reject_reason
from main.int_inventory_lines
where reject_reason is not null
order by line_number
