"""Normalising and hashing, checked against the examples the platforms publish."""

from __future__ import annotations

import hashlib

import phonenumbers
import pytest

from kizuna.channels.audiences.normalise import (
    compact,
    country_code,
    e164,
    lower_without_spaces,
    normalise_email,
    sha256_hex,
    split_name,
)


def test_sha256_hex_is_the_lower_case_hex_digest_of_the_fips_example() -> None:
    # FIPS 180-2, appendix B.1: SHA-256("abc").
    assert sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        # Google Data Manager API quickstart sample rows: trimmed, lower-cased, no whitespace.
        ("cloudySanFrancisco@GMAIL.com", "cloudysanfrancisco@gmail.com"),
        ("baklavainthebalkans@gmail.com  ", "baklavainthebalkans@gmail.com"),
        (" AlexJ@cymbalgroup.com", "alexj@cymbalgroup.com"),
        ("quinn@CYMBALGROUP.com", "quinn@cymbalgroup.com"),
        # Google's Customer Match code sample keeps the period before the domain.
        ("alex.2@example.com", "alex.2@example.com"),
        # Gmail dots and +tags are kept: Customer Match asks for no such rewrite.
        ("Jane.Doe+shop@gmail.com", "jane.doe+shop@gmail.com"),
        ("ja ne@example.com", "jane@example.com"),
        # Full-width input, as Japanese forms produce it.
        ("ＴＡＲＯ＠ＥＸＡＭＰＬＥ．ＪＰ", "taro@example.jp"),
    ],
)
def test_google_email(raw: str, normalised: str) -> None:
    assert normalise_email(raw, drop_inner_whitespace=True) == normalised


def test_meta_email_is_trimmed_and_lower_cased_and_its_hash_is_of_that() -> None:
    normalised = normalise_email("  Person@Example.com ")
    assert normalised == "person@example.com"
    assert sha256_hex(normalised) == hashlib.sha256(b"person@example.com").hexdigest()


@pytest.mark.parametrize("raw", [None, "", "   ", "no-at-sign", "@example.com", "someone@"])
def test_what_is_no_email_gives_none(raw: str | None) -> None:
    assert normalise_email(raw) is None


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("090-1234-5678", "JP", "+819012345678"),  # mobile
        ("080 1234 5678", "JP", "+818012345678"),
        ("０９０－１２３４－５６７８", "JP", "+819012345678"),  # full width
        ("03-1234-5678", "JP", "+81312345678"),  # Tokyo landline
        ("(06) 6123-4567", "JP", "+81661234567"),  # Osaka landline
        ("0120-123-456", "JP", "+81120123456"),  # free dial
        ("+81 90 1234 5678", "US", "+819012345678"),  # international form wins over the region
        ("+1 800 5550101", "JP", "+18005550101"),  # Google's Customer Match sample
        ("(650) 555-1212", "US", "+16505551212"),
    ],
)
def test_e164(raw: str, region: str, expected: str) -> None:
    assert e164(raw, region) == expected


@pytest.mark.parametrize(
    "raw", ["090-1234-5678", "03-1234-5678", "0466-12-3456", "0120-123-456", "050-1234-5678"]
)
def test_the_japanese_fast_path_agrees_with_phonenumbers(raw: str) -> None:
    parsed = phonenumbers.parse(raw, "JP")
    assert e164(raw, "JP") == phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@pytest.mark.parametrize("raw", [None, "", "abc", "12"])
def test_what_is_no_phone_gives_none(raw: str | None) -> None:
    assert e164(raw, "JP") is None


@pytest.mark.parametrize(
    ("full", "given", "family"),
    [
        ("山田 太郎", "太郎", "山田"),
        ("山田\u3000太郎", "太郎", "山田"),
        ("ヤマダ タロウ", "タロウ", "ヤマダ"),
        ("Alex Quinn", "Alex", "Quinn"),
        ("Mary Ann Smith", "Mary Ann", "Smith"),
        ("Prince", None, "Prince"),
        (None, None, None),
    ],
)
def test_split_name(full: str | None, given: str | None, family: str | None) -> None:
    assert split_name(full) == (given, family)


def test_name_rules() -> None:
    assert lower_without_spaces(" Mary Ann ") == "maryann"
    assert compact("Mary-Ann O'Neil") == "maryannoneil"  # Meta: lower case, no punctuation
    assert compact("横浜市 青葉区") == "横浜市青葉区"
    assert compact(" - ") is None


def test_country_code() -> None:
    assert country_code("jp") == "JP"
    assert country_code(None, "jp") == "JP"
    assert country_code("Japan") is None
