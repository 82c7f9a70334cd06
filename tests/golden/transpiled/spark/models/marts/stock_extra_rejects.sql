/* Every raw line that did not reach stock_extra: its line number in the input */
/* (1-based, files of a glob in name order), its columns exactly as read, and why. */
SELECT
  line_number,
  snapshot_id,
  snapshot_at,
  warehouse_code,
  sku,
  `size`,
  `colour`,
  `pack`,
  bin_code,
  qty_on_hand,
  reject_reason
FROM stockx.main.int_inventory_lines
WHERE
  NOT reject_reason IS NULL
ORDER BY
  line_number NULLS LAST
