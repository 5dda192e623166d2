"""What each slot on a page shows this visitor: the choice behind ``/v1/personalize``.

For every slot the page names, in one short transaction:

1. **Consent.** Without personalisation consent (see :func:`kizuna.web.visitor.find_visitor`) the answer is
   ``personalised: false`` with no content, and the page keeps the slot's own HTML.
2. **Content and pop-up slots** take the first of: a pending scenario send to this slot for the customer
   (``send: {channel: web, slot: NAME, template: T}``; content ``templates[T]``, served once and marked sent),
   the first segment variant whose segment the customer is in, the first-visit or returning variant, and the
   slot's ``default`` (``personalised: false``).
3. **Recommendation slots** rank products "for you" or, with ``context: product``, related to the page's
   product.

An answer is ``{slot, personalised, kind, content | items | popup, reason}``; ``reason`` says which rule chose
it (``scenario:NAME``, ``segment:NAME``, ``first_visit``, ``returning``, ``recommendations``, ``related``,
``default``, ``no_consent``, ``no_content``, ``unknown_slot``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from kizuna.config import Settings
from kizuna.web.deliveries import pending_deliveries, scenario_name, take_delivery
from kizuna.web.recommendations import for_you, related, with_urls
from kizuna.web.slots import (
    Content,
    ContentSlot,
    PopupSlot,
    RecommendationsSlot,
    SlotsFile,
    pick_language,
)
from kizuna.web.visitor import PageRequest, Visitor, find_visitor, segments_of


@dataclass
class SlotAnswer:
    """What one slot shows."""

    slot: str
    personalised: bool
    kind: str | None
    reason: str
    content: dict[str, Any] | None = None
    items: list[dict[str, Any]] | None = None
    popup: dict[str, Any] | None = None
    title: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The answer as JSON, leaving out what does not apply."""
        out: dict[str, Any] = {
            "slot": self.slot,
            "personalised": self.personalised,
            "kind": self.kind,
            "reason": self.reason,
        }
        for name in ("content", "items", "popup", "title"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass
class _Choosing:
    """What the slots of one request share: the visitor, their segments and scenario sends (read once)."""

    session: Session
    slots: SlotsFile
    page: PageRequest
    visitor: Visitor
    now: datetime
    settings: Settings
    models: Path | None
    _segments: set[str] | None = None
    _pending: list[tuple[int, str]] | None = field(default=None)

    def segments(self) -> set[str]:
        if self._segments is None:
            self._segments = segments_of(self.session, self.visitor.customer_id)
        return self._segments

    def pending(self) -> list[tuple[int, str]]:
        if self._pending is None:
            cid = self.visitor.customer_id
            max_age = timedelta(days=self.settings.web_delivery_days)
            found = (
                [] if cid is None else pending_deliveries(self.session, cid, now=self.now, max_age=max_age)
            )
            self._pending = found
        return self._pending


def personalise(
    session: Session,
    slots: SlotsFile,
    page: PageRequest,
    *,
    now: datetime,
    settings: Settings,
    models: Path | None = None,
) -> list[SlotAnswer]:
    """The answer for each slot of ``page``, in order. Scenario sends served are marked sent in ``session``
    (the caller commits)."""
    visitor = find_visitor(session, page, now=now, settings=settings)
    choosing = _Choosing(session, slots, page, visitor, now, settings, models)
    return [_answer(choosing, name) for name in page.slots]


def _answer(c: _Choosing, name: str) -> SlotAnswer:
    slot = c.slots.slots.get(name)
    if slot is None:
        return SlotAnswer(name, False, None, "unknown_slot")
    if not c.visitor.personalise:
        return SlotAnswer(name, False, slot.kind, "no_consent")
    if isinstance(slot, RecommendationsSlot):
        return _recommendations(c, name, slot)
    chosen = _variant(c, name, slot)
    if chosen is None:
        return SlotAnswer(name, False, slot.kind, "no_content")
    content, reason, items = chosen
    shown: dict[str, Any] = content.localised(c.page.lang)
    if items:
        shown["items"] = items
    personal = reason != "default"
    if isinstance(slot, PopupSlot):
        popup: dict[str, Any] = {"trigger": slot.trigger, "content": shown}
        if slot.trigger == "scroll":
            popup["scroll_percent"] = slot.scroll_percent
        return SlotAnswer(name, personal, slot.kind, reason, popup=popup)
    return SlotAnswer(name, personal, slot.kind, reason, content=shown)


def _variant(
    c: _Choosing, name: str, slot: ContentSlot | PopupSlot
) -> tuple[Content, str, list[dict[str, Any]]] | None:
    delivered = _scenario_send(c, name, slot)
    if delivered is not None:
        return delivered
    if slot.segments and c.visitor.customer_id is not None:
        mine = c.segments()
        for variant in slot.segments:
            if variant.segment in mine:
                return variant.content, f"segment:{variant.segment}", []
    if c.visitor.returning and slot.returning is not None:
        return slot.returning, "returning", []
    if not c.visitor.returning and slot.first_visit is not None:
        return slot.first_visit, "first_visit", []
    if slot.default is not None:
        return slot.default, "default", []
    return None


def _scenario_send(
    c: _Choosing, name: str, slot: ContentSlot | PopupSlot
) -> tuple[Content, str, list[dict[str, Any]]] | None:
    """The oldest pending scenario send to this slot, taken (marked sent) so that it is shown once."""
    for delivery_id, wanted in c.pending():
        if wanted != name:
            continue
        delivery = take_delivery(c.session, delivery_id, now=c.now, slot=name)
        c._pending = [p for p in c.pending() if p[0] != delivery_id]
        if delivery is None:
            continue
        content = slot.templates.get(delivery.template or "") or slot.default or Content()
        recommend = (delivery.payload or {}).get("recommend") or {}
        items = with_urls(c.slots, recommend.get("items") or [], c.page.lang)
        scenario = scenario_name(c.session, delivery.scenario_id) or "scenario"
        return content, f"scenario:{scenario}", items
    return None


def _recommendations(c: _Choosing, name: str, slot: RecommendationsSlot) -> SlotAnswer:
    lang = c.page.lang
    title = pick_language(slot.title, lang)
    if slot.context == "product":
        if not c.page.product:
            return SlotAnswer(name, False, slot.kind, "no_product", title=title)
        items = related(
            c.session, c.slots, slot.algorithm, slot.n, sku=c.page.product, lang=lang, folder=c.models
        )
        reason = "related"
    else:
        items = for_you(
            c.session,
            c.slots,
            slot.algorithm,
            slot.n,
            customer_id=c.visitor.customer_id,
            personalised=c.visitor.personalise,
            lang=lang,
            folder=c.models,
        )
        reason = "recommendations"
    if not items:
        return SlotAnswer(name, False, slot.kind, "no_recommendations", title=title)
    return SlotAnswer(name, True, slot.kind, reason, items=items, title=title)
