from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from kizuna.config import Settings
from kizuna.errors import ConfigError, ImportDataError
from kizuna.ingest.tabular import import_file
from kizuna.store import Store
from kizuna.store.tables import Customer, Event, Identity, Interaction, Order, Product


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def count(store: Store, model: type) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


CUSTOMERS = """customer_id,name,kana,email,postal_code,prefecture,birthday,会員ランク
c1,山田 太郎,ヤマダ タロウ,taro@example.jp,150-0001,東京都,1980/01/02,gold
c2,佐藤 花子,サトウ ハナコ,hanako@example.jp,530-0001,大阪府,1990-05-06,
"""
PRODUCTS = """sku,title,price,category,trial
p1,コーヒー豆 200g,1280,食品/コーヒー,no
p2,化粧水 お試しセット,"¥1,000",スキンケア/化粧水,yes
"""
ORDERS = """order_id,customer_id,ordered_at,sku,quantity,unit_price,coupon_code
o1,c1,2024-03-01 10:00,p1,2,1280,WELCOME
o2,c9,2024-03-02T09:30:00+09:00,p2,1,1000,
o1,c1,2024-03-01 10:00,p2,1,1000,WELCOME
"""


def test_customers_with_aliases_mapping_and_extra_attributes(store: Store, tmp_path: Path) -> None:
    summary = import_file(
        store, write(tmp_path / "c.csv", CUSTOMERS), "customers", mapping={"birthday": "birth_date"}
    )
    assert summary.added == {"customers": 2}
    with store.session() as s:
        taro = s.scalars(select(Customer).where(Customer.external_id == "c1")).one()
        hanako = s.scalars(select(Customer).where(Customer.external_id == "c2")).one()
    assert (taro.name, taro.name_kana, taro.postal_code) == (
        "山田 太郎",
        "ヤマダ タロウ",
        "150-0001",
    )
    assert taro.birth_date is not None and taro.birth_date.isoformat() == "1980-01-02"
    assert taro.attributes == {"会員ランク": "gold"}
    assert hanako.attributes == {}


