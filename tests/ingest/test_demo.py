"""The demo store written to a database: determinism, idempotency, consistency, behaviour and the CLI."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

import kizuna.ingest.demo as demo
from kizuna.cli import main
from kizuna.ingest.demo import demo_preferences, generate_demo_store
from kizuna.store import Store, open_store
from kizuna.store.tables import Consent, Customer, Event, Identity, Order, OrderLine, Product

AS_OF = date(2026, 1, 31)
# The last second of the as-of date in Tokyo, and two years (plus pre-sign-up visits) before it.
END = datetime(2026, 1, 31, 14, 59, 59, tzinfo=UTC)
START = END - timedelta(days=730 + 11)


def _all(store: Store, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def _snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every generated row, by external keys (internal ids differ between databases).

    Typed selects, so both backends give the same Python values (aware datetimes, floats, dicts).
    """
    c, o, p = Customer, Order, Product
    queries = {
        "customers": select(
            c.external_id, c.name, c.name_kana, c.email, c.phone, c.postal_code, c.prefecture,
            c.city, c.address_line1, c.address_line2, c.birth_date, c.gender, c.attributes,
            c.created_at,
        ).order_by(c.external_id),
        "orders": select(
            o.external_id, c.external_id, o.ordered_at, o.channel, o.subtotal, o.discount,
            o.shipping, o.total, o.coupon_code, o.attributes,
        ).join(c, c.id == o.customer_id).order_by(o.external_id),
        "lines": select(
            o.external_id, OrderLine.line_no, p.sku, OrderLine.quantity, OrderLine.amount
        ).join(o, o.id == OrderLine.order_id).join(p, p.id == OrderLine.product_id)
        .order_by(o.external_id, OrderLine.line_no),
        "events": select(
            Event.message_id, Event.type, Event.name, Event.anonymous_id, Event.occurred_at,
            Event.properties, Event.context,
        ).order_by(Event.message_id),
        "consents": select(
            c.external_id, Consent.purpose, Consent.status, Consent.source, Consent.recorded_at
        ).join(c, c.id == Consent.customer_id)
        .order_by(c.external_id, Consent.purpose, Consent.recorded_at, Consent.status),
        "identities": select(Identity.value, Identity.first_seen_at, Identity.last_seen_at)
        .order_by(Identity.value),
        "products": select(p.sku, p.title, p.description, p.price, p.in_stock, p.attributes)
        .order_by(p.sku),
    }  # fmt: skip
    with store.engine.connect() as conn:
        return {name: [tuple(r) for r in conn.execute(q)] for name, q in queries.items()}


def _sqlite(tmp_path: Path, name: str) -> Store:
    return open_store(f"sqlite:///{tmp_path / name}")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """One 200-customer demo store (SQLite) shared by the read-only checks."""
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'shop.db'}")
    generate_demo_store(store, customers=200, seed=7, as_of=AS_OF)
    return store


# -- determinism and idempotency ------------------------------------------------------------------


def test_same_seed_gives_identical_rows_on_every_backend(store: Store, tmp_path: Path) -> None:
    generate_demo_store(store, customers=60, seed=3, as_of=AS_OF)
    again = _sqlite(tmp_path, "again.db")
    generate_demo_store(again, customers=60, seed=3, as_of=AS_OF)
    first, second = _snapshot(store), _snapshot(again)
    for table in first:
        assert first[table] == second[table], table
    assert len(first["customers"]) == 60


def test_a_different_seed_gives_a_different_store(tmp_path: Path) -> None:
    one, two = _sqlite(tmp_path, "one.db"), _sqlite(tmp_path, "two.db")
    generate_demo_store(one, customers=40, seed=1, as_of=AS_OF)
    generate_demo_store(two, customers=40, seed=2, as_of=AS_OF)
    a, b = _snapshot(one), _snapshot(two)
    assert [r[0] for r in a["customers"]] == [r[0] for r in b["customers"]]  # same keys ...
    assert [r[1:] for r in a["customers"]] != [r[1:] for r in b["customers"]]  # ... other people
    assert a["orders"] != b["orders"]
    assert a["products"] != b["products"]


