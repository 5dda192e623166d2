"""MovieLens 100K (GroupLens): users become customers, movies products, ratings interactions.

Files of the ml-100k folder used: ``u.user`` (``user_id|age|gender|occupation|zip_code``),
``u.item`` (``movie_id|title|release_date|video_release_date|imdb_url|`` then 19 genre flags;
latin-1) and ``u.data`` (``user_id<TAB>item_id<TAB>rating<TAB>unix_seconds``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from kizuna.errors import ImportDataError
from kizuna.ingest.datasets import DatasetAdapter
from kizuna.ingest.datasets._textfile import (
    BATCH,
    Record,
    count_lines,
    require_file,
    split_records,
)
from kizuna.ingest.values import Expected, parse_int, parse_str
from kizuna.ingest.writer import ImportSummary, Row, StoreWriter, dedup_key, import_run
from kizuna.progress import NullProgress, Progress
from kizuna.store.bulk import chunked
from kizuna.store.engine import Store

NAME = "movielens-100k"

#: The genre flags of u.item, in file order (as listed in u.genre).
GENRES = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)
USER_COLUMNS = ("user_id", "age", "gender", "occupation", "zip_code")
ITEM_COLUMNS = ("movie_id", "title", "release_date", "video_release_date", "imdb_url", *GENRES)
RATING_COLUMNS = ("user_id", "item_id", "rating", "timestamp")

_GENDERS = {"M": "male", "F": "female"}
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


@dataclass(frozen=True)
class _Files:
    users: Path
    items: Path
    ratings: Path


def import_movielens(
    store: Store, path: Path, *, prefix: str = "ml-", progress: Progress | None = None
) -> ImportSummary:
    """Import the MovieLens 100K folder at ``path`` into ``store``.

    Args:
        store: where to write.
        path: the ml-100k folder holding ``u.user``, ``u.item`` and ``u.data``.
        prefix: put before user ids (customer ``external_id``) and movie ids (product ``sku``).
        progress: shows progress per file.

    Returns:
        What was added; a second import of the same folder adds nothing.

    Raises:
        ImportDataError: a file is missing, or a line cannot be read (nothing is written then).
    """
    files = _files(Path(path))
    shown = progress or NullProgress()
    with import_run(store, NAME, path, progress=progress) as (writer, summary):
        users = _import_users(writer, files.users, prefix, shown)
        movies = _import_movies(writer, files.items, prefix, shown)
        _import_ratings(writer, files.ratings, prefix, users, movies, shown)
    return summary


def _files(folder: Path) -> _Files:
    expected = "the ml-100k folder, holding u.user, u.item and u.data"
    if not folder.is_dir():
        raise ImportDataError(folder, "not a folder", expected=expected)
    return _Files(
        users=require_file(folder / "u.user", expected),
        items=require_file(folder / "u.item", expected),
        ratings=require_file(folder / "u.data", expected),
    )


# -- users ----------------------------------------------------------------------------------------
def _import_users(writer: StoreWriter, path: Path, prefix: str, progress: Progress) -> set[int]:
    progress.stage("MovieLens users", total=count_lines(path))
    seen: dict[int, int] = {}
    records = split_records(path, USER_COLUMNS, sep="|", what="users")
    for rows in chunked((_customer(r, prefix, seen) for r in records), BATCH):
        writer.write_customers(rows)
        progress.advance(len(rows))
    return set(seen)


def _customer(record: Record, prefix: str, seen: dict[int, int]) -> Row:
    user_id = _unique_id(record, "user_id", seen)
    gender = record.required("gender", _gender)
    zip_code = record.required("zip_code", parse_str)
    return {
        "external_id": f"{prefix}{user_id}",
        "gender": gender,
        "postal_code": zip_code,
        # A few zips are Canadian postal codes (T8H1N): only five digits are US ZIP codes.
        "country": "US" if len(zip_code) == 5 and zip_code.isdigit() else None,
        "attributes": {
            "age": record.required("age", parse_int),
            "occupation": record.required("occupation", parse_str),
        },
    }


def _gender(value: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    if text not in _GENDERS:
        raise Expected("M or F")
    return _GENDERS[text]


# -- movies ---------------------------------------------------------------------------------------
def _import_movies(writer: StoreWriter, path: Path, prefix: str, progress: Progress) -> set[int]:
    progress.stage("MovieLens movies", total=count_lines(path))
    seen: dict[int, int] = {}
    # u.item is latin-1 (titles such as "Misérables"), so it is never refused for its bytes.
    records = split_records(path, ITEM_COLUMNS, sep="|", encoding="latin-1", what="movies")
    for rows in chunked((_product(r, prefix, seen) for r in records), BATCH):
        writer.write_products(rows)
        progress.advance(len(rows))
    return set(seen)


def _product(record: Record, prefix: str, seen: dict[int, int]) -> Row:
    movie_id = _unique_id(record, "movie_id", seen)
    genres = [g for g in GENRES if record.required(g, _flag)]
    released = record.optional("release_date", _release_date)
    return {
        "sku": f"{prefix}{movie_id}",
        "title": record.required("title", parse_str),
        "category_path": f"Movies/{genres[0]}" if genres else "Movies",
        "price": None,
        "currency": None,
        "attributes": {
            "genres": genres,
            "release_date": released.isoformat() if released else None,
            "imdb_url": parse_str(record.cells["imdb_url"]),
        },
    }


def _flag(value: str) -> int:
    if value.strip() not in ("0", "1"):
        raise Expected("a genre flag, 0 or 1")
    return int(value)


def _release_date(value: str) -> date | None:
    """``01-Jan-1995`` (month names read without the locale, which could rename them)."""
    text = value.strip()
    if not text:
        return None
    try:
        day, month, year = text.split("-")
        return date(int(year), _MONTHS[month.lower()], int(day))
    except (ValueError, KeyError):
        raise Expected("a date such as 01-Jan-1995") from None


# -- ratings --------------------------------------------------------------------------------------
def _import_ratings(
    writer: StoreWriter,
    path: Path,
    prefix: str,
    users: Iterable[int],
    movies: Iterable[int],
    progress: Progress,
) -> None:
    progress.stage("MovieLens ratings", total=count_lines(path))
    customer_ids = writer.customer_ids(f"{prefix}{u}" for u in users)
    product_ids = writer.product_ids(f"{prefix}{m}" for m in movies)
    records = split_records(path, RATING_COLUMNS, sep="\t", what="ratings")
    for rows in chunked(_interactions(records, prefix, customer_ids, product_ids), BATCH):
        writer.write_interactions(rows)
        progress.advance(len(rows))


def _interactions(
    records: Iterable[Record],
    prefix: str,
    customer_ids: dict[str, int],
    product_ids: dict[str, int],
) -> Iterator[Row]:
    for record in records:
        user = record.required("user_id", parse_int)
        item = record.required("item_id", parse_int)
        rating = record.required("rating", _rating)
        seconds = record.required("timestamp", _unix_seconds)
        customer_id = customer_ids.get(f"{prefix}{user}")
        if customer_id is None:
            raise record.error(
                "the rating names an unknown user", column="user_id", expected="a user of u.user"
            )
        product_id = product_ids.get(f"{prefix}{item}")
        if product_id is None:
            raise record.error(
                "the rating names an unknown movie", column="item_id", expected="a movie of u.item"
            )
        yield {
            "customer_id": customer_id,
            "product_id": product_id,
            "kind": "rating",
            "weight": float(rating),
            "occurred_at": datetime.fromtimestamp(seconds, UTC),
            "dedup_key": dedup_key(prefix, user, item, seconds, "rating"),
        }


def _rating(value: str) -> int | None:
    rating = parse_int(value)
    if rating is not None and not 1 <= rating <= 5:
        raise Expected("a rating from 1 to 5")
    return rating


def _unix_seconds(value: str) -> int | None:
    seconds = parse_int(value)
    if seconds is not None and seconds < 0:
        raise Expected("Unix seconds (a whole number of seconds since 1970)")
    return seconds


# -- shared ---------------------------------------------------------------------------------------
def _unique_id(record: Record, column: str, seen: dict[int, int]) -> int:
    """The id in ``column``, refused if an earlier line (kept in ``seen``) had it already."""
    value = record.required(column, parse_int)
    if value in seen:
        raise record.error(
            f"the id appears twice (first on line {seen[value]})",
            column=column,
            expected="each id once",
        )
    seen[value] = record.line
    return value


ADAPTER = DatasetAdapter(
    name=NAME,
    summary="MovieLens 100K: 943 users, 1,682 movies and 100,000 ratings (GroupLens).",
    path_help="the ml-100k folder, holding u.user, u.item and u.data.",
    default_prefix="ml-",
    run=import_movielens,
)