def test_same_file_twice_adds_nothing(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", CUSTOMERS)
    import_file(store, path, "customers")
    again = import_file(store, path, "customers")
    assert again.added == {}
    assert count(store, Customer) == 2


def test_update_overwrites_existing_customers(store: Store, tmp_path: Path) -> None:
    import_file(store, write(tmp_path / "c.csv", CUSTOMERS), "customers")
    changed = CUSTOMERS.replace("taro@example.jp", "taro.new@example.jp")
    import_file(store, write(tmp_path / "c2.csv", changed), "customers", update=True)
    with store.session() as s:
        assert s.scalar(select(Customer.email).where(Customer.external_id == "c1")) == "taro.new@example.jp"
    assert count(store, Customer) == 2


def test_products_parse_prices_and_flags(store: Store, tmp_path: Path) -> None:
    import_file(store, write(tmp_path / "p.csv", PRODUCTS), "products")
    with store.session() as s:
        trial = s.scalars(select(Product).where(Product.sku == "p2")).one()
    assert trial.price == 1000.0 and trial.is_trial and trial.in_stock and not trial.is_subscription
    assert trial.category_path == "スキンケア/化粧水" and trial.currency == "JPY"


def test_orders_group_lines_compute_totals_and_create_unknown_customers(store: Store, tmp_path: Path) -> None:
    import_file(store, write(tmp_path / "c.csv", CUSTOMERS), "customers")
    import_file(store, write(tmp_path / "p.csv", PRODUCTS), "products")
    summary = import_file(store, write(tmp_path / "o.csv", ORDERS), "orders")
    assert summary.added == {"customers": 1, "orders": 2, "order_lines": 3}
    with store.session() as s:
        o1 = s.scalars(select(Order).where(Order.external_id == "o1")).one()
        o2 = s.scalars(select(Order).where(Order.external_id == "o2")).one()
        assert [ln.line_no for ln in o1.lines] == [1, 2]
        assert [ln.product.sku for ln in o1.lines] == ["p1", "p2"]
    assert o1.total == 2 * 1280 + 1000 and o1.coupon_code == "WELCOME"
    # Times without a zone are in the default timezone (Asia/Tokyo), stored in UTC.
    assert o1.ordered_at.isoformat() == "2024-03-01T01:00:00+00:00"
    assert o2.ordered_at.isoformat() == "2024-03-02T00:30:00+00:00"


def test_order_statuses_are_kept_in_lower_case(store: Store, tmp_path: Path) -> None:
    import_file(store, write(tmp_path / "p.csv", PRODUCTS), "products")
    orders = "order_id,customer_id,ordered_at,sku,unit_price,status\n" + "".join(
        f"o{n},c1,2024-03-0{n},p1,100,{status}\n"
        for n, status in enumerate(["Shipped", " CANCELLED ", ""], 1)
    )
    import_file(store, write(tmp_path / "o.csv", orders), "orders")
    with store.session() as s:
        statuses = dict(s.execute(select(Order.external_id, Order.status)).tuples().all())
    assert statuses == {"o1": "shipped", "o2": "cancelled", "o3": "completed"}


def test_unknown_product_aborts_with_line_and_writes_nothing(store: Store, tmp_path: Path) -> None:
    import_file(store, write(tmp_path / "p.csv", PRODUCTS), "products")
    bad = ORDERS + "o3,c1,2024-03-03,p404,1,10,\n"
    with pytest.raises(ImportDataError) as err:
        import_file(store, write(tmp_path / "o.csv", bad), "orders")
    assert err.value.line == 5 and err.value.column == "sku" and "p404" in str(err.value)
    assert "o.csv" in str(err.value)
    assert count(store, Order) == 0 and count(store, Customer) == 0


@pytest.mark.parametrize(
    ("text", "line", "column", "expected"),
    [
        ("customer_id,birth_date\nc1,1980-01-01\nc2,1980-02-30\n", 3, "birth_date", "a date"),
        ("customer_id,name\nc1,a,b\n", 2, None, "2 fields"),
        ("name,email\nx,y\n", 1, "external_id", "customer_id"),
    ],
)
def test_bad_customer_files_name_line_column_and_expectation(
    store: Store, tmp_path: Path, text: str, line: int, column: str | None, expected: str
) -> None:
    with pytest.raises(ImportDataError) as err:
        import_file(store, write(tmp_path / "bad.csv", text), "customers")
    assert err.value.line == line
    assert err.value.column == column
    assert expected in str(err.value)
    assert count(store, Customer) == 0


def test_non_utf8_file_is_refused_at_its_line_and_cp932_is_readable(store: Store, tmp_path: Path) -> None:
    sjis = write(tmp_path / "sjis.csv", "customer_id,name\nc1,山田 太郎\n", encoding="cp932")
    with pytest.raises(ImportDataError, match="cp932") as err:
        import_file(store, sjis, "customers")
    assert err.value.line == 2
    import_file(store, sjis, "customers", encoding="cp932")
    with store.session() as s:
        assert s.scalar(select(Customer.name)) == "山田 太郎"


def test_empty_file_is_refused(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ImportDataError, match="empty"):
        import_file(store, write(tmp_path / "empty.csv", ""), "products")


def test_bad_row_after_earlier_batches_rolls_everything_back(store: Store, tmp_path: Path) -> None:
    rows = "".join(f"c{i},Name {i},1980-01-01\n" for i in range(250))
    text = "customer_id,name,birth_date\n" + rows + "c999,Bad,not-a-date\n"
    settings = Settings(import_batch_size=100)
    with pytest.raises(ImportDataError) as err:
        import_file(store, write(tmp_path / "c.csv", text), "customers", settings=settings)
    assert err.value.line == 252
    assert count(store, Customer) == 0


def test_mapping_to_unknown_field_is_a_config_error(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no field 'birthday_of'"):
        import_file(
            store,
            write(tmp_path / "c.csv", CUSTOMERS),
            "customers",
            mapping={"name": "birthday_of"},
        )


def test_interactions_create_minimal_customers_and_products(store: Store, tmp_path: Path) -> None:
    text = "user,item,timestamp,weight\nu1,i1,1700000000,5\nu1,i2,,\nu2,i1,2024-01-01,\nu1,i2,,\n"
    summary = import_file(store, write(tmp_path / "i.csv", text), "interactions")
    assert summary.added == {"customers": 2, "products": 2, "interactions": 4}
    with store.session() as s:
        weights = sorted(s.scalars(select(Interaction.weight)))
        assert s.scalar(select(Product.title).where(Product.sku == "i1")) == "i1"
    assert weights == [1.0, 1.0, 1.0, 5.0]
    again = import_file(store, write(tmp_path / "i2.csv", text), "interactions")
    assert again.added == {}


def test_events_keep_properties_link_identities_and_drop_duplicate_message_ids(
    store: Store, tmp_path: Path
) -> None:
    text = (
        "message_id,event,customer_id,anonymous_id,timestamp,sku,properties\n"
        'm1,Product Viewed,c1,anon-1,2024-05-01T12:00:00Z,p1,"{""price"": 1280}"\n'
        "m2,Product Added,,anon-2,2024-05-01T12:05:00Z,p1,\n"
        "m1,Product Viewed,c1,anon-1,2024-05-01T12:00:00Z,p1,\n"
    )
    summary = import_file(store, write(tmp_path / "e.csv", text), "events")
    assert summary.added == {"customers": 1, "events": 2, "identities": 1}
    with store.session() as s:
        viewed = s.scalars(select(Event).where(Event.message_id == "m1")).one()
        identity = s.scalars(select(Identity)).one()
    assert viewed.properties == {"price": 1280, "sku": "p1"} and viewed.type == "track"
    assert identity.value == "anon-1" and identity.customer_id == viewed.customer_id


def test_event_without_any_id_is_refused(store: Store, tmp_path: Path) -> None:
    text = "event,timestamp\nSignup,2024-05-01\n"
    with pytest.raises(ImportDataError, match="neither a customer nor an anonymous id"):
        import_file(store, write(tmp_path / "e.csv", text), "events")


def test_parquet_files_import_like_csv_and_report_rows(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"sku": ["a", "b"], "title": ["A", "B"], "price": [100.0, 200.0]}), path)
    assert import_file(store, path, "products").added == {"products": 2}
    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"sku": ["a", "c"], "title": ["A", None]}), bad)
    with pytest.raises(ImportDataError) as err:
        import_file(store, bad, "products")
    assert "row 2" in str(err.value) and err.value.column == "title"
