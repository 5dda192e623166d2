"""Category paths: whether a product's ``category_path`` lies in a category, in Python and in SQL.

A category is named by a path prefix: ``食品`` holds ``食品``, ``食品/コーヒー`` and ``食品 > 茶``, but not
``食品雑貨`` (a prefix must end at a level). ``/`` and ``>`` separate levels, with optional spaces before
them; trailing separators in the prefix are ignored. The merchandising rules and the segment conditions
match categories the same way, case-sensitively, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, false, func, or_
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import ColumnElement

#: Characters that separate the levels of a category path.
SEPARATORS = "/>"


def category_prefix_of(prefix: str) -> str:
    """``prefix`` without trailing separators and spaces (``"食品/ "`` → ``"食品"``)."""
    return prefix.rstrip(SEPARATORS + " ")


def in_category(path: str | None, prefix: str) -> bool:
    """Whether ``path`` is category ``prefix`` or lies below it."""
    prefix = category_prefix_of(prefix)
    if path is None or not prefix or not path.startswith(prefix):
        return False
    rest = path[len(prefix) :].lstrip(" ")
    return rest == "" or rest[0] in SEPARATORS


def under_category(column: ColumnElement[Any] | QueryableAttribute[Any], prefix: str) -> ColumnElement[bool]:
    """SQL for :func:`in_category` on a path column (NULL paths never match).

    Written with ``substr`` rather than ``LIKE``: SQLite's LIKE ignores the case of ASCII letters and
    PostgreSQL's does not, and ``%`` or ``_`` in a category name must match only themselves.
    """
    prefix = category_prefix_of(prefix)
    if not prefix:
        return false()
    rest = func.ltrim(func.substr(column, len(prefix) + 1), " ")
    return and_(
        func.substr(column, 1, len(prefix)) == prefix,
        or_(rest == "", func.substr(rest, 1, 1).in_(list(SEPARATORS))),
    )


def spelled_like(paths: Iterable[str], prefix: str) -> str | None:
    """The category, among the levels of ``paths``, that ``prefix`` names but for upper and lower case
    (``movies/drama`` → ``Movies/Drama``): the hint when a case-sensitive prefix matches nothing."""
    wanted = category_prefix_of(prefix).casefold()
    for path in paths:
        if path.casefold().startswith(wanted) and in_category(path, path[: len(wanted)]):
            return path[: len(wanted)]
    return None
