"""The choice behind /v1/personalize: consent, first versus returning, segments, scenario sends, products."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from web_seed import NOW, join_segment, page_view, shop, slots, web_delivery

from kizuna.config import Settings
from kizuna.privacy.consent import record_consent
from kizuna.privacy.visitors import record_visitor_consent
from kizuna.store import Store
from kizuna.store.automation import Delivery, Response
from kizuna.web.personalise import personalise
from kizuna.web.visitor import PageRequest


def _ask(store: Store, models: Path, **page: object) -> dict[str, dict[str, object]]:
    with store.session() as session:
        answers = personalise(
            session,
            slots(),
            PageRequest(**page),
            now=NOW,
            settings=Settings(),
            models=models,  # type: ignore[arg-type]
        )
        session.commit()
    return {a.slot: a.as_dict() for a in answers}


@pytest.fixture
def models(tmp_path: Path) -> Path:
    return tmp_path / "models"


def test_first_visit_then_returning_from_the_snippet_or_from_earlier_events(
    store: Store, models: Path
) -> None:
    shop(store, models)
    first = _ask(store, models, slots=("hero",), anonymous_id="dev-new", lang="en")["hero"]
    assert first == {
        "slot": "hero",
        "personalised": True,
        "kind": "content",
        "reason": "first_visit",
        "content": {"title": "Welcome", "link": "/shop"},
    }
    told = _ask(store, models, slots=("hero",), anonymous_id="dev-new", returning=True)["hero"]
    assert (told["reason"], told["content"]) == ("returning", {"title": "おかえりなさい"})
    page_view(store, "dev-new", NOW - timedelta(days=3))  # a visit before this one: returning
    seen = _ask(store, models, slots=("hero",), anonymous_id="dev-new")["hero"]
    assert seen["reason"] == "returning"


def test_a_segment_variant_comes_before_first_or_returning(store: Store, models: Path) -> None:
    ids = shop(store, models)
    join_segment(store, ids["me"])
    mine = _ask(store, models, slots=("hero",), anonymous_id="dev-me", lang="ja")["hero"]
    assert mine["reason"] == "segment:vip" and mine["content"] == {"title": "VIP の方へ"}
    stranger = _ask(store, models, slots=("hero",), anonymous_id="dev-other")["hero"]
    assert stranger["reason"] == "first_visit"


def test_a_scenario_send_is_served_once_and_marked_sent(store: Store, models: Path) -> None:
    ids = shop(store, models)
    delivery_id = web_delivery(store, ids["me"], "hero", "spring")
    served = _ask(store, models, slots=("hero", "popup"), anonymous_id="dev-me")
    assert served["hero"]["reason"] == "scenario:spring-news"
    assert served["hero"]["content"] == {"title": "春のおすすめ", "body": "新商品のご案内"}
    assert served["popup"]["reason"] == "first_visit"  # the send was for the hero slot only
    with store.session() as s:
        row = s.get(Delivery, delivery_id)
        assert row is not None and (row.status, row.attempts) == ("sent", 1) and row.sent_at is not None
        assert [r.kind for r in s.scalars(select(Response).where(Response.delivery_id == delivery_id))] == [
            "open"
        ]
    again = _ask(store, models, slots=("hero",), anonymous_id="dev-me")["hero"]
    assert again["reason"] == "first_visit"


def test_without_personalisation_consent_nothing_is_chosen(store: Store, models: Path) -> None:
    ids = shop(store, models)
    delivery_id = web_delivery(store, ids["me"], "hero", "spring")
    with store.session() as s, s.begin():
        record_consent(s, ids["me"], "personalisation", "withdrawn", at=NOW - timedelta(days=1))
        record_visitor_consent(s, "dev-anon", {"personalisation": "denied"}, at=NOW - timedelta(days=1))
    for page in (
        {"anonymous_id": "dev-me"},
        {"anonymous_id": "dev-anon"},
        {"anonymous_id": "dev-x", "consent": {"personalisation": "denied"}},  # the browser's own choice
    ):
        answers = _ask(store, models, slots=("hero", "for-you", "popup"), **page)
        for answer in answers.values():
            assert answer["personalised"] is False and answer["reason"] == "no_consent"
            assert not {"content", "items", "popup"} & set(answer)
    with store.session() as s:
        assert s.get(Delivery, delivery_id).status == "pending"  # type: ignore[union-attr]


def test_product_page_related_items_and_for_you(store: Store, models: Path) -> None:
    shop(store, models)
    answers = _ask(
        store, models, slots=("related", "for-you"), anonymous_id="dev-new", product="beans", lang="ja"
    )
    related = answers["related"]
    assert related["personalised"] is True and related["reason"] == "related"
    items = related["items"]
    assert next(i["sku"] for i in items) == "filter"  # bought with beans
    assert "beans" not in [i["sku"] for i in items] and "mug" not in [i["sku"] for i in items]
    first = items[0]
    assert first["url"] == "/shop/p/filter" and first["title"] == "フィルター" and first["price"] == 1200.0
    assert first["image_url"] == "/img/filter.jpg" and "コーヒー豆" in first["reason_text"]
    for_you = answers["for-you"]["items"]
    assert next(i["sku"] for i in for_you) == "tea"  # an unknown visitor: the best-seller
    assert len(for_you) == 2 and "mug" not in [i["sku"] for i in for_you]
    mine = _ask(store, models, slots=("for-you",), anonymous_id="dev-me", lang="en")["for-you"]["items"]
    assert mine[0]["sku"] == "filter" and "beans" not in [i["sku"] for i in mine]


def test_unknown_slots_and_a_page_without_a_product(store: Store, models: Path) -> None:
    shop(store, models)
    answers = _ask(store, models, slots=("nope", "related"), anonymous_id="dev-new")
    assert answers["nope"] == {"slot": "nope", "personalised": False, "kind": None, "reason": "unknown_slot"}
    assert answers["related"]["reason"] == "no_product" and "items" not in answers["related"]


def test_popup_carries_its_trigger(store: Store, models: Path) -> None:
    shop(store, models)
    popup = _ask(store, models, slots=("popup",), anonymous_id="dev-new")["popup"]
    assert popup["kind"] == "popup" and popup["popup"] == {
        "trigger": "scroll",
        "content": {"title": "初回送料無料"},
        "scroll_percent": 30,
    }
    returning = _ask(store, models, slots=("popup",), anonymous_id="dev-new", returning=True)["popup"]
    assert (returning["personalised"], returning["reason"]) == (False, "no_content")
