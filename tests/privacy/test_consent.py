from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kizuna.config import Settings, get_settings
from kizuna.privacy.consent import Purpose, Status, consent_state, may, record_consent
from kizuna.store import Store
from kizuna.store.tables import Consent, Customer

T0 = datetime(2024, 6, 1, tzinfo=UTC)


def _customer(store: Store) -> int:
    with store.session() as s:
        c = Customer(external_id="c1")
        s.add(c)
        s.commit()
        return c.id


def test_every_purpose_has_a_default_and_only_personalisation_is_opt_out() -> None:
    defaults = Settings().consent_defaults
    assert set(defaults) == {p.value for p in Purpose}
    assert {p for p, d in defaults.items() if d == "opt-out"} == {"personalisation"}


def test_defaults_come_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIZUNA_CONSENT_DEFAULTS", '{"tracking": "opt-out"}')
    defaults = Settings().consent_defaults
    assert defaults["tracking"] == "opt-out" and defaults["email"] == "opt-in"
    monkeypatch.setenv("KIZUNA_CONSENT_DEFAULTS", '{"newsletter": "opt-out"}')
    with pytest.raises(ValueError, match=r"newsletter.*use tracking"):
        Settings()
    monkeypatch.setenv("KIZUNA_CONSENT_DEFAULTS", '{"email": "yes"}')
    with pytest.raises(ValueError, match="opt-in"):
        Settings()


def test_may_answers_with_the_default_until_a_decision(store: Store) -> None:
    cid = _customer(store)
    with store.session() as s:
        assert may(s, cid, Purpose.PERSONALISATION)
        assert not may(s, cid, "email")
        assert not may(s, None, "tracking") and may(s, None, "personalisation")
        record_consent(s, cid, "email", "granted", source="signup", policy_version="v1", at=T0)
        record_consent(s, cid, "personalisation", "denied", source="web", at=T0)
        assert may(s, cid, "email") and not may(s, cid, "personalisation")


def test_the_latest_decision_wins_and_at_looks_back(store: Store) -> None:
    cid = _customer(store)
    with store.session() as s:
        record_consent(s, cid, "email", Status.GRANTED, at=T0)
        record_consent(s, cid, "email", Status.WITHDRAWN, at=T0 + timedelta(days=10))
        record_consent(s, cid, "email", Status.GRANTED, at=T0 + timedelta(days=20))
        assert may(s, cid, "email")
        assert not may(s, cid, "email", at=T0 + timedelta(days=15))
        assert may(s, cid, "email", at=T0 + timedelta(days=5))
        assert not may(s, cid, "email", at=T0 - timedelta(days=1))  # before any decision: opt-in default
        assert consent_state(s, cid)["email"].status == "granted"
        assert len(s.scalars(select(Consent)).all()) == 3


def test_defaults_follow_settings(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    cid = _customer(store)
    with store.session() as s:
        assert may(s, cid, "email", settings=Settings(consent_defaults={"email": "opt-out"}))
        monkeypatch.setenv("KIZUNA_CONSENT_DEFAULTS", '{"personalisation": "opt-in", "ads": "opt-out"}')
        get_settings.cache_clear()
        assert not may(s, cid, "personalisation") and may(s, cid, "ads")


def test_unknown_purpose_or_status_names_the_known_ones(store: Store) -> None:
    cid = _customer(store)
    with store.session() as s:
        with pytest.raises(ValueError, match=r"'newsletter'.*tracking, personalisation, email"):
            may(s, cid, "newsletter")
        with pytest.raises(ValueError, match="granted, denied, withdrawn"):
            record_consent(s, cid, "email", "maybe")


def test_history_is_append_only_with_source_and_policy(store: Store) -> None:
    cid = _customer(store)
    with store.session() as s:
        record = record_consent(s, cid, "ads", "granted", source="banner", policy_version="2024-06", at=T0)
        s.commit()
        assert (record.source, record.policy_version) == ("banner", "2024-06")
        record.status = "denied"
        with pytest.raises(ValueError, match="record a new decision"):
            s.flush()