def test_running_again_adds_nothing(store: Store) -> None:
    first = generate_demo_store(store, customers=40, seed=5, as_of=AS_OF)
    before = _snapshot(store)
    second = generate_demo_store(store, customers=40, seed=5, as_of=AS_OF)
    assert first.added["customers"] == 40
    assert first.added["consents"] > 0
    assert second.added == {}
    assert second.describe().startswith("nothing new")
    assert _snapshot(store) == before


def test_more_customers_later_adds_only_the_new_ones(store: Store, tmp_path: Path) -> None:
    generate_demo_store(store, customers=30, seed=5, as_of=AS_OF)
    more = generate_demo_store(store, customers=70, seed=5, as_of=AS_OF)
    assert more.added["customers"] == 40
    whole = _sqlite(tmp_path, "whole.db")
    generate_demo_store(whole, customers=70, seed=5, as_of=AS_OF)
    # Customer 7 is the same person with the same history whatever the store's size, and each
    # customer's consent history was written exactly once.
    assert _snapshot(store) == _snapshot(whole)


def test_existing_customers_are_never_mixed_with_another_seed(store: Store) -> None:
    generate_demo_store(store, customers=30, seed=1, as_of=AS_OF)
    before = _snapshot(store)
    again = generate_demo_store(store, customers=30, seed=2, as_of=AS_OF)
    # The same keys already exist: nothing is appended to their orders, events or consent history.
    assert again.added == {}
    assert _snapshot(store) == before


def test_counts_scale_with_customers(tmp_path: Path) -> None:
    small, large = _sqlite(tmp_path, "small.db"), _sqlite(tmp_path, "large.db")
    a = generate_demo_store(small, customers=25, seed=9, as_of=AS_OF).added
    b = generate_demo_store(large, customers=150, seed=9, as_of=AS_OF).added
    assert (a["customers"], b["customers"]) == (25, 150)
    assert (a["identities"], b["identities"]) == (25, 150)
    assert a["products"] == b["products"] >= 200
    for table, low, high in (
        ("orders", 1.5, 6), ("order_lines", 2, 9), ("events", 5, 20), ("consents", 4, 7),
    ):  # fmt: skip
        # Six times the customers, about six times the rows; per customer within the design's range.
        assert 3 < b[table] / a[table] < 12, table
        assert low < b[table] / 150 < high, table


