from __future__ import annotations

from pathlib import Path

import pytest
from _files import cli_import, counts, real_file, write
from sqlalchemy import case, func, select

from kizuna.errors import ImportDataError
from kizuna.ingest.datasets.hillstrom import import_hillstrom
from kizuna.store import Store
from kizuna.store.tables import Campaign, CampaignMember, Customer

HEADER = "recency,history_segment,history,mens,womens,zip_code,newbie,channel,segment,visit,conversion,spend"
ROWS = [
    "10,2) $100 - $200,142.44,1,0,Surburban,0,Phone,Womens E-Mail,0,0,0",
    "6,3) $200 - $350,329.08,1,1,Rural,1,Web,No E-Mail,0,0,0",
    "7,2) $100 - $200,180.65,0,1,Surburban,1,Web,Womens E-Mail,1,0,0",
    "2,1) $0 - $100,45.34,1,0,Urban,0,Web,Mens E-Mail,1,1,29.99",
    "9,5) $500 - $750,675.83,1,0,Rural,1,Web,Mens E-Mail,1,0,0",
    "1,4) $350 - $500,472.82,0,1,Surburban,0,Multichannel,No E-Mail,1,1,105.5",
]


def csv_file(tmp_path: Path, header: str = HEADER, rows: list[str] = ROWS) -> Path:
    # Like the real file: CRLF line endings and no newline after the last row.
    return write(tmp_path / "hillstrom.csv", "\n".join([header, *rows]), newline="\r\n")


def members(store: Store) -> dict[str, CampaignMember]:
    with store.session() as s:
        rows = s.execute(select(Customer.external_id, CampaignMember).join(Customer)).all()
    return {external_id: member for external_id, member in rows}


def test_rows_become_customers_and_members_of_one_campaign(store: Store, tmp_path: Path) -> None:
    summary = import_hillstrom(store, csv_file(tmp_path))
    assert summary.added == {"customers": 6, "campaigns": 1, "campaign_members": 6}
    with store.session() as s:
        campaign = s.scalars(select(Campaign)).one()
        first = s.scalars(select(Customer).where(Customer.external_id == "hs-00001")).one()
    assert (campaign.external_id, campaign.name, campaign.kind) == (
        "hs-email-2008",
        "MineThatData e-mail experiment (March 2008)",
        "email",
    )
    assert set(campaign.attributes["arms"]) == {"Mens E-Mail", "Womens E-Mail", "No E-Mail"}
    assert campaign.attributes["outcome_window_days"] == 14
    assert first.attributes == {
        "recency_months": 10,
        "history_segment": "2) $100 - $200",
        "history": 142.44,
        "mens": True,
        "womens": False,
        "zip_area": "Surburban",
        "newbie": False,
        "channel": "Phone",
    }
    found = members(store)
    assert sorted(found) == [f"hs-0000{n}" for n in range(1, 7)]
    assert all(m.campaign_id == campaign.id for m in found.values())
    control = found["hs-00002"]
    assert (control.arm, control.is_control, control.responded, control.converted) == (
        "No E-Mail",
        True,
        False,
        False,
    )
    mens = found["hs-00004"]
    assert (mens.arm, mens.is_control, mens.responded, mens.converted, mens.revenue) == (
        "Mens E-Mail",
        False,
        True,
        True,
        29.99,
    )
    assert mens.outcome == {"visit": 1, "conversion": 1, "spend": 29.99}
    assert found["hs-00006"].revenue == 105.5  # the last row, which has no line ending


def test_second_import_adds_nothing(store: Store, tmp_path: Path) -> None:
    path = csv_file(tmp_path)
    import_hillstrom(store, path)
    assert import_hillstrom(store, path).added == {}
    assert counts(store)["campaign_members"] == 6


BAD_ROWS = {
    "unknown segment": (3, "segment", "Kids E-Mail"),
    "visit not 0/1": (5, "visit", "2"),
    "spend not a number": (7, "spend", "$x"),
    "recency blank": (2, "recency", ""),
}


