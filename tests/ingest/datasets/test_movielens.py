from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from _files import cli_import, counts, real_file, write
from sqlalchemy import select

from kizuna.errors import ImportDataError
from kizuna.ingest.datasets.movielens import import_movielens
from kizuna.store import Store
from kizuna.store.tables import Customer, Interaction, Product

USERS = """1|24|M|technician|85711
2|53|F|other|94043
3|23|M|writer|T8H1N
"""
FLAGS_ANIMATION_CHILDREN_COMEDY = "|".join("0001110000000000000")
FLAGS_DRAMA = "|".join("0000000010000000000")
FLAGS_UNKNOWN = "|".join("1000000000000000000")
ITEMS = (
    f"1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|"
    f"{FLAGS_ANIMATION_CHILDREN_COMEDY}\n"
    f"2|Misérables, Les (1995)|25-Oct-1995||http://us.imdb.com/M/title-exact?Miserables|{FLAGS_DRAMA}\n"
    f"3|unknown||||{FLAGS_UNKNOWN}\n"
)
RATINGS = """1\t1\t5\t874965758
1\t2\t3\t876893171
2\t1\t4\t888550871
3\t3\t1\t891717742
"""


def folder(tmp_path: Path, *, users: str = USERS, items: str = ITEMS, ratings: str = RATINGS) -> Path:
    root = tmp_path / "ml-100k"
    root.mkdir()
    write(root / "u.user", users)
    write(root / "u.item", items, encoding="latin-1")
    write(root / "u.data", ratings)
    return root


def test_users_movies_and_ratings_land_in_their_columns(store: Store, tmp_path: Path) -> None:
    summary = import_movielens(store, folder(tmp_path))
    assert summary.added == {"customers": 3, "products": 3, "interactions": 4}
    with store.session() as s:
        users = {c.external_id: c for c in s.scalars(select(Customer))}
        movies = {p.sku: p for p in s.scalars(select(Product))}
        ratings = s.execute(
            select(Customer.external_id, Product.sku, Interaction)
            .join(Customer, Customer.id == Interaction.customer_id)
            .join(Product, Product.id == Interaction.product_id)
        ).all()
    one = users["ml-1"]
    assert (one.gender, one.postal_code, one.country) == ("male", "85711", "US")
    assert one.attributes == {"age": 24, "occupation": "technician"}
    assert users["ml-2"].gender == "female"
    assert users["ml-3"].country is None  # a Canadian postal code
    toy = movies["ml-1"]
    assert (toy.title, toy.category_path, toy.price, toy.currency) == (
        "Toy Story (1995)",
        "Movies/Animation",
        None,
        None,
    )
    assert toy.attributes == {
        "genres": ["Animation", "Children's", "Comedy"],
        "release_date": "1995-01-01",
        "imdb_url": "http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)",
    }
    assert movies["ml-2"].title == "Misérables, Les (1995)"  # read as latin-1
    assert movies["ml-3"].category_path == "Movies/unknown"
    assert movies["ml-3"].attributes == {"genres": ["unknown"], "release_date": None, "imdb_url": None}
    by_pair = {(user, sku): r for user, sku, r in ratings}
    assert set(by_pair) == {("ml-1", "ml-1"), ("ml-1", "ml-2"), ("ml-2", "ml-1"), ("ml-3", "ml-3")}
    first = by_pair["ml-1", "ml-1"]
    assert (first.kind, first.weight) == ("rating", 5.0)
    assert first.occurred_at == datetime(1997, 9, 22, 22, 2, 38, tzinfo=UTC)
    assert first.occurred_at is not None and first.occurred_at.utcoffset() == timedelta(0)


def test_second_import_adds_nothing(store: Store, tmp_path: Path) -> None:
    path = folder(tmp_path)
    import_movielens(store, path)
    again = import_movielens(store, path)
    assert again.added == {}
    assert counts(store) == {"customers": 3, "products": 3, "interactions": 4, "import_runs": 2}


def test_prefix_is_put_before_every_id(store: Store, tmp_path: Path) -> None:
    import_movielens(store, folder(tmp_path), prefix="")
    with store.session() as s:
        assert sorted(s.scalars(select(Customer.external_id))) == ["1", "2", "3"]
        assert sorted(s.scalars(select(Product.sku))) == ["1", "2", "3"]


BAD_INPUTS = {
    "wrong field count": ("users", USERS.replace("2|53|F|", "2|53|F|x|"), "u.user", 2, None),
    "bad gender": ("users", USERS.replace("|F|", "|X|"), "u.user", 2, "gender"),
    "age not a number": ("users", USERS.replace("|23|", "|twenty|"), "u.user", 3, "age"),
    "duplicate user": ("users", USERS + "1|30|M|other|12345\n", "u.user", 4, "user_id"),
    "bad release date": ("items", ITEMS.replace("25-Oct-1995", "1995-10-25"), "u.item", 2, "release_date"),
    "bad genre flag": ("items", ITEMS.replace("|unknown||||1|", "|unknown||||yes|"), "u.item", 3, "unknown"),
    "rating out of range": ("ratings", RATINGS.replace("\t3\t876", "\t6\t876"), "u.data", 2, "rating"),
    "bad timestamp": ("ratings", RATINGS.replace("888550871", "yesterday"), "u.data", 3, "timestamp"),
    "unknown user": ("ratings", RATINGS + "9\t1\t3\t891717742\n", "u.data", 5, "user_id"),
    "unknown movie": ("ratings", RATINGS + "1\t99\t3\t891717742\n", "u.data", 5, "item_id"),
    "empty file": ("ratings", "", "u.data", 1, None),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_names_line_and_column_and_writes_nothing(store: Store, tmp_path: Path, case: str) -> None:
    file, text, name, line, column = BAD_INPUTS[case]
    path = folder(tmp_path, **{file: text})
    with pytest.raises(ImportDataError) as caught:
        import_movielens(store, path)
    error = caught.value
    assert error.path is not None and Path(error.path).name == name
    assert (error.line, error.column) == (line, column)
    assert counts(store) == {}


def test_bytes_that_are_not_utf8_name_their_line(store: Store, tmp_path: Path) -> None:
    path = folder(tmp_path)
    (path / "u.data").write_bytes(RATINGS.encode() + b"2\t2\t4\t88855\xff0871\n")
    with pytest.raises(ImportDataError, match="not valid utf-8") as caught:
        import_movielens(store, path)
    assert caught.value.line == 5
    assert counts(store) == {}


def test_missing_file_is_named(store: Store, tmp_path: Path) -> None:
    path = folder(tmp_path)
    (path / "u.item").unlink()
    with pytest.raises(ImportDataError, match=r"u\.item: file not found"):
        import_movielens(store, path)


def test_cli_prints_summary_and_exits_2_on_bad_input(db_url: str, tmp_path: Path) -> None:
    good = cli_import("movielens-100k", folder(tmp_path), db_url)
    assert good.exit_code == 0, good.output
    assert "added 3 customers, 3 products, 4 interactions" in good.output
    bad_root = tmp_path / "bad"
    bad_root.mkdir()
    bad = cli_import("movielens-100k", folder(bad_root, ratings="1\t1\tfive\t874965758\n"), db_url)
    assert bad.exit_code == 2
    assert "u.data, line 1, column 'rating'" in bad.output
    assert "Nothing was imported" in bad.output


def test_real_movielens_100k(store: Store) -> None:
    summary = import_movielens(store, real_file("movielens-100k"))
    assert summary.added == {"customers": 943, "products": 1682, "interactions": 100_000}
