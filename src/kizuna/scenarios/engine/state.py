"""What the engine holds in memory: the active scenarios, each run being moved, and a pass's report.

Runs are read from ``scenario_runs`` into :class:`RunState`, moved in Python, and written back in one bulk
update per batch; the definitions are parsed once per scenario version and kept for the life of the worker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from kizuna.scenarios.definition import ScenarioDefinition, parse_scenario
from kizuna.store.automation import Scenario, ScenarioRun
from kizuna.store.bulk import among, is_postgres

#: Run statuses. ``waiting`` runs are in progress (until ``wake_at`` or an event); the rest are finished.
WAITING, DONE, EXITED, CONTROL, HOLDOUT = "waiting", "done", "exited", "control", "holdout"


@dataclass(frozen=True)
class LoadedScenario:
    """An active scenario: its row's id, name, campaign and parsed definition."""

    id: int
    name: str
    campaign_id: int | None
    created_at: datetime
    definition: ScenarioDefinition

    @classmethod
    def of(cls, row: Scenario) -> LoadedScenario:
        """A scenario row with its definition parsed (ConfigError if the stored definition is invalid)."""
        definition = parse_scenario(row.definition, source=f"scenario {row.name!r}")
        return cls(row.id, row.name, row.campaign_id, row.created_at, definition)


#: Parsed definitions by their JSON text: parsed once per version for the life of the worker.
_parsed: dict[str, ScenarioDefinition] = {}


def load_active(session: Session) -> dict[int, LoadedScenario]:
    """Every scenario whose status is ``active``, by id. Paused ones are left out, so their runs stay put."""
    rows = session.execute(
        select(
            Scenario.id,
            Scenario.name,
            Scenario.campaign_id,
            Scenario.created_at,
            Scenario.definition,
        ).where(Scenario.status == "active")
    )
    found: dict[int, LoadedScenario] = {}
    for sid, name, campaign_id, created_at, data in rows:
        key = json.dumps(data, sort_keys=True)
        definition = _parsed.get(key)
        if definition is None:
            definition = parse_scenario(data, source=f"scenario {name!r}")
            _parsed[key] = definition
        found[sid] = LoadedScenario(sid, name, campaign_id, created_at, definition)
    return found


@dataclass
class RunState:
    """One run in memory while the engine moves it; ``moving`` is True while it can take another step."""

    id: int
    scenario_id: int
    customer_id: int
    occurrence: str
    status: str
    step: str | None
    arm: str | None
    wake_at: datetime | None
    waiting_for: str | None
    context: dict[str, Any]
    entered_at: datetime
    finished_at: datetime | None
    exit_reason: str | None
    moving: bool = field(default=False, compare=False)

    def finish(self, status: str, now: datetime, reason: str | None = None) -> None:
        """End the run with ``status`` (done, exited) and an optional reason."""
        self.status, self.finished_at, self.exit_reason = status, now, reason
        self.wake_at = self.waiting_for = None
        self.moving = False

    def sleep(self, until: datetime, step: str | None, waiting_for: str | None = None) -> None:
        """Wait until ``until`` (or ``waiting_for`` an event), then carry on at ``step``."""
        self.wake_at, self.step, self.waiting_for = until, step, waiting_for
        self.moving = False

    def since(self) -> str:
        """When the run's trigger happened (ISO): goal and ``unless`` events count from here."""
        return str(self.context.get("since") or self.entered_at.isoformat())

    def trigger_event(self) -> str | None:
        """The id of the event that started the run (event triggers), as text; it is never its own goal."""
        event = self.context.get("event")
        return None if event is None else str(event)


_COLUMNS = [f.name for f in fields(RunState) if f.name != "moving"]
#: The columns a :class:`RunState` is built from, in its fields' order.
RUN_COLUMNS = [getattr(ScenarioRun, name) for name in _COLUMNS]


def load_runs(session: Session, run_ids: list[int]) -> list[RunState]:
    """The runs with these ids, in id order."""
    if not run_ids:
        return []
    found: list[RunState] = []
    for these in among(session, ScenarioRun.id, run_ids):
        found.extend(RunState(*row) for row in session.execute(select(*RUN_COLUMNS).where(these)))
    return sorted(found, key=lambda r: r.id)


def save_runs(session: Session, runs: list[RunState], now: datetime) -> None:
    """Write the runs back in one bulk update by primary key."""
    if not runs:
        return
    if is_postgres(session):
        _save_postgres(session, runs, now)
        return
    session.execute(
        update(ScenarioRun),
        [
            {
                "id": r.id,
                "status": r.status,
                "step": r.step,
                "arm": r.arm,
                "wake_at": r.wake_at,
                "waiting_for": r.waiting_for,
                "context": r.context,
                "updated_at": now,
                "finished_at": r.finished_at,
                "exit_reason": r.exit_reason,
            }
            for r in runs
        ],
    )


_SAVE_PG = text(
    "UPDATE scenario_runs AS r SET status = v.status, step = v.step, arm = v.arm, wake_at = v.wake_at,"
    " waiting_for = v.waiting_for, context = v.context::jsonb, updated_at = :now,"
    " finished_at = v.finished_at, exit_reason = v.exit_reason"
    " FROM unnest(CAST(:id AS bigint[]), CAST(:status AS text[]), CAST(:step AS text[]),"
    " CAST(:arm AS text[]), CAST(:wake_at AS timestamptz[]), CAST(:waiting_for AS text[]),"
    " CAST(:context AS text[]), CAST(:finished_at AS timestamptz[]), CAST(:exit_reason AS text[]))"
    " AS v(id, status, step, arm, wake_at, waiting_for, context, finished_at, exit_reason)"
    " WHERE r.id = v.id"
)


def _save_postgres(session: Session, runs: list[RunState], now: datetime) -> None:
    """One UPDATE ... FROM unnest(arrays) for the whole batch: many times the pace of executemany."""
    session.execute(
        _SAVE_PG,
        {
            "now": now,
            "id": [r.id for r in runs],
            "status": [r.status for r in runs],
            "step": [r.step for r in runs],
            "arm": [r.arm for r in runs],
            "wake_at": [r.wake_at for r in runs],
            "waiting_for": [r.waiting_for for r in runs],
            "context": [json.dumps(r.context, ensure_ascii=False) for r in runs],
            "finished_at": [r.finished_at for r in runs],
            "exit_reason": [r.exit_reason for r in runs],
        },
    )


@dataclass
class RunReport:
    """What one pass did (or, in a dry run, would have done)."""

    events_read: int = 0
    segment_entries_read: int = 0
    entered: int = 0
    control: int = 0
    holdout: int = 0
    advanced: int = 0
    deliveries: int = 0
    suppressed: int = 0
    deferred: int = 0
    exited: int = 0
    done: int = 0
    orders_read: int = 0
    redeemed: int = 0
    attributed: int = 0
    dry_run: bool = False

    def add(self, other: RunReport) -> None:
        """Add another report's counts to this one."""
        for f in fields(self):
            if f.name != "dry_run":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def busy(self) -> bool:
        """Whether the pass found anything to do (orders read again behind a gap do not count)."""
        return any(getattr(self, f.name) for f in fields(self) if f.name not in ("dry_run", "orders_read"))

    def as_dict(self) -> dict[str, int | bool]:
        """The counts by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}
