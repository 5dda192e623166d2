"""A scenario's flow as an SVG diagram: the trigger, each step as a box with its counts, arrows between
them (branches, splits and waits for an event fork, with the arm or outcome on each arrow), and the end.

Steps are laid out in layers by their distance from the first step, so forks spread side by side; an arrow
back to an earlier layer (a loop through a wait) runs along the right-hand side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape

from markupsafe import Markup

from kizuna.scenarios.definition import BranchStep, ExitStep, ScenarioDefinition, SplitStep, WaitStep
from kizuna.scenarios.report import describe_step, describe_trigger

TRIGGER, END = "▶", "■"
BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 250, 74, 28, 46, 16


@dataclass
class StepCounts:
    """What happened at one step: runs waiting there, deliveries by status, responses by kind."""

    waiting: int = 0
    deliveries: dict[str, int] = field(default_factory=dict)
    responses: dict[str, int] = field(default_factory=dict)


def edges(definition: ScenarioDefinition) -> list[tuple[str, str, str]]:
    """Every arrow as (from, to, label): the trigger to the first step, each step to where it may go."""
    ids = definition.step_ids()
    found: list[tuple[str, str, str]] = [(TRIGGER, ids[0] if ids else END, "")]
    for step_id in ids:
        step = definition.step(step_id)
        after = definition.following(step_id) or END
        if isinstance(step, ExitStep):
            found.append((step_id, END, step.exit))
        elif isinstance(step, BranchStep):
            found.append((step_id, step.branch.then, "if"))
            found.append((step_id, step.branch.else_ or after, "else"))
        elif isinstance(step, SplitStep):
            found += [(step_id, a.next or after, f"{a.arm} {a.weight:g}") for a in step.split]
        elif isinstance(step, WaitStep) and step.wait.until_event is not None:
            found.append((step_id, step.wait.on_event or after, "event"))
            found.append((step_id, step.wait.on_timeout or after, "timeout"))
        else:
            found.append((step_id, after, ""))
    return found


def _layers(definition: ScenarioDefinition, arrows: list[tuple[str, str, str]]) -> dict[str, int]:
    """Each node's layer: the longest way to it from the trigger, loops (arrows back to a step already on
    the way, through a wait) left out, so every other arrow points down."""
    ids = definition.step_ids()
    following: dict[str, list[str]] = {}
    for source, target, _ in arrows:
        if target != END:
            following.setdefault(source, []).append(target)
    loops: set[tuple[str, str]] = set()
    state: dict[str, int] = {}

    def visit(node: str) -> None:
        state[node] = 1
        for target in following.get(node, []):
            if state.get(target) == 1:
                loops.add((node, target))
            elif target not in state:
                visit(target)
        state[node] = 2

    for node in [TRIGGER, *ids]:
        if node not in state:
            visit(node)
    depth = dict.fromkeys([TRIGGER, *ids], 0)
    for _ in range(len(depth)):
        for source, targets in following.items():
            for target in targets:
                if (source, target) not in loops:
                    depth[target] = max(depth[target], depth[source] + 1)
    for step_id in ids:  # steps nothing leads to sit below the trigger
        depth[step_id] = max(depth[step_id], 1)
    depth[END] = max(depth.values()) + 1
    return depth


def _short(text: str, limit: int = 36) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def diagram(
    definition: ScenarioDefinition,
    counts: Mapping[str, StepCounts],
    exits: Mapping[str, int],
    t: Callable[..., str],
) -> Markup:
    """The flow of ``definition`` as SVG, with ``counts`` per step and finished runs by reason (``exits``)."""
    arrows = edges(definition)
    depth = _layers(definition, arrows)
    order = [TRIGGER, *definition.step_ids(), END]
    rows: dict[int, list[str]] = {}
    for node in order:
        rows.setdefault(depth[node], []).append(node)
    widest = max(len(r) for r in rows.values())
    width = MARGIN * 2 + widest * BOX_W + (widest - 1) * GAP_X + 60
    height = MARGIN * 2 + len(rows) * BOX_H + (len(rows) - 1) * GAP_Y
    place: dict[str, tuple[float, float]] = {}
    for level, nodes in rows.items():
        used = len(nodes) * BOX_W + (len(nodes) - 1) * GAP_X
        left = MARGIN + (widest * BOX_W + (widest - 1) * GAP_X - used) / 2
        for k, node in enumerate(nodes):
            place[node] = (left + k * (BOX_W + GAP_X), MARGIN + level * (BOX_H + GAP_Y))
    parts = [
        f'<svg class="flow" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        'role="img" '
        f'aria-label="{escape(t("scenario.diagram"))}" xmlns="http://www.w3.org/2000/svg">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>',
    ]
    for source, target, label in arrows:
        parts.append(_arrow(place[source], place[target], depth[target] > depth[source], label, width))
    for node in order:
        parts.append(_box(node, place[node], definition, counts, exits, t))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (all text above is escaped)


def _arrow(a: tuple[float, float], b: tuple[float, float], down: bool, label: str, width: float) -> str:
    if down:
        x1, y1 = a[0] + BOX_W / 2, a[1] + BOX_H
        x2, y2 = b[0] + BOX_W / 2, b[1]
        mid_y = (y1 + y2) / 2
        path = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{mid_y:.1f} {x2:.1f},{mid_y:.1f} {x2:.1f},{y2:.1f}"
        lx, ly = (x1 + x2) / 2, mid_y - 3
    else:
        x1, y1 = a[0] + BOX_W, a[1] + BOX_H / 2
        x2, y2 = b[0] + BOX_W, b[1] + BOX_H / 2
        side = width - 20
        path = f"M{x1:.1f},{y1:.1f} C{side:.1f},{y1:.1f} {side:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
        lx, ly = side - 4, (y1 + y2) / 2
    text = f'<text class="edge-label" x="{lx:.1f}" y="{ly:.1f}" text-anchor="middle">{escape(label)}</text>'
    return f'<path class="edge" d="{path}" marker-end="url(#arrow)"/>' + (text if label else "")


def _box(
    node: str,
    at: tuple[float, float],
    definition: ScenarioDefinition,
    counts: Mapping[str, StepCounts],
    exits: Mapping[str, int],
    t: Callable[..., str],
) -> str:
    x, y = at
    if node == TRIGGER:
        kind, title, lines = "trigger", t("scenario.trigger"), [describe_trigger(definition.trigger)]
    elif node == END:
        finished = ", ".join(f"{reason} {n:,}" for reason, n in sorted(exits.items()))
        kind, title, lines = "end", t("scenario.end"), [finished or t("scenario.nobody_finished")]
    else:
        step = definition.step(node)
        kind, title = "step", node
        lines = [describe_step(step)]
        c = counts.get(node, StepCounts())
        figures = [t("scenario.waiting", n=f"{c.waiting:,}")] if c.waiting else []
        if c.deliveries:
            figures.append(", ".join(f"{status} {n:,}" for status, n in sorted(c.deliveries.items())))
        if c.responses:
            figures.append(", ".join(f"{kind_} {n:,}" for kind_, n in sorted(c.responses.items())))
        lines.append(" · ".join(figures) if figures else t("scenario.no_runs_here"))
    body = "".join(
        f'<text class="box-text" x="{x + 10:.1f}" y="{y + 40 + 17 * k:.1f}">{escape(_short(line))}</text>'
        for k, line in enumerate(lines[:2])
    )
    full = escape(" — ".join([title, *lines]))
    return (
        f'<g class="node node-{kind}" data-step="{escape(node)}"><title>{full}</title>'
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{BOX_W}" height="{BOX_H}" rx="8"/>'
        f'<text class="box-title" x="{x + 10:.1f}" y="{y + 20:.1f}">{escape(_short(title, 30))}</text>'
        f"{body}</g>"
    )
