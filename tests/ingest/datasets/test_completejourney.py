from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _files import cli_import, counts, real_file
from sqlalchemy import select

from kizuna.errors import ImportDataError
from kizuna.ingest.datasets.completejourney import import_completejourney
from kizuna.ingest.datasets.completejourney_files import check_folder
from kizuna.ingest.datasets.completejourney_orders import read_baskets
from kizuna.store import Store
from kizuna.store.tables import (
    Campaign,
    CampaignMember,
    Coupon,
    CouponProduct,
    CouponRedemption,
    Customer,
    Order,
    OrderLine,
    Product,
)

T = datetime  # naive, as in the files: UTC for transaction_timestamp, New York days for the dates

# Basket 100 has three lines (one for a product missing from products.parquet, one carrying only a
# coupon); basket 300 is bought late on New Year's Eve in New York, which is already 2018 in UTC.
TRANSACTIONS: dict[str, list[Any]] = {
    "household_id": [1, 2, 1, 1, 3],
    "store_id": [10, 11, 10, 10, 12],
    "basket_id": [100, 200, 100, 100, 300],
    "product_id": [1001, 1002, 1002, 9999, 1001],
    "quantity": [1, 2, 0, 3, 1],
    "sales_value": [2.50, 3.10, 0.0, 4.50, 1.00],
    "retail_disc": [0.50, 0.0, 0.0, 0.30, 0.0],
    "coupon_disc": [0.0, 1.00, 1.00, 0.0, 0.0],
    "coupon_match_disc": [0.0, 0.30, 0.0, 0.0, 0.0],
    "week": [3, 27, 3, 3, 45],
    "transaction_timestamp": [
        T(2017, 1, 15, 10, 0),
        T(2017, 7, 1, 9, 30),
        T(2017, 1, 15, 10, 0),
        T(2017, 1, 15, 10, 0),
        T(2018, 1, 1, 4, 1),
    ],
}
DEMOGRAPHICS: dict[str, list[Any]] = {
    "household_id": [1, 4],
    "age": ["45-54", "65+"],
    "income": ["50-74K", "Under 15K"],
    "home_ownership": [None, "Renter"],
    "marital_status": ["Married", None],
    "household_size": ["2", "1"],
    "household_comp": ["2 Adults No Kids", "1 Adult No Kids"],
    "kids_count": ["0", "0"],
}
PRODUCTS: dict[str, list[Any]] = {
    "product_id": [1001, 1002, 1003],
    "manufacturer_id": [2, 2, 69],
    "department": ["GROCERY", "MISCELLANEOUS", "PASTRY"],
    "brand": ["National", "National", "Private"],
    "product_category": ["FRZN ICE", None, "BREAD"],
    "product_type": ["ICE - CRUSHED/CUBED", None, "BREAD:ITALIAN/FRENCH"],
    "package_size": ["22 LB", None, None],
}
DESCRIPTIONS: dict[str, list[Any]] = {
    "campaign_id": [1, 2],
    "campaign_type": ["Type A", "Type B"],
    "start_date": [T(2017, 3, 3), T(2017, 10, 30)],
    "end_date": [T(2017, 4, 9), T(2017, 11, 5)],
}
CAMPAIGNS: dict[str, list[Any]] = {"campaign_id": [1, 1, 2], "household_id": [1, 2, 5]}
# UPC 555 is used by two campaigns; 8888 is in no products file; the last row repeats the first.
COUPONS: dict[str, list[Any]] = {
    "coupon_upc": [555, 555, 555, 777, 555],
    "product_id": [1001, 1002, 1001, 8888, 1001],
    "campaign_id": [1, 1, 2, 2, 1],
}
REDEMPTIONS: dict[str, list[Any]] = {
    "household_id": [1, 6],
    "coupon_upc": [555, 777],
    "campaign_id": [1, 2],
    "redemption_date": [T(2017, 3, 10), T(2017, 11, 1)],
}
FILES = {
    "transactions": TRANSACTIONS,
    "demographics": DEMOGRAPHICS,
    "products": PRODUCTS,
    "campaign_descriptions": DESCRIPTIONS,
    "campaigns": CAMPAIGNS,
    "coupons": COUPONS,
    "coupon_redemptions": REDEMPTIONS,
}


def write_folder(folder: Path, **changes: dict[str, list[Any]]) -> Path:
    """The seven files, each a Parquet table; ``changes`` replaces whole files."""
    folder.mkdir(exist_ok=True)
    for stem, columns in {**FILES, **changes}.items():
        pq.write_table(pa.table(columns), folder / f"{stem}.parquet")
    return folder


def all_of(store: Store, model: Any) -> list[Any]:
    with store.session() as s:
        return list(s.scalars(select(model)))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_every_file_maps_to_its_tables(store: Store, tmp_path: Path) -> None:
    summary = import_completejourney(store, write_folder(tmp_path / "cj"))
    expected = {
        "customers": 6,  # households 1-3 buy, 4 only has demographics, 5 a campaign, 6 a redemption
        "products": 5,  # three listed, plus 9999 (bought) and 8888 (on a coupon)
        "orders": 3,
        "order_lines": 5,
        "campaigns": 2,
        "campaign_members": 3,
        "coupons": 3,
        "coupon_products": 4,
        "coupon_redemptions": 2,
    }
    assert summary.added == expected
    assert {k: v for k, v in counts(store).items() if k != "import_runs"} == expected