def test_deferred_index_rebuild_leaves_the_schema_as_it_was(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    indexes = (
        "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 2"
        if store.dialect == "postgresql"
        else "SELECT tbl_name, name FROM sqlite_master WHERE type = 'index' ORDER BY 2"
    )
    before = _all(store, indexes)
    monkeypatch.setattr(demo, "DEFER_INDEXES_FROM", 1)
    generate_demo_store(store, customers=30, seed=4, as_of=AS_OF)
    assert _all(store, indexes) == before
    assert _all(store, "SELECT count(*) FROM events")[0][0] > 100


# -- consistency ----------------------------------------------------------------------------------


def test_every_order_has_lines_and_totals_that_add_up(store: Store) -> None:
    generate_demo_store(store, customers=80, seed=11, as_of=AS_OF)
    orders = _all(
        store,
        "SELECT o.subtotal, o.discount, o.shipping, o.tax, o.total, o.coupon_code, "
        "count(l.id), sum(l.amount), sum(l.unit_price * l.quantity) "
        "FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id GROUP BY o.id, o.subtotal, "
        "o.discount, o.shipping, o.tax, o.total, o.coupon_code",
    )
    assert len(orders) > 100
    for subtotal, discount, shipping, tax, total, coupon, n, amounts, gross in orders:
        assert n >= 1
        assert float(subtotal) == pytest.approx(float(amounts)) == pytest.approx(float(gross))
        assert float(total) == pytest.approx(float(subtotal) - float(discount) + float(shipping) + float(tax))
        assert (float(discount) > 0) == (coupon is not None)
        assert float(total) > 0
    assert any(r[5] for r in orders)
    channels = {r[0] for r in _all(store, "SELECT DISTINCT channel FROM orders")}
    assert channels == {"web", "app", "phone"}


def test_everything_happens_inside_the_window(shop: Store) -> None:
    for column, table in (
        ("ordered_at", "orders"),
        ("occurred_at", "events"),
        ("recorded_at", "consents"),
        ("created_at", "customers"),
    ):
        low, high = _all(shop, f"SELECT min({column}), max({column}) FROM {table}")[0]
        low = datetime.fromisoformat(str(low)).replace(tzinfo=UTC)
        high = datetime.fromisoformat(str(high)).replace(tzinfo=UTC)
        assert START <= low < high <= END, table
        assert high > END - timedelta(days=60), table


def test_customers_sign_up_before_they_buy_or_are_identified(shop: Store) -> None:
    early_orders = _all(
        shop,
        "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE o.ordered_at < c.created_at",
    )
    early_events = _all(
        shop,
        "SELECT count(*) FROM events e JOIN customers c ON c.id = e.customer_id "
        "WHERE e.occurred_at < c.created_at",
    )
    assert early_orders[0][0] == early_events[0][0] == 0


# -- behaviour ------------------------------------------------------------------------------------


def _lines_by_customer(shop: Store) -> dict[str, list[tuple[str, str, bool, bool]]]:
    rows = _all(
        shop,
        "SELECT c.external_id, o.external_id, p.sku, p.category_path, p.is_trial, p.is_subscription "
        "FROM order_lines l JOIN orders o ON o.id = l.order_id JOIN customers c ON c.id = o.customer_id "
        "JOIN products p ON p.id = l.product_id ORDER BY o.external_id, l.line_no",
    )
    out: dict[str, list[tuple[str, str, bool, bool]]] = defaultdict(list)
    for customer, _order, sku, category, trial, subscription in rows:
        out[customer].append((sku, category, bool(trial), bool(subscription)))
    return out


def test_purchases_follow_the_hidden_preferences(shop: Store) -> None:
    prefs = demo_preferences(7, 200)
    lines = _lines_by_customer(shop)
    everyone = Counter(cat for items in lines.values() for _, cat, trial, sub in items if not (trial or sub))
    total = sum(everyone.values())
    shares, chances = [], []
    for i, customer in enumerate(prefs.external_ids):
        bought = [cat for _, cat, trial, sub in lines.get(customer, []) if not (trial or sub)]
        if len(bought) < 3:
            continue
        top = {prefs.categories[c] for c in np.argsort(prefs.affinity[i])[-2:]}
        shares.append(sum(cat in top for cat in bought) / len(bought))
        chances.append(sum(everyone[c] for c in top) / total)
    assert len(shares) >= 60
    # Customers buy from their two favourite categories far more often than the shop's mix explains.
    assert np.mean(shares) > 0.75
    assert np.mean(shares) > 3 * np.mean(chances)


def test_customers_rebuy_and_trials_lead_to_full_size(shop: Store) -> None:
    lines = _lines_by_customer(shop)
    rebuyers = [c for c, items in lines.items() if max(Counter(s for s, *_ in items).values()) >= 2]
    assert len(rebuyers) > 40
    trial_first = [c for c, items in lines.items() if items[0][2]]
    assert len(trial_first) > 20
    converted = [c for c in trial_first if len(lines[c]) > 1 and not lines[c][1][2]]
    assert converted
    prefs = demo_preferences(7, 200)
    known = {prefs.external_ids[i] for i in np.flatnonzero(prefs.trial_first)}
    assert set(trial_first) <= known


def test_subscribers_receive_monthly_orders(shop: Store) -> None:
    rows = _all(
        shop,
        "SELECT o.customer_id, o.ordered_at FROM orders o WHERE o.attributes LIKE '%subscription%' "
        "ORDER BY o.customer_id, o.ordered_at",
    )
    by_customer: dict[int, list[datetime]] = defaultdict(list)
    for customer, at in rows:
        by_customer[customer].append(datetime.fromisoformat(str(at)))
    regular = [days for days in by_customer.values() if len(days) >= 3]
    assert regular
    for days in regular:
        gaps = [(b - a).days for a, b in pairwise(days)]
        assert all(28 <= g <= 32 for g in gaps)


def test_lapsed_customers_stopped_buying_half_a_year_ago(shop: Store) -> None:
    last = dict(
        _all(
            shop,
            "SELECT c.external_id, max(o.ordered_at) FROM orders o JOIN customers c "
            "ON c.id = o.customer_id GROUP BY c.external_id",
        )
    )
    cutoff = (END - timedelta(days=183)).replace(tzinfo=None)
    lapsed = [c for c, at in last.items() if datetime.fromisoformat(str(at)) < cutoff]
    assert 0.1 < len(lapsed) / len(last) < 0.6
    prefs = demo_preferences(7, 200)
    for i in np.flatnonzero(prefs.lapsed):
        assert datetime.fromisoformat(str(last[prefs.external_ids[i]])) < cutoff


def test_some_carts_are_abandoned(shop: Store) -> None:
    rows = _all(
        shop,
        "SELECT e.customer_id, max(e.occurred_at), (SELECT max(o.ordered_at) FROM orders o "
        "WHERE o.customer_id = e.customer_id) FROM events e WHERE e.name = 'Product Added' "
        "AND e.customer_id IS NOT NULL GROUP BY e.customer_id",
    )
    abandoned = [r for r in rows if r[2] is None or str(r[1]) > str(r[2])]
    assert len(abandoned) > 20


def test_events_follow_the_segment_spec(shop: Store) -> None:
    rows = _all(shop, "SELECT message_id, type, name, customer_id, anonymous_id, properties FROM events")
    assert len({r[0] for r in rows}) == len(rows)
    assert all(r[0].startswith("demo-e-") for r in rows)
    names = Counter(r[2] for r in rows)
    assert set(names) == {
        "Page Viewed", "Product Viewed", "Product Added", "Checkout Started", "Order Completed",
    }  # fmt: skip
    assert {r[1] for r in rows if r[2] == "Page Viewed"} == {"page"}
    assert {r[1] for r in rows if r[2] != "Page Viewed"} == {"track"}
    identities = dict(_all(shop, "SELECT value, customer_id FROM identities"))
    anonymous = [r for r in rows if r[3] is None]
    assert anonymous
    assert all(r[4] in identities for r in anonymous)
    assert all(identities[r[4]] == r[3] for r in rows if r[3] is not None)
    totals = dict(_all(shop, "SELECT external_id, total FROM orders"))
    for r in rows:
        props = json.loads(r[5])
        if r[2] == "Order Completed":
            assert props["total"] == pytest.approx(float(totals[props["order_id"]]))
            assert props["products"] and all("sku" in p and "price" in p for p in props["products"])
        elif r[2] in ("Product Viewed", "Product Added"):
            assert props["sku"].startswith("DEMO-") and props["price"] > 0


def test_consent_history_is_mixed(shop: Store) -> None:
    rows = _all(
        shop,
        "SELECT customer_id, purpose, status, source, policy_version FROM consents "
        "ORDER BY customer_id, purpose, recorded_at, id",
    )
    assert {r[2] for r in rows} == {"granted", "denied", "withdrawn"}
    assert {r[3] for r in rows} == {"signup_form", "preference_center"}
    assert {r[4] for r in rows} == {"2024-04"}
    latest = {(r[0], r[1]): r[2] for r in rows}
    history = Counter((r[0], r[1]) for r in rows)
    assert any(n == 2 for n in history.values())

    def granted(purpose: str) -> float:
        states = [s for (_, p), s in latest.items() if p == purpose]
        assert len(states) == 200
        return sum(s == "granted" for s in states) / len(states)

    assert granted("tracking") > 0.8
    assert 0.55 < granted("email") < 0.85
    assert 0.4 < granted("direct_mail") < 0.7
    assert 0.25 < granted("ads") < 0.55


def test_events_are_only_kept_while_tracking_is_allowed(shop: Store) -> None:
    denied = _all(
        shop,
        "SELECT customer_id FROM consents WHERE purpose = 'tracking' GROUP BY customer_id "
        "HAVING count(*) = 1 AND max(status) = 'denied'",
    )
    assert denied
    ids = ", ".join(str(r[0]) for r in denied)
    assert _all(shop, f"SELECT count(*) FROM events WHERE customer_id IN ({ids})")[0][0] == 0


# -- the command ----------------------------------------------------------------------------------


def test_cli_generates_then_adds_nothing(db_url: str) -> None:
    args = ["demo-data", "--customers", "50", "--seed", "1", "--as-of", "2026-01-31", "--db", db_url]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "added 50 customers" in first.output
    assert "orders" in first.output and "events" in first.output
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0, second.output
    assert "nothing new" in second.output


@pytest.mark.parametrize("args", [["--customers", "0"], ["--seed", "-1"], ["--as-of", "31/01/2026"]])
def test_cli_refuses_bad_options(tmp_path: Path, args: list[str]) -> None:
    result = CliRunner().invoke(main, ["demo-data", *args, "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 2
    assert "Invalid value" in result.output
