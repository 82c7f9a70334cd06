"""Row JSON built by DuckDB, and its packing into pages, against independent oracles."""

from __future__ import annotations

import json

import duckdb
import pytest
from peak_server import AWKWARD_ROWS, create_stock_extra, table_rows

from stockx_export.export.contract import STOCK_EXTRA
from stockx_export.export.pages import Envelope, RowTooLarge, pack_pages
from stockx_export.export.serialize import iter_row_batches, iter_rows, row_key
from stockx_export.export.settings import TIMESTAMP_FORMATS

REL = "main.stock_extra"


@pytest.fixture
def con():
    connection = duckdb.connect()
    create_stock_extra(connection, 3000, extra=AWKWARD_ROWS)
    yield connection
    connection.close()


def all_rows(con, fmt="iso", batch_rows=700):
    return [row for batch in iter_row_batches(con, REL, STOCK_EXTRA, TIMESTAMP_FORMATS[fmt], batch_rows) for row in batch]


@pytest.mark.parametrize("fmt", ["iso", "sql"])
def test_rows_equal_the_table_formatted_independently_in_key_order(con, fmt):
    rows = all_rows(con, fmt)
    assert [json.loads(r) for r in rows] == table_rows(con, timestamp_format=fmt)


def test_every_row_has_the_contract_keys_in_contract_order(con):
    for row in all_rows(con):
        assert list(json.loads(row, object_pairs_hook=lambda pairs: dict(pairs))) == list(STOCK_EXTRA.names)
        assert [k for k, _ in json.loads(row, object_pairs_hook=list)] == list(STOCK_EXTRA.names)


def test_non_ascii_is_utf8_text_and_control_characters_are_escaped(con):
    rows = {json.loads(r)["product_id"]: r for r in all_rows(con)}
    assert '"product_id":"P-café","location_id":"LOC-Zürich","product_variant":"colour:rouge é"' in rows["P-café"]
    assert '"P-emoji-😀"' in rows["P-emoji-😀"] and '"ls\u2028ps\u2029"' in rows["P-emoji-😀"]
    assert '"product_id":"P-ctl\\u0001\\u001F"' in rows["P-ctl\x01\x1f"]
    assert '"stock_id":"tab\\there\\nnew"' in rows["P-日本"]
    assert '"product_id":"P-\\"quoted\\""' in rows['P-"quoted"'] and '"stock_id":"STK\\\\1"' in rows['P-"quoted"']


def test_integers_are_json_integers_and_timestamps_drop_fractions(con):
    by_id = {json.loads(r)["product_id"]: r for r in all_rows(con)}
    assert '"stock_units":9223372036854775807,' in by_id["P-emoji-😀"]
    assert '"stock_date_at":"0001-01-01"' in by_id["P-emoji-😀"]
    assert '"created_at":"2024-02-29T23:59:59Z"' in by_id["P-日本"]
    assert '"stock_units":-5,' in by_id["P-日本"]
    assert by_id["P-café"].endswith('"stock_id":null,"stock_units":0,"updated_at":null}')


def test_iter_rows_keys_match_the_serialized_keys(con):
    pairs = list(iter_rows(con, REL, STOCK_EXTRA, TIMESTAMP_FORMATS["iso"], batch_rows=500))
    assert [row for _, row in pairs] == all_rows(con)
    assert all(key == row_key(STOCK_EXTRA, row) for key, row in pairs)


@pytest.mark.parametrize("page_rows,page_bytes", [(500, 1_000_000), (7, 1_000_000), (500, 2_000), (40, 9_000), (1, 600)])
def test_pages_hold_every_row_once_in_order_within_both_limits(con, page_rows, page_bytes):
    envelope = Envelope("QP_OOTB", "UPSERT")
    rows = all_rows(con)
    pages = list(pack_pages(iter_row_batches(con, REL, STOCK_EXTRA, TIMESTAMP_FORMATS["iso"], 333), envelope,
                            page_rows, page_bytes))
    assert [p.number for p in pages] == list(range(1, len(pages) + 1))
    assert [row for p in pages for row in p.rows] == rows
    for index, page in enumerate(pages):
        body = json.loads(page.body.decode("utf-8"), object_pairs_hook=list)
        assert [k for k, _ in body] == ["solutionName", "data", "operationType"]
        assert len(page.rows) <= page_rows and len(page.body) <= page_bytes
        assert page.body == envelope.body(page.rows)
        if index + 1 < len(pages) and len(page.rows) < page_rows:
            # greedy: the next row would not have fitted
            next_row = pages[index + 1].rows[0]
            assert len(page.body) + 1 + len(next_row.encode("utf-8")) > page_bytes


def test_dry_run_envelope_and_exact_body():
    envelope = Envelope("QP_ÖÖTB", "APPEND", dry_run=True)
    body = envelope.body(['{"a":1}', '{"b":"é"}'])
    assert body == '{"solutionName":"QP_ÖÖTB","data":[{"a":1},{"b":"é"}],"operationType":"APPEND","dryRun":true}'.encode()


def test_a_row_larger_than_a_page_is_refused():
    envelope = Envelope("QP_OOTB", "UPSERT")
    row = '{"x":"' + "a" * 100 + '"}'
    with pytest.raises(RowTooLarge) as caught:
        list(pack_pages([[row]], envelope, 500, 100))
    size = len(envelope.body([row]))
    assert size > 100
    assert str(caught.value) == (
        f"a row needs a {size}-byte body, above the page limit of 100 bytes; shorten its values at the source, or "
        "have the model reject such lines (Peak takes 1,000,000 bytes per payload; raise page_bytes only if your "
        "tenant takes more)")


def test_halves_rebuild_bodies(con):
    envelope = Envelope("QP_OOTB", "UPSERT")
    page = next(pack_pages([all_rows(con)[:5]], envelope, 500, 1_000_000))
    first, second = page.halves(envelope)
    assert (len(first.rows), len(second.rows)) == (2, 3)
    assert first.rows + second.rows == page.rows
    assert json.loads(second.body)["data"] == [json.loads(r) for r in page.rows[2:]]


def test_key_order_holds_when_duckdb_sorts_in_parallel():
    # Enough rows for several row groups, so the sort and the projection above it run on many threads.
    connection = duckdb.connect()
    connection.execute("SET threads = 4")
    connection.execute("SET preserve_insertion_order = true")
    create_stock_extra(connection, 250_000)
    keys = [row_key(STOCK_EXTRA, row) for row in all_rows(connection, batch_rows=20_000)]
    connection.close()
    assert len(keys) == 250_000
    assert keys == sorted(keys, key=lambda key: tuple(str(v).encode() for v in key))
    assert len(set(keys)) == len(keys)
