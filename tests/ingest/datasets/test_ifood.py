from __future__ import annotations

from pathlib import Path

import pytest
from _files import cli_import, counts, real_file, write
from sqlalchemy import select

from kizuna.errors import ImportDataError
from kizuna.ingest.datasets.ifood import import_ifood
from kizuna.store import Store
from kizuna.store.tables import Campaign, CampaignMember, Customer

HEADER = (
    "ID,Year_Birth,Education,Marital_Status,Income,Kidhome,Teenhome,Dt_Customer,Recency,MntWines,"
    "MntFruits,MntMeatProducts,MntFishProducts,MntSweetProducts,MntGoldProds,NumDealsPurchases,"
    "NumWebPurchases,NumCatalogPurchases,NumStorePurchases,NumWebVisitsMonth,AcceptedCmp3,AcceptedCmp4,"
    "AcceptedCmp5,AcceptedCmp1,AcceptedCmp2,Complain,Z_CostContact,Z_Revenue,Response"
)
ROWS = [
    "5524,1957,Graduation,Single,58138,0,0,2012-09-04,58,635,88,546,172,88,88,3,8,10,4,7,0,0,0,0,0,0,3,11,1",
    "2174,1954,Graduation,Single,46344,1,1,2014-03-08,38,11,1,6,2,1,6,2,1,1,2,5,0,0,0,0,0,0,3,11,0",
    "1994,1983,Graduation,Married,,1,0,2013-11-15,11,5,5,6,0,2,1,1,1,0,2,7,1,0,0,1,0,1,3,11,0",
]
COLUMNS = HEADER.split(",")


def csv_file(tmp_path: Path, rows: list[str] = ROWS, header: str = HEADER) -> Path:
    return write(tmp_path / "ml_project1_data.csv", "\n".join([header, *rows]) + "\n", newline="\r\n")


def test_customers_attributes_and_six_campaigns(store: Store, tmp_path: Path) -> None:
    summary = import_ifood(store, csv_file(tmp_path))
    assert summary.added == {"customers": 3, "campaigns": 6, "campaign_members": 18}
    with store.session() as s:
        customers = {c.external_id: c for c in s.scalars(select(Customer))}
        campaigns = {c.external_id: c for c in s.scalars(select(Campaign))}
        responses = {
            (campaign, customer): (m.arm, m.is_control, m.responded)
            for campaign, customer, m in s.execute(
                select(Campaign.external_id, Customer.external_id, CampaignMember)
                .join(Campaign, Campaign.id == CampaignMember.campaign_id)
                .join(Customer, Customer.id == CampaignMember.customer_id)
            )
        }
    assert customers["ifood-5524"].attributes == {
        "year_birth": 1957,
        "education": "Graduation",
        "marital_status": "Single",
        "income": 58138.0,
        "kidhome": 0,
        "teenhome": 0,
        "customer_since": "2012-09-04",
        "recency": 58,
        "mnt_wines": 635.0,
        "mnt_fruits": 88.0,
        "mnt_meat_products": 546.0,
        "mnt_fish_products": 172.0,
        "mnt_sweet_products": 88.0,
        "mnt_gold_prods": 88.0,
        "num_deals_purchases": 3,
        "num_web_purchases": 8,
        "num_catalog_purchases": 10,
        "num_store_purchases": 4,
        "num_web_visits_month": 7,
        "complain": False,
    }
    married = customers["ifood-1994"].attributes
    assert (married["income"], married["complain"]) == (None, True)
    assert sorted(campaigns) == [f"ifood-cmp{n}" for n in range(1, 7)]
    assert all(
        c.attributes["cost_per_contact"] == 3 and c.attributes["revenue_per_response"] == 11
        for c in campaigns.values()
    )
    assert campaigns["ifood-cmp6"].attributes["source_column"] == "Response"
    assert campaigns["ifood-cmp3"].attributes["source_column"] == "AcceptedCmp3"
    assert responses["ifood-cmp6", "ifood-5524"] == ("offer", False, True)
    assert responses["ifood-cmp6", "ifood-2174"] == ("offer", False, False)
    responders = {key for key, (_, _, responded) in responses.items() if responded}
    assert responders == {
        ("ifood-cmp6", "ifood-5524"),
        ("ifood-cmp1", "ifood-1994"),
        ("ifood-cmp3", "ifood-1994"),
    }


