"""The customer data store: tables, engine, migrations and bulk writing."""

from kizuna.store.engine import Store, close_stores, open_store

__all__ = ["Store", "close_stores", "open_store"]
