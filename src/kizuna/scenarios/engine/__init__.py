"""The scenario engine: durable runs per customer, moved by workers through triggers, steps and policies.

- :func:`run_once` / :func:`run_forever` (:mod:`.worker`): the worker's passes.
- :func:`enter` (:mod:`.entering`): enter customers into a scenario, idempotently.
- :func:`advance` (:mod:`.stepping`): move runs until they wait, exit or end.
- the outbox: each send is a ``deliveries`` row with a unique key (:func:`.actions.delivery_key`).

See ``docs/engine.md`` for how it works and what it guarantees.
"""

from kizuna.scenarios.engine.actions import delivery_key
from kizuna.scenarios.engine.entering import ONCE, enter
from kizuna.scenarios.engine.state import LoadedScenario, RunReport, RunState, load_active
from kizuna.scenarios.engine.stepping import advance
from kizuna.scenarios.engine.worker import run_forever, run_once

__all__ = [
    "ONCE",
    "LoadedScenario",
    "RunReport",
    "RunState",
    "advance",
    "delivery_key",
    "enter",
    "load_active",
    "run_forever",
    "run_once",
]
