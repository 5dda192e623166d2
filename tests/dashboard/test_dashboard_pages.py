"""Every page renders the seeded store's data; changing things needs the role and the CSRF token."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from dashboard_seed import Seeded, csrf_of
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kizuna.config import Settings
from kizuna.scenarios.registry import get_scenario
from kizuna.segments.compiler import customer_ids_query
from kizuna.segments.conditions import parse_condition
from kizuna.segments.registry import get_segment, stored_conditions
from kizuna.store.access import PrivacyRequest
from kizuna.store.tables import Customer, Order
from kizuna.store.types import utcnow

Clients = Callable[[str], TestClient]


def test_overview_counts_customers_and_draws_both_charts(seeded: Seeded, client_as: Clients) -> None:
    page = client_as("viewer").get("/")
    assert page.status_code == 200
    with seeded.store.session() as session:
        customers = session.scalar(select(func.count()).select_from(Customer))
    assert f'id="fig-customers">{customers:,}<' in page.text
    assert page.text.count('<svg class="chart"') == 2
    assert page.text.count('<rect class="bar"') == 90  # one bar a day for 90 days


def test_customer_search_finds_by_external_id_prefix_and_email(seeded: Seeded, client_as: Clients) -> None:
    client = client_as("viewer")
    prefix = seeded.external_id[:-1]
    page = client.get("/customers", params={"q": prefix})
    assert f'href="/customers/{seeded.customer_id}"' in page.text
    with seeded.store.session() as session:
        email = session.scalar(select(Customer.email).where(Customer.id == seeded.customer_id))
    assert email
    assert f'href="/customers/{seeded.customer_id}"' in client.get("/customers", params={"q": email}).text
    assert "No customer matches" in client.get("/customers", params={"q": "zz-nobody"}).text


def test_customer_360_shows_orders_consents_segments_and_deliveries(
    seeded: Seeded, client_as: Clients
) -> None:
    page = client_as("viewer").get(f"/customers/{seeded.customer_id}")
    assert page.status_code == 200
    assert seeded.external_id in page.text
    for section in ("attributes", "consents", "recommendations", "deliveries", "timeline"):
        assert f'id="{section}"' in page.text
    assert "direct_mail" in page.text  # the delivery the scenario wrote
    assert "scan 1" in page.text  # and the response to it
    assert "No model is trained yet" in page.text
    with seeded.store.session() as session:
        orders = session.scalar(select(func.count()).where(Order.customer_id == seeded.customer_id))
    assert page.text.count('class="kind-order"') == min(int(orders or 0), 10)
    assert client_as("viewer").get("/customers/999999").status_code == 404


def test_segment_count_endpoint_counts_what_the_compiler_counts(seeded: Seeded, client_as: Clients) -> None:
    client = client_as("viewer")
    token = csrf_of(client.get("/segments/new").text)
    fields = {"match": "all", "c0_kind": "measure", "c0_field": "frequency", "c0_op": "gte", "c0_value": "2"}
    answer = client.post("/segments/count.json", json=fields, headers={"X-CSRF-Token": token})
    assert answer.status_code == 200
    data = answer.json()
    condition = parse_condition({"measure": "frequency", "gte": 2})
    with seeded.store.engine.connect() as conn:
        query = customer_ids_query(condition, now=utcnow(), resolve=stored_conditions(conn).__getitem__)
        expected = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    assert data["count"] == expected > 0
    assert "measure: frequency" in data["yaml"] and "gte: 2" in data["yaml"]
    assert len(data["members"]) == min(expected, 10)
    bad = client.post(
        "/segments/count.json", json={**fields, "c0_value": "many"}, headers={"X-CSRF-Token": token}
    )
    assert bad.status_code == 400 and "row 1" in bad.json()["error"]


def test_segment_count_without_the_csrf_header_is_refused(seeded: Seeded, client_as: Clients) -> None:
    answer = client_as("marketer").post(
        "/segments/count.json", json={"c0_kind": "consent", "c0_field": "email"}
    )
    assert answer.status_code == 403


def test_a_marketer_saves_a_segment_and_it_is_rebuilt(seeded: Seeded, client_as: Clients) -> None:
    client = client_as("marketer")
    token = csrf_of(client.get("/segments/new").text)
    form = {"csrf_token": token, "name": "coffee-lovers", "description": "bought coffee", "match": "any",
            "c0_kind": "bought_category", "c0_field": "食品", "c1_kind": "consent", "c1_field": "email",
            "action": "save"}  # fmt: skip
    answer = client.post("/segments/new", data=form, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/segments"
    saved = get_segment(seeded.store, "coffee-lovers")
    assert saved.rebuilt_at is not None and saved.member_count > 0
    assert "coffee-lovers" in client.get("/segments").text


def test_a_viewer_may_preview_but_not_save_a_segment(seeded: Seeded, client_as: Clients) -> None:
    client = client_as("viewer")
    token = csrf_of(client.get("/segments/new").text)
    form = {"csrf_token": token, "name": "mine", "c0_kind": "consent", "c0_field": "email"}
    assert client.post("/segments/new", data={**form, "action": "preview"}).status_code == 200
    assert client.post("/segments/new", data={**form, "action": "save"}).status_code == 403
    assert "mine" not in client.get("/segments").text


def test_scenario_page_draws_the_flow_with_counts(seeded: Seeded, client_as: Clients) -> None:
    page = client_as("viewer").get(f"/scenarios/{seeded.scenario}")
    assert page.status_code == 200
    assert '<svg class="flow"' in page.text
    for step_id in get_scenario(seeded.store, seeded.scenario).definition.step_ids():
        assert f'data-step="{step_id}"' in page.text
    assert "scan 1" in page.text
    assert client_as("viewer").get("/scenarios/no-such-thing").status_code == 404


def test_a_viewer_cannot_pause_a_scenario(seeded: Seeded, client_as: Clients) -> None:
    client = client_as("viewer")
    token = csrf_of(client.get(f"/scenarios/{seeded.scenario}").text)
    answer = client.post(f"/scenarios/{seeded.scenario}/pause", data={"csrf_token": token})
    assert answer.status_code == 403
    assert get_scenario(seeded.store, seeded.scenario).status == "active"


def test_pausing_without_the_csrf_token_is_refused(seeded: Seeded, client_as: Clients) -> None:
    answer = client_as("marketer").post(f"/scenarios/{seeded.scenario}/pause", data={})
    assert answer.status_code == 403
    assert get_scenario(seeded.store, seeded.scenario).status == "active"


def test_a_marketer_pauses_and_resumes_a_scenario(seeded: Seeded, client_as: Clients) -> None:
    client = client_as("marketer")
    token = csrf_of(client.get(f"/scenarios/{seeded.scenario}").text)
    client.post(f"/scenarios/{seeded.scenario}/pause", data={"csrf_token": token})
    assert get_scenario(seeded.store, seeded.scenario).status == "paused"
    assert 'id="resume"' in client.get(f"/scenarios/{seeded.scenario}").text
    client.post(f"/scenarios/{seeded.scenario}/resume", data={"csrf_token": token})
    assert get_scenario(seeded.store, seeded.scenario).status == "active"


def test_scenario_preview_lists_who_would_enter(seeded: Seeded, client_as: Clients) -> None:
    page = client_as("viewer").get(f"/scenarios/{seeded.scenario}/preview")
    assert page.status_code == 200 and 'id="would-enter"' in page.text


@pytest.mark.parametrize("path", ["/scenarios", "/recommendations", "/audiences", "/consents", "/privacy"])
def test_list_pages_render_with_data(seeded: Seeded, client_as: Clients, path: str) -> None:
    page = client_as("admin").get(path)
    assert page.status_code == 200
    if path == "/scenarios":
        assert "first-order-coupon" in page.text and "lapsed-sale-dm" in page.text
    if path == "/audiences":
        assert "trial-only" in page.text
    if path == "/consents":
        assert page.text.count("<tr>") > 10


def test_the_language_switch_shows_japanese(seeded: Seeded, client_as: Clients) -> None:
    client = client_as("viewer")
    assert "Customers" in client.get("/").text
    token = csrf_of(client.get("/").text)
    client.post("/language", data={"csrf_token": token, "lang": "ja", "back": "/customers"})
    page = client.get("/customers")
    assert '<html lang="ja">' in page.text and "顧客" in page.text and "検索" in page.text


def test_the_browser_language_is_the_default(seeded: Seeded, client_as: Clients) -> None:
    client = client_as("viewer")
    client.cookies.clear()
    page = client.get("/login", headers={"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.8"})
    assert '<html lang="ja">' in page.text and "ログイン" in page.text


def test_an_admin_exports_a_customer_after_confirming(seeded: Seeded, client_as: Clients) -> None:
    client = client_as("admin")
    token = csrf_of(client.get("/privacy").text)
    confirm = client.post("/privacy/confirm", data={"csrf_token": token, "kind": "export",
                                                    "customer": seeded.external_id})  # fmt: skip
    assert confirm.status_code == 200 and seeded.external_id in confirm.text
    with seeded.store.session() as session:
        assert session.scalar(select(func.count()).select_from(PrivacyRequest)) == 0
    export = client.post("/privacy/run", data={"csrf_token": token, "kind": "export", "confirm": "yes",
                                               "customer_id": str(seeded.customer_id)})  # fmt: skip
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    assert seeded.external_id in export.text
    with seeded.store.session() as session:
        row = session.scalars(select(PrivacyRequest)).one()
    assert row.kind == "export" and row.requested_by == "dashboard:admin@example.jp"


def test_a_marketer_cannot_start_a_privacy_request(seeded: Seeded, client_as: Clients) -> None:
    client = client_as("marketer")
    token = csrf_of(client.get("/privacy").text)
    answer = client.post("/privacy/run", data={"csrf_token": token, "kind": "delete", "confirm": "yes",
                                               "customer_id": str(seeded.customer_id)})  # fmt: skip
    assert answer.status_code == 403
    with seeded.store.session() as session:
        assert session.get(Customer, seeded.customer_id) is not None


def test_viewers_see_contact_details_only_in_part(seeded: Seeded, client_as: Clients) -> None:
    with seeded.store.session() as session:
        customer = session.get(Customer, seeded.customer_id)
        assert customer is not None and customer.email and customer.phone
        email, phone = customer.email, customer.phone
    viewer = client_as("viewer").get(f"/customers/{seeded.customer_id}").text
    marketer = client_as("marketer").get(f"/customers/{seeded.customer_id}").text
    assert email not in viewer and phone not in viewer and email.split("@")[1] in viewer
    assert email in marketer and phone in marketer
    assert email not in client_as("viewer").get("/customers", params={"q": seeded.external_id}).text


def test_evaluation_reports_render_without_raw_html(
    seeded: Seeded, client_as: Clients, settings: Settings
) -> None:
    folder = settings.data_dir / "reports"
    folder.mkdir(parents=True)
    (folder / "eval.md").write_text(
        "# Evaluation\n\n| algorithm | ndcg |\n|---|---|\n| blend | 0.31 |\n\n<script>alert(1)</script>\n\n"
        "![chart](eval.png)\n",
        encoding="utf-8",
    )
    (folder / "eval.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    client = client_as("viewer")
    assert 'href="/recommendations/reports/eval.md"' in client.get("/recommendations").text
    page = client.get("/recommendations/reports/eval.md")
    assert page.status_code == 200 and "<table>" in page.text and "<td>blend</td>" in page.text
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    assert client.get("/recommendations/reports/eval.png").content.startswith(b"\x89PNG")
    assert client.get("/recommendations/reports/..%2Fdashboard-secret").status_code == 404
    assert client.get("/recommendations/reports/missing.md").status_code == 404


def test_a_dashboard_session_grants_nothing_in_the_api(seeded: Seeded, client_as: Clients) -> None:
    client = client_as("admin")
    assert client.get(f"/v1/customers/{seeded.external_id}").status_code == 401
