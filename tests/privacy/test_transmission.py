from __future__ import annotations

from dataclasses import fields

from kizuna.config import Settings
from kizuna.privacy.transmission import TransmissionItem, transmission_notice


def test_every_item_says_what_to_whom_and_why_in_both_languages() -> None:
    items = transmission_notice(Settings())
    assert len(items) >= 5
    for item in items:
        for f in fields(TransmissionItem):
            text = getattr(item, f.name)
            assert text.ja and text.en, f.name
    assert {i.recipient.en for i in items} == {
        "The kizuna server run by this site's operator. Nothing is sent to third parties."
    }
    assert "第三者には送信しません" in items[0].recipient.ja
    assert items[0].in_language("ja")["name"].startswith("匿名ID")


def test_notice_follows_the_tracking_default_and_names_the_server() -> None:
    opt_in = transmission_notice(Settings(), server="track.shop.example.jp")
    assert "after you consent" in opt_in[1].purpose.en
    assert (
        "track.shop.example.jp" in opt_in[0].recipient.en
        and "track.shop.example.jp" in opt_in[0].recipient.ja
    )
    opt_out = transmission_notice(Settings(consent_defaults={"tracking": "opt-out"}))
    assert "once you decline" in opt_out[1].purpose.en
