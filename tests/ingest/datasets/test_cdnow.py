from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from _files import cli_import, counts, real_file, write
from sqlalchemy import select

from kizuna.errors import ImportDataError
from kizuna.ingest.datasets.cdnow import import_cdnow
from kizuna.store import Store
from kizuna.store.tables import Customer, Order

# The layout of the lifetimes copy: a header line, right-aligned fields, CRLF line endings.
HEADER = " customer_id  date number_of_cds  dollar_value\n"
MASTER_ROWS = """ 00001 19970101  1   11.77
 00002 19970112  1   12.00
 00002 19970112  5   77.00
 00002 19970302  2   20.76
 00004 19970101  2   29.33
"""
# The 1/10 sample: the customer's master id, its sample id, then the same three fields.
SAMPLE_ROWS = """ 00002 0001 19970112  1   12.00
 00002 0001 19970112  5   77.00
 00004 0002 19970101  2   29.33
"""


def master(tmp_path: Path, text: str = HEADER + MASTER_ROWS) -> Path:
    return write(tmp_path / "CDNOW_master.txt", text, newline="\r\n")


def orders(store: Store) -> dict[str, Order]:
    with store.session() as s:
        return {o.external_id: o for o in s.scalars(select(Order))}


def test_each_line_becomes_an_order_of_its_customer(store: Store, tmp_path: Path) -> None:
    summary = import_cdnow(store, master(tmp_path))
    assert summary.added == {"customers": 3, "orders": 5}
    found = orders(store)
    assert sorted(found) == [
        "cdnow-1-19970101-1",
        "cdnow-2-19970112-1",
        "cdnow-2-19970112-2",
        "cdnow-2-19970302-1",
        "cdnow-4-19970101-1",
    ]
    second_that_day = found["cdnow-2-19970112-2"]
    assert second_that_day.ordered_at == datetime(1997, 1, 12, tzinfo=UTC)
    assert second_that_day.ordered_at.utcoffset() == timedelta(0)
    assert (second_that_day.total, second_that_day.subtotal) == (77.0, 77.0)
    assert (second_that_day.currency, second_that_day.channel) == ("USD", "web")
    assert second_that_day.attributes == {"cds": 5}
    with store.session() as s:
        customers = {c.id: c for c in s.scalars(select(Customer))}
    assert customers[second_that_day.customer_id].external_id == "cdnow-2"
    assert all(c.attributes == {} for c in customers.values())


def test_file_without_header_reads_the_same(store: Store, tmp_path: Path) -> None:
    summary = import_cdnow(store, master(tmp_path, MASTER_ROWS))
    assert summary.added == {"customers": 3, "orders": 5}


def test_second_import_adds_nothing(store: Store, tmp_path: Path) -> None:
    path = master(tmp_path)
    import_cdnow(store, path)
    assert import_cdnow(store, path).added == {}


def test_sample_file_names_the_same_customers_and_orders_as_master(store: Store, tmp_path: Path) -> None:
    sample = write(tmp_path / "CDNOW_sample.txt", SAMPLE_ROWS, newline="\r\n")
    assert import_cdnow(store, sample).added == {"customers": 2, "orders": 3}
    assert set(orders(store)) == {"cdnow-2-19970112-1", "cdnow-2-19970112-2", "cdnow-4-19970101-1"}
    assert import_cdnow(store, master(tmp_path)).added == {"customers": 1, "orders": 2}


BAD_INPUTS = {
    "impossible date": (MASTER_ROWS.replace("19970302", "19971302"), 5, "date"),
    "date with dashes": (MASTER_ROWS.replace("19970302", "1997-03-02"), 5, "date"),
    "dollars not a number": (MASTER_ROWS.replace("29.33", "29,3x"), 6, "dollar_value"),
    "negative cds": (MASTER_ROWS.replace("  5   77", " -5   77"), 4, "number_of_cds"),
    "customer not a number": (MASTER_ROWS.replace("00004", "0000X"), 6, "customer_id"),
    "a line with a sample id": (MASTER_ROWS.replace(" 00002 19970302", " 00002 0001 19970302"), 5, None),
    "too few fields": (MASTER_ROWS.replace(" 00001 19970101  1   11.77", " 00001 19970101"), 2, None),
    "header only": ("", 2, None),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_names_line_and_column_and_writes_nothing(store: Store, tmp_path: Path, case: str) -> None:
    rows, line, column = BAD_INPUTS[case]
    with pytest.raises(ImportDataError) as caught:
        import_cdnow(store, master(tmp_path, HEADER + rows))
    assert (caught.value.line, caught.value.column) == (line, column)
    assert counts(store) == {}


def test_empty_file_and_bad_bytes(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ImportDataError, match="the file is empty"):
        import_cdnow(store, master(tmp_path, ""))
    path = tmp_path / "latin1.txt"
    path.write_bytes((HEADER + MASTER_ROWS).encode() + b" 00005 19970101  1   \xa311.77\r\n")
    with pytest.raises(ImportDataError, match="not valid utf-8") as caught:
        import_cdnow(store, path)
    assert caught.value.line == 7
    assert counts(store) == {}


def test_cli_prints_summary_and_exits_2_on_bad_input(db_url: str, tmp_path: Path) -> None:
    good = cli_import("cdnow", master(tmp_path), db_url)
    assert good.exit_code == 0, good.output
    assert "added 3 customers, 5 orders" in good.output
    bad = cli_import("cdnow", write(tmp_path / "bad.txt", " 00001 1997010x  1   11.77\n"), db_url)
    assert bad.exit_code == 2
    assert "bad.txt, line 1, column 'date'" in bad.output


def test_real_cdnow_master(store: Store) -> None:
    summary = import_cdnow(store, real_file("cdnow", "CDNOW_master.txt"))
    assert summary.added == {"customers": 23_570, "orders": 69_659}
