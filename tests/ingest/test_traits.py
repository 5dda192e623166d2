from __future__ import annotations

from datetime import date

from kizuna.ingest.traits import split_traits


def test_segment_traits_fill_columns_and_keep_the_rest() -> None:
    traits = split_traits(
        {
            "email": "hanako@example.jp",
            "firstName": "花子",
            "lastName": "佐藤",
            "phone": "090-1234-5678",
            "birthday": "1990-04-01T00:00:00.000Z",
            "address": {
                "postalCode": "150-0001",
                "state": "東京都",
                "city": "渋谷区",
                "street": "神宮前1-2-3",
                "country": "jp",
                "building": "3F",
            },
            "plan": "premium",
            "createdAt": "2024-01-01",
        }
    )
    assert traits.columns == {
        "email": "hanako@example.jp",
        "name": "佐藤 花子",
        "phone": "090-1234-5678",
        "birth_date": date(1990, 4, 1),
        "postal_code": "150-0001",
        "prefecture": "東京都",
        "city": "渋谷区",
        "address_line1": "神宮前1-2-3",
        "country": "JP",
    }
    assert traits.attributes == {
        "firstName": "花子",
        "lastName": "佐藤",
        "plan": "premium",
        "createdAt": "2024-01-01",
        "address": {"building": "3F"},
    }
    assert traits.email == "hanako@example.jp"


def test_values_that_do_not_fit_a_column_are_kept_as_attributes() -> None:
    traits = split_traits(
        {"country": "Japan", "birthday": "someday", "email": "not-an-email", "name": "Ann Lee"}
    )
    assert traits.columns == {"name": "Ann Lee"}
    assert traits.attributes == {"country": "Japan", "birthday": "someday", "email": "not-an-email"}
    assert traits.email is None


def test_western_names_are_given_name_first_and_kana_is_understood() -> None:
    traits = split_traits(
        {"firstName": "Ann", "lastName": "Lee", "nameKana": "アン リー", "address": "1 Main St"}
    )
    assert traits.columns == {"name": "Ann Lee", "name_kana": "アン リー", "address_line1": "1 Main St"}