@pytest.mark.parametrize("case_name", list(BAD_ROWS))
def test_bad_cell_names_line_and_column_and_writes_nothing(
    store: Store, tmp_path: Path, case_name: str
) -> None:
    line, column, value = BAD_ROWS[case_name]
    rows = list(ROWS)
    cells = rows[line - 2].split(",")
    cells[HEADER.split(",").index(column)] = value
    rows[line - 2] = ",".join(cells)
    with pytest.raises(ImportDataError) as caught:
        import_hillstrom(store, csv_file(tmp_path, rows=rows))
    assert (caught.value.line, caught.value.column) == (line, column)
    assert counts(store) == {}


def test_missing_column_wrong_field_count_header_only_and_bad_bytes(store: Store, tmp_path: Path) -> None:
    no_spend = HEADER.removesuffix(",spend")
    with pytest.raises(ImportDataError, match="missing from the header") as caught:
        import_hillstrom(store, csv_file(tmp_path, header=no_spend, rows=[r.rsplit(",", 1)[0] for r in ROWS]))
    assert (caught.value.line, caught.value.column) == (1, "spend")
    with pytest.raises(ImportDataError, match="the line has 11 fields") as caught:
        import_hillstrom(store, csv_file(tmp_path, rows=[*ROWS[:3], ROWS[3].rsplit(",", 1)[0]]))
    assert caught.value.line == 5
    with pytest.raises(ImportDataError, match="header but no rows") as caught:
        import_hillstrom(store, csv_file(tmp_path, rows=[]))
    assert caught.value.line == 2
    with pytest.raises(ImportDataError, match="the file is empty"):
        import_hillstrom(store, write(tmp_path / "empty.csv", ""))
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("\r\n".join([HEADER, *ROWS, ROWS[0].replace("Phone", "Téléphone")]).encode("latin-1"))
    with pytest.raises(ImportDataError, match="not valid utf-8") as caught:
        import_hillstrom(store, latin1)
    assert caught.value.line == 8
    assert counts(store) == {}


def test_cli_prints_summary_and_exits_2_on_bad_input(db_url: str, tmp_path: Path) -> None:
    good = cli_import("hillstrom", csv_file(tmp_path), db_url)
    assert good.exit_code == 0, good.output
    assert "added 6 customers, 1 campaigns, 6 campaign members" in good.output
    bad = cli_import(
        "hillstrom", write(tmp_path / "bad.csv", f"{HEADER}\n{ROWS[0].replace('Phone,', 'Phone,?')}"), db_url
    )
    assert bad.exit_code == 2
    assert "bad.csv, line 2, column 'segment'" in bad.output


def test_real_file_reproduces_the_published_results(store: Store) -> None:
    """Visit rate and spend per customer of the mens e-mail against no e-mail, from the stored members."""
    import_hillstrom(store, real_file("hillstrom-email-2008", "hillstrom.csv"))
    visited = func.sum(case((CampaignMember.responded.is_(True), 1), else_=0))
    converted = func.sum(case((CampaignMember.converted.is_(True), 1), else_=0))
    with store.session() as s:
        rows = s.execute(
            select(
                CampaignMember.arm, func.count(), visited, converted, func.sum(CampaignMember.revenue)
            ).group_by(CampaignMember.arm)
        ).all()
    arms = {arm: (n, int(v), int(c), float(spend)) for arm, n, v, c, spend in rows}
    assert {arm: n for arm, (n, *_) in arms.items()} == {
        "Mens E-Mail": 21_307,
        "Womens E-Mail": 21_387,
        "No E-Mail": 21_306,
    }
    assert sum(v for _, v, _, _ in arms.values()) == 9_394
    assert sum(c for _, _, c, _ in arms.values()) == 578
    n, visits, _, spend = arms["Mens E-Mail"]
    assert (round(100 * visits / n, 2), round(spend / n, 2)) == (18.28, 1.42)
    n, visits, _, spend = arms["No E-Mail"]
    assert (round(100 * visits / n, 2), round(spend / n, 2)) == (10.62, 0.65)
