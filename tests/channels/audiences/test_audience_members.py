"""Who is in an audience: a segment's current members or an outbox audience, filtered by ads consent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from audience_seed import T0, Person, add_ads_delivery, add_people, set_segment

from kizuna.channels.audiences.members import load_audience
from kizuna.errors import NotFoundError
from kizuna.privacy.consent import record_consent
from kizuna.store import Store


def test_only_members_who_allow_ads_now_are_kept(store: Store) -> None:
    ids = add_people(
        store,
        [
            Person("yes", "yes@example.jp"),
            Person("no", "no@example.jp", ads="denied"),
            Person("undecided", "undecided@example.jp", ads=None),  # ads is opt-in by default
            Person("later", "later@example.jp"),
            Person("outside", "outside@example.jp"),
        ],
    )
    set_segment(store, "vip", [ids["yes"], ids["no"], ids["undecided"], ids["later"]])
    with store.session() as session, session.begin():
        record_consent(session, ids["later"], "ads", "withdrawn", at=T0 + timedelta(days=2))

    before = load_audience(store, "vip", now=T0 + timedelta(days=1))
    assert before.source == "segment"
    assert before.members == 4
    assert [c.customer_id for c in before.consented] == [ids["yes"], ids["later"]]
    assert before.no_consent == 2

    after = load_audience(store, "vip", now=T0 + timedelta(days=3))
    assert [c.customer_id for c in after.consented] == [ids["yes"]]


def test_opt_out_default_keeps_the_undecided(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from kizuna.config import get_settings

    monkeypatch.setenv("KIZUNA_CONSENT_DEFAULTS", '{"ads": "opt-out"}')
    get_settings.cache_clear()
    ids = add_people(
        store, [Person("undecided", "u@example.jp", ads=None), Person("no", "n@example.jp", ads="denied")]
    )
    set_segment(store, "all", list(ids.values()))
    audience = load_audience(store, "all", now=T0 + timedelta(days=1))
    assert [c.customer_id for c in audience.consented] == [ids["undecided"]]


def test_outbox_audience_and_line_ids(store: Store) -> None:
    uid = "U" + "0123456789abcdef" * 2
    ids = add_people(
        store,
        [Person("a", "a@example.jp", line_id=uid), Person("b", "b@example.jp"), Person("c", "c@example.jp")],
    )
    add_ads_delivery(store, ids["a"], "cart-abandoners")
    add_ads_delivery(store, ids["b"], "cart-abandoners", status="pending")
    add_ads_delivery(store, ids["c"], "cart-abandoners", status="suppressed")
    add_ads_delivery(store, ids["c"], "other-audience")
    audience = load_audience(store, "cart-abandoners", now=T0 + timedelta(days=1), line_ids=True)
    assert audience.source == "outbox"
    assert [(c.customer_id, c.line_user_id) for c in audience.consented] == [
        (ids["a"], uid),
        (ids["b"], None),
    ]


def test_unknown_audience(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no audience named 'nobody'"):
        load_audience(store, "nobody", now=T0)