def test_second_import_adds_nothing(store: Store, tmp_path: Path) -> None:
    path = csv_file(tmp_path)
    import_ifood(store, path)
    assert import_ifood(store, path).added == {}


def with_cell(row: int, column: str, value: str) -> list[str]:
    rows = list(ROWS)
    cells = rows[row].split(",")
    cells[COLUMNS.index(column)] = value
    rows[row] = ",".join(cells)
    return rows


BAD_INPUTS = {
    "income not a number": (with_cell(1, "Income", "46k"), 3, "Income"),
    "date not a date": (with_cell(0, "Dt_Customer", "04/09/2012x"), 2, "Dt_Customer"),
    "response not 0/1": (with_cell(2, "Response", "yes"), 4, "Response"),
    "blank education": (with_cell(2, "Education", ""), 4, "Education"),
    "constant that changes": (with_cell(2, "Z_Revenue", "12"), 4, "Z_Revenue"),
    "duplicate ID": ([*ROWS, ROWS[0]], 5, "ID"),
    "field missing": ([*ROWS[:2], ROWS[2].rsplit(",", 1)[0]], 4, None),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_names_line_and_column_and_writes_nothing(store: Store, tmp_path: Path, case: str) -> None:
    rows, line, column = BAD_INPUTS[case]
    with pytest.raises(ImportDataError) as caught:
        import_ifood(store, csv_file(tmp_path, rows))
    assert (caught.value.line, caught.value.column) == (line, column)
    assert counts(store) == {}


def test_missing_column_empty_file_and_bad_bytes(store: Store, tmp_path: Path) -> None:
    without_response = HEADER.removesuffix(",Response")
    rows = [r.rsplit(",", 1)[0] for r in ROWS]
    with pytest.raises(ImportDataError, match="missing from the header") as caught:
        import_ifood(store, csv_file(tmp_path, rows, header=without_response))
    assert (caught.value.line, caught.value.column) == (1, "Response")
    with pytest.raises(ImportDataError, match="the file is empty"):
        import_ifood(store, write(tmp_path / "empty.csv", "\n\n"))
    cp1252 = tmp_path / "cp1252.csv"
    cp1252.write_bytes("\n".join([HEADER, *with_cell(0, "Education", "Pós-graduação")]).encode("cp1252"))
    with pytest.raises(ImportDataError, match="not valid utf-8") as caught:
        import_ifood(store, cp1252)
    assert caught.value.line == 2
    assert counts(store) == {}


def test_cli_prints_summary_and_exits_2_on_bad_input(db_url: str, tmp_path: Path) -> None:
    good = cli_import("ifood", csv_file(tmp_path), db_url)
    assert good.exit_code == 0, good.output
    assert "added 3 customers, 6 campaigns, 18 campaign members" in good.output
    (tmp_path / "bad").mkdir()
    bad = cli_import("ifood", csv_file(tmp_path / "bad", with_cell(0, "Kidhome", "one")), db_url)
    assert bad.exit_code == 2
    assert "line 2, column 'Kidhome'" in bad.output


def test_real_ifood_file(store: Store) -> None:
    summary = import_ifood(store, real_file("ifood-crm-marketing-campaign", "ml_project1_data.csv"))
    assert summary.added == {"customers": 2240, "campaigns": 6, "campaign_members": 6 * 2240}
    with store.session() as s:
        responders = s.scalars(
            select(CampaignMember.id)
            .join(Campaign)
            .where(Campaign.external_id == "ifood-cmp6", CampaignMember.responded.is_(True))
        ).all()
    assert len(responders) == 334
