"""Signed link tokens: round trips, tampering, and purposes and URLs that cannot be swapped."""

from __future__ import annotations

import pytest

from kizuna.channels.email import read_unsubscribe_token, unsubscribe_token
from kizuna.channels.tokens import LinkPurpose, LinkTokenError, link_token, read_link_token

SECRET = "s3cret-for-link-tokens"
KEY = "12:send:345:once:1"


@pytest.mark.parametrize("purpose", list(LinkPurpose))
def test_round_trip_for_each_purpose(purpose: LinkPurpose) -> None:
    token = link_token(KEY, SECRET, purpose)
    assert read_link_token(token, SECRET, purpose) == KEY
    for other in set(LinkPurpose) - {purpose}:
        with pytest.raises(LinkTokenError, match=f"the {other.value} link is not genuine"):
            read_link_token(token, SECRET, other)


def test_email_names_are_unsubscribe_link_tokens() -> None:
    token = unsubscribe_token(KEY, SECRET)
    assert token == link_token(KEY, SECRET, "unsubscribe")
    assert read_unsubscribe_token(token, SECRET) == KEY
    with pytest.raises(LinkTokenError):
        read_unsubscribe_token(link_token(KEY, SECRET, "open"), SECRET)


def test_click_tokens_sign_the_url() -> None:
    url = "https://shop.example.jp/p/tea?utm_source=mail"
    token = link_token(KEY, SECRET, "click", url=url)
    assert read_link_token(token, SECRET, "click", url=url) == KEY
    for wrong in (None, "https://evil.example.com/", url + "&x=1"):
        with pytest.raises(LinkTokenError):
            read_link_token(token, SECRET, "click", url=wrong)


def test_tampered_and_malformed_tokens_are_refused() -> None:
    token = link_token(KEY, SECRET, "open")
    forged = link_token("12:send:346:once:1", SECRET, "open").split(".")[0] + "." + token.split(".")[1]
    for bad in (forged, token + "A", token.split(".")[0], "!!!.???", ""):
        with pytest.raises(LinkTokenError):
            read_link_token(bad, SECRET, "open")
    with pytest.raises(LinkTokenError):
        read_link_token(token, "another-secret-entirely", "open")
