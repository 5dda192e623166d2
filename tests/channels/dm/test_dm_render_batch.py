"""Print batches from the outbox: files, manifest, suppression report, atomicity, and no double printing."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import pytest
from dm_seed import T0, configure, customer, delivery, page_texts
from sqlalchemy import select, update

from kizuna.channels.dm import batch as batch_module
from kizuna.channels.dm.batches import approve_batch, batch_page_png, list_batches, mark_printed
from kizuna.channels.dm.customer_barcode import customer_barcode
from kizuna.channels.dm.render import render_scenario, render_segment
from kizuna.errors import ConfigError
from kizuna.store import Store
from kizuna.store.automation import Delivery, Scenario, Segment, SegmentMember
from kizuna.store.tables import Coupon, Customer


def _scenario(store: Store, name: str = "lapsed-sale-dm") -> int:
    with store.session() as session, session.begin():
        row = Scenario(name=name, definition={}, status="active", created_at=T0, updated_at=T0)
        session.add(row)
        session.flush()
        return row.id


def _statuses(store: Store) -> dict[int, tuple[str, str | None]]:
    with store.session() as session:
        return {d.id: (d.status, d.error) for d in session.scalars(select(Delivery))}


def _vip_segment(store: Store, size: int) -> list[int]:
    """A segment ``vip`` of ``size`` new mailable customers; their ids."""
    members = [customer(store) for _ in range(size)]
    with store.session() as session, session.begin():
        segment = Segment(name="vip", definition={}, created_at=T0, updated_at=T0)
        session.add(segment)
        session.flush()
        session.add_all(SegmentMember(segment_id=segment.id, customer_id=c, entered_at=T0) for c in members)
    return members


def _csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    return list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))


def test_a_scenario_batch_prints_the_mailable_and_reports_the_rest(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = configure(monkeypatch)
    sid = _scenario(store)
    good = [delivery(store, customer(store), scenario_id=sid) for _ in range(3)]
    no_consent = delivery(store, customer(store, consent=False), scenario_id=sid)
    no_address = delivery(store, customer(store, postal_code="12-34"), scenario_id=sid)
    erased = delivery(store, customer(store, external_id="deleted-0001"), scenario_id=sid)
    capped_customer = customer(store)
    earlier = delivery(store, capped_customer, scenario_id=None)
    with store.session() as session, session.begin():
        session.execute(update(Delivery).where(Delivery.id == earlier).values(status="sent", sent_at=T0))
    capped = delivery(store, capped_customer, scenario_id=sid)
    other = delivery(store, customer(store), scenario_id=_scenario(store, "another"))

    out = tmp_path / "spring"
    now = T0 + timedelta(days=2)
    report = render_scenario(store, "lapsed-sale-dm", out, now=now, settings=settings)

    assert (report.pieces, report.pages, report.files) == (3, 6, ["pieces-001.pdf"])
    assert report.suppressed == {"no consent": 1, "no valid address": 1, "erased": 1, "frequency cap": 1}
    statuses = _statuses(store)
    assert [statuses[d][0] for d in good] == ["sent"] * 3
    assert statuses[no_consent] == ("suppressed", "no consent: direct_mail")
    assert statuses[no_address][0] == "suppressed" and "postal code" in (statuses[no_address][1] or "")
    assert statuses[erased] == ("suppressed", "customer anonymised")
    assert statuses[capped][0] == "suppressed" and "frequency cap" in (statuses[capped][1] or "")
    assert statuses[other][0] == "pending"  # another scenario's delivery is not this batch's

    manifest = _csv(out / "manifest.csv")
    assert [int(r["delivery_id"]) for r in manifest] == good
    assert [int(r["page"]) for r in manifest] == [1, 3, 5] and {r["pages"] for r in manifest} == {"2"}
    texts = page_texts(out / "pieces-001.pdf")
    with store.session() as session:
        for row in manifest:
            who = session.scalars(
                select(Customer).where(Customer.external_id == row["customer_external_id"])
            ).one()
            assert row["postal_code"] == "100-0001"
            assert (
                row["barcode_data"]
                == customer_barcode("1000001", f"{who.address_line1} {who.address_line2}").data
            )
            back = texts[int(row["page"])]  # the message side follows the address side
            key = session.get(Delivery, int(row["delivery_id"]))
            assert key is not None and key.payload["coupon"] in back
    reasons = {r["reason"] for r in _csv(out / "suppressed.csv")}
    assert reasons == {"no consent", "no valid address", "erased", "frequency cap"}
    summary = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert (
        summary["pieces"] == 3 and summary["scenario"] == "lapsed-sale-dm" and summary["size"] == "100×148 mm"
    )

    again = render_scenario(store, "lapsed-sale-dm", tmp_path / "again", now=now, settings=settings)
    assert again.out_dir is None and again.pieces == 0
    assert not (tmp_path / "again").exists()

    with store.session() as session, session.begin():
        [listed] = list_batches(session)
        assert (listed.name, listed.status, listed.pieces, listed.suppressed) == ("spring", "rendered", 3, 4)
        with pytest.raises(ConfigError):
            mark_printed(session, "spring")
        approve_batch(session, "spring", by="佐藤", at=now)
        assert mark_printed(session, "spring").status == "printed"
        assert batch_page_png(session, "spring", page=2, dpi=30).startswith(b"\x89PNG")


def test_a_failed_batch_leaves_no_folder_and_marks_nothing_sent(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = configure(monkeypatch)
    sid = _scenario(store)
    ids = [delivery(store, customer(store), scenario_id=sid) for _ in range(2)]

    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("kizuna.channels.dm.render.write_reports", broken)
    with pytest.raises(OSError, match="disk full"):
        render_scenario(store, "lapsed-sale-dm", tmp_path / "prints" / "batch", now=T0, settings=settings)
    assert list((tmp_path / "prints").iterdir()) == []
    assert [s for s, _ in _statuses(store).values()] == ["pending", "pending"]

    monkeypatch.setattr("kizuna.channels.dm.render.write_reports", batch_module.write_reports)
    report = render_scenario(
        store, "lapsed-sale-dm", tmp_path / "prints" / "batch", now=T0, settings=settings
    )
    assert report.pieces == 2 and [_statuses(store)[i][0] for i in ids] == ["sent", "sent"]


def test_a_segment_batch_writes_the_outbox_once(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = configure(monkeypatch)
    members = _vip_segment(store, 3)

    report = render_segment(
        store, "vip", "a4-letter", tmp_path / "vip-march", coupon_prefix="VIP", now=T0, settings=settings
    )
    assert (report.pieces, report.pages) == (3, 3)
    with store.session() as session:
        rows = list(session.scalars(select(Delivery).order_by(Delivery.id)))
        assert [r.key for r in rows] == [f"dm:vip-march:{c}" for c in members]
        assert {r.status for r in rows} == {"sent"} and all(r.scenario_id is None for r in rows)
        codes = set(session.scalars(select(Coupon.code)))
    assert codes == {r.payload["coupon"] for r in rows} and all(c.startswith("VIP-") for c in codes)
    text = "".join(page_texts(tmp_path / "vip-march" / "pieces-001.pdf"))
    assert all(code in text for code in codes)

    with pytest.raises(ConfigError, match="exists already"):
        render_segment(store, "vip", "a4-letter", tmp_path / "other", name="vip-march", settings=settings)
    later = render_segment(store, "vip", "a4-letter", tmp_path / "vip-april", now=T0 + timedelta(days=1),
                           settings=settings)  # fmt: skip
    assert later.pieces == 0 and later.suppressed == {"frequency cap": 3}


def test_batches_need_the_link_settings(store: Store, tmp_path: Path) -> None:
    _scenario(store)
    with pytest.raises(ConfigError, match="KIZUNA_PUBLIC_BASE_URL"):
        render_scenario(store, "lapsed-sale-dm", tmp_path / "x")


def test_a_limit_splits_a_mailing_over_batches_longest_due_first(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = configure(monkeypatch)
    sid = _scenario(store)
    ids = [delivery(store, customer(store), scenario_id=sid) for _ in range(5)]
    with store.session() as session, session.begin():
        for n, d in enumerate(ids):  # the last written is the longest due
            session.execute(update(Delivery).where(Delivery.id == d).values(due_at=T0 - timedelta(hours=n)))
    first = render_scenario(store, "lapsed-sale-dm", tmp_path / "day-1", limit=2, now=T0, settings=settings)
    assert (first.pieces, first.remaining) == (2, 3)
    assert [_statuses(store)[d][0] for d in ids] == ["pending", "pending", "pending", "sent", "sent"]
    second = render_scenario(store, "lapsed-sale-dm", tmp_path / "day-2", now=T0, settings=settings)
    assert (second.pieces, second.remaining) == (3, 0)
    assert {_statuses(store)[d][0] for d in ids} == {"sent"}
    with pytest.raises(ConfigError, match="at least 1"):
        render_scenario(store, "lapsed-sale-dm", tmp_path / "none", limit=0, now=T0, settings=settings)


def test_a_limited_segment_batch_mails_the_first_members_only(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = configure(monkeypatch)
    members = _vip_segment(store, 4)
    proof = render_segment(store, "vip", "postcard", tmp_path / "proof", limit=1, now=T0, settings=settings)
    assert (proof.pieces, proof.remaining) == (1, 0)
    with store.session() as session:
        assert list(session.scalars(select(Delivery.customer_id))) == [min(members)]
