"""Fixtures for channel tests: a local HTTP receiver, and the channel contract under its own module name."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from webhook_receiver import Receiver


def _load_contract() -> None:
    # tests/recommend/contract.py already owns the module name ``contract``.
    if "channel_contract" in sys.modules:
        return
    spec = importlib.util.spec_from_file_location("channel_contract", Path(__file__).with_name("contract.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["channel_contract"] = module
    spec.loader.exec_module(module)


_load_contract()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1, in a thread, for the length of one test."""
    server = Receiver()
    yield server
    server.close()
