"""The customer data store: tables, engine, migrations and bulk writing."""

# The tables first: ``access`` and ``tables`` import each other, which only works in this order.
from kizuna.store import tables as _tables  # noqa: F401
from kizuna.store.engine import Store, close_stores, open_store

__all__ = ["Store", "close_stores", "open_store"]