def test_households_become_customers_with_their_demographics(store: Store, tmp_path: Path) -> None:
    import_completejourney(store, write_folder(tmp_path / "cj"), prefix="x-")
    customers = {c.external_id: c for c in all_of(store, Customer)}
    assert sorted(customers) == [f"x-{h}" for h in range(1, 7)]
    one = customers["x-1"]
    assert (one.country, one.timezone) == ("US", "America/New_York")
    assert one.attributes == {
        "age": "45-54",
        "income": "50-74K",
        "marital_status": "Married",
        "household_size": "2",
        "household_comp": "2 Adults No Kids",
        "kids_count": "0",
    }
    assert customers["x-5"].attributes == {}


def test_products_get_titles_paths_and_placeholders(store: Store, tmp_path: Path) -> None:
    summary = import_completejourney(store, write_folder(tmp_path / "cj"))
    assert any("2 product ids" in note for note in summary.notes)
    products = {p.sku: p for p in all_of(store, Product)}
    ice = products["cj-1001"]
    assert ice.title == "ICE - CRUSHED/CUBED (22 LB)"
    assert ice.category_path == "GROCERY/FRZN ICE/ICE - CRUSHED|CUBED"
    assert (ice.brand, ice.currency) == ("National", "USD")
    assert ice.attributes["manufacturer_id"] == 2
    assert ice.attributes["product_type"] == "ICE - CRUSHED/CUBED"
    misc = products["cj-1002"]
    assert (misc.title, misc.category_path) == ("MISCELLANEOUS", "MISCELLANEOUS")
    for missing in ("cj-9999", "cj-8888"):
        assert products[missing].title
        assert products[missing].attributes["not_in_products_file"] is True


def test_each_basket_is_one_order_with_its_lines_and_sums(store: Store, tmp_path: Path) -> None:
    import_completejourney(store, write_folder(tmp_path / "cj"))
    orders = {o.external_id: o for o in all_of(store, Order)}
    skus = {p.id: p.sku for p in all_of(store, Product)}
    lines: dict[int, list[OrderLine]] = {}
    for line in sorted(all_of(store, OrderLine), key=lambda x: x.line_no):
        lines.setdefault(line.order_id, []).append(line)
    basket = orders["cj-100"]
    assert (basket.channel, basket.status, basket.currency) == ("store", "completed", "USD")
    assert basket.attributes == {"store_id": 10, "week": 3}
    # shelf value 3.00 + 0 + 4.80; discounts 0.50 + 1.00 (coupon) + 0.30; sales 2.50 + 0 + 4.50
    assert (basket.subtotal, basket.discount, basket.total) == (7.8, 1.8, 7.0)
    got = [
        (skus[x.product_id], x.line_no, x.quantity, x.unit_price, x.discount, x.amount)
        for x in lines[basket.id]
    ]
    assert got == [
        ("cj-1001", 1, 1, 3.0, 0.5, 2.5),
        ("cj-1002", 2, 0, 0.0, 1.0, 0.0),  # a coupon-only row: no quantity, no division by zero
        ("cj-9999", 3, 3, 1.6, 0.3, 4.5),
    ]
    summer = orders["cj-200"]
    assert (summer.subtotal, summer.discount, summer.total) == (3.4, 1.3, 3.1)
    assert [(x.quantity, x.unit_price) for x in lines[summer.id]] == [(2, 1.7)]
    customers = {c.id: c.external_id for c in all_of(store, Customer)}
    assert {o.external_id: customers[o.customer_id] for o in orders.values()} == {
        "cj-100": "cj-1",
        "cj-200": "cj-2",
        "cj-300": "cj-3",
    }


def test_transaction_times_are_utc_and_dates_are_new_york_days(store: Store, tmp_path: Path) -> None:
    import_completejourney(store, write_folder(tmp_path / "cj"))
    ordered = {o.external_id: o.ordered_at for o in all_of(store, Order)}
    assert ordered == {
        "cj-100": utc(2017, 1, 15, 10, 0),
        "cj-200": utc(2017, 7, 1, 9, 30),
        "cj-300": utc(2018, 1, 1, 4, 1),
    }
    campaigns = {c.external_id: c for c in all_of(store, Campaign)}
    first = campaigns["cj-campaign-1"]
    # Starts at midnight before 3 March (EST), ends at midnight after 9 April (EDT by then).
    assert (first.starts_at, first.ends_at) == (utc(2017, 3, 3, 5), utc(2017, 4, 10, 4))
    redeemed = sorted(r.redeemed_at for r in all_of(store, CouponRedemption))
    assert redeemed == [utc(2017, 3, 10, 5), utc(2017, 11, 1, 4)]


