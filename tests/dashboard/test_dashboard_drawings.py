"""The SVG charts and the scenario flow diagram."""

from __future__ import annotations

import re
from datetime import date

from kizuna.dashboard.charts import chart, daily
from kizuna.dashboard.flow import END, TRIGGER, StepCounts, _layers, diagram, edges
from kizuna.dashboard.i18n import translate
from kizuna.scenarios.definition import parse_scenario


def test_daily_fills_missing_days_with_zero() -> None:
    points = daily({date(2026, 3, 2): 5.0}, days=3, until=date(2026, 3, 3))
    assert points == [(date(2026, 3, 1), 0.0), (date(2026, 3, 2), 5.0), (date(2026, 3, 3), 0.0)]


def test_bar_heights_follow_the_values_and_text_is_escaped() -> None:
    points = [(date(2026, 3, 1), 10.0), (date(2026, 3, 2), 20.0)]
    svg = str(chart(points, label="<script>", kind="bar"))
    heights = [float(h) for h in re.findall(r'class="bar"[^>]* height="([0-9.]+)"', svg)]
    assert len(heights) == 2 and abs(heights[1] - 2 * heights[0]) < 0.2
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_a_line_chart_has_a_point_per_day() -> None:
    points = daily({}, days=90, until=date(2026, 3, 1))
    svg = str(chart(points, label="x"))
    assert svg.count("<circle") == 90 and "<polyline" in svg


SCENARIO = {
    "name": "welcome",
    "trigger": {"event": "Signed Up"},
    "steps": [
        {"id": "ask", "branch": {"if": {"consent": "email"}, "then": "mail"}},
        {"id": "post", "send": {"channel": "direct_mail", "template": "welcome-card"}},
        {"exit": "posted"},
        {"id": "mail", "split": [{"arm": "a", "weight": 1}, {"arm": "b", "weight": 1, "next": "later"}]},
        {"send": {"channel": "email", "template": "welcome-a"}},
        {"id": "later", "wait": "2d"},
    ],
}


def test_edges_fork_at_branches_and_splits() -> None:
    definition = parse_scenario(SCENARIO)
    found = edges(definition)
    assert (TRIGGER, "ask", "") in found
    assert ("ask", "mail", "if") in found and ("ask", "post", "else") in found
    assert ("mail", "step-5", "a 1") in found and ("mail", "later", "b 1") in found
    assert ("step-3", END, "posted") in found and ("later", END, "") in found


def test_the_diagram_shows_every_step_with_its_counts() -> None:
    definition = parse_scenario(SCENARIO)
    counts = {
        "later": StepCounts(waiting=7),
        "post": StepCounts(deliveries={"sent": 3}, responses={"scan": 2}),
    }
    svg = str(diagram(definition, counts, {"posted": 3}, lambda key, **v: translate("en", key, **v)))
    for step_id in definition.step_ids():
        assert f'data-step="{step_id}"' in svg
    assert "7 waiting" in svg and "sent 3" in svg and "scan 2" in svg and "posted 3" in svg
    assert svg.count('class="edge"') == len(edges(definition))


def test_arrows_point_down_except_loops_through_a_wait() -> None:
    looping = {**SCENARIO, "steps": [*SCENARIO["steps"][:-1], {"id": "later", "wait": {
        "until_event": "Order Completed", "timeout": "3d", "on_timeout": "mail"}}]}  # fmt: skip
    definition = parse_scenario(looping)
    layer = _layers(definition, edges(definition))
    upward = [(s, t) for s, t, _ in edges(definition) if layer[t] <= layer[s]]
    assert upward == [("later", "mail")]
    assert layer["later"] > layer["step-5"] > layer["mail"] > layer["ask"] > layer[TRIGGER]