def test_campaigns_members_coupons_and_redemptions(store: Store, tmp_path: Path) -> None:
    import_completejourney(store, write_folder(tmp_path / "cj"))
    campaigns = {c.id: c for c in all_of(store, Campaign)}
    customers = {c.id: c.external_id for c in all_of(store, Customer)}
    skus = {p.id: p.sku for p in all_of(store, Product)}
    by_name = {c.external_id: c for c in campaigns.values()}
    assert by_name["cj-campaign-2"].kind == "Type B"
    assert by_name["cj-campaign-2"].name == "Campaign 2 (Type B)"
    members = {
        (campaigns[m.campaign_id].external_id, customers[m.customer_id], m.arm, m.is_control)
        for m in all_of(store, CampaignMember)
    }
    assert members == {
        ("cj-campaign-1", "cj-1", "targeted", False),
        ("cj-campaign-1", "cj-2", "targeted", False),
        ("cj-campaign-2", "cj-5", "targeted", False),
    }
    coupons = {c.id: c for c in all_of(store, Coupon)}
    # One UPC in two campaigns gives two coupons, so codes stay unique.
    assert sorted(c.code for c in coupons.values()) == ["cj-1-555", "cj-2-555", "cj-2-777"]
    assert {campaigns[c.campaign_id].external_id for c in coupons.values() if c.code == "cj-2-555"} == {
        "cj-campaign-2"
    }
    links = {(coupons[x.coupon_id].code, skus[x.product_id]) for x in all_of(store, CouponProduct)}
    assert links == {
        ("cj-1-555", "cj-1001"),
        ("cj-1-555", "cj-1002"),
        ("cj-2-555", "cj-1001"),
        ("cj-2-777", "cj-8888"),
    }
    redemptions = {
        (coupons[r.coupon_id].code, customers[r.customer_id]) for r in all_of(store, CouponRedemption)
    }
    assert redemptions == {("cj-1-555", "cj-1"), ("cj-2-777", "cj-6")}


def test_a_second_import_adds_nothing(store: Store, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "cj")
    import_completejourney(store, folder)
    before = counts(store)
    again = import_completejourney(store, folder)
    assert again.added == {}
    assert "nothing new" in again.describe()
    after = counts(store)
    assert {k: v for k, v in after.items() if k != "import_runs"} == {
        k: v for k, v in before.items() if k != "import_runs"
    }


@pytest.mark.parametrize(("stem", "column"), [("transactions", "basket_id"), ("coupons", "coupon_upc")])
def test_a_missing_column_names_file_and_column(store: Store, tmp_path: Path, stem: str, column: str) -> None:
    folder = write_folder(tmp_path / "cj", **{stem: {k: v for k, v in FILES[stem].items() if k != column}})
    with pytest.raises(ImportDataError) as caught:
        import_completejourney(store, folder)
    assert caught.value.path == str(folder / f"{stem}.parquet")
    assert caught.value.column == column
    assert column in str(caught.value) and "integer column" in str(caught.value)
    assert counts(store) == {}


def test_a_missing_file_is_named(store: Store, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "cj")
    (folder / "coupons.parquet").unlink()
    with pytest.raises(ImportDataError, match=r"coupons\.parquet: file is missing"):
        import_completejourney(store, folder)


def test_an_empty_id_names_its_row(store: Store, tmp_path: Path) -> None:
    broken = {**TRANSACTIONS, "household_id": [1, 2, None, 1, 3]}
    with pytest.raises(ImportDataError, match=r"row 3 has no value") as caught:
        import_completejourney(store, write_folder(tmp_path / "cj", transactions=broken))
    assert caught.value.column == "household_id"


def test_a_bad_redemption_found_last_rolls_back_everything(store: Store, tmp_path: Path) -> None:
    # Found only after customers, products, campaigns, coupons and orders were written.
    unknown = {**REDEMPTIONS, "coupon_upc": [555, 123]}
    with pytest.raises(ImportDataError, match="row 2 redeems coupon 123 of campaign 2") as caught:
        import_completejourney(store, write_folder(tmp_path / "cj", coupon_redemptions=unknown))
    assert caught.value.path is not None and caught.value.path.endswith("coupon_redemptions.parquet")
    assert counts(store) == {}


def test_the_cli_imports_and_prints_a_summary(db_url: str, store: Store, tmp_path: Path) -> None:
    result = cli_import("completejourney", write_folder(tmp_path / "cj"), db_url)
    assert result.exit_code == 0, result.output
    assert "completejourney" in result.output
    assert "3 orders" in result.output and "5 order lines" in result.output
    assert counts(store)["orders"] == 3


def test_the_real_transactions_group_into_their_baskets() -> None:
    folder = real_file("dunnhumby-completejourney-8451-pypi")
    files = check_folder(folder)
    baskets = read_baskets(files["transactions"])
    assert (baskets.rows, len(baskets.basket_id)) == (1_469_307, 155_848)
    assert int(baskets.counts.sum()) == baskets.rows
