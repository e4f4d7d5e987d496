"""A failure report as one self-contained HTML page (no network, inline CSS and JS).

The page is rendered from ``fuzzer/templates/report.html.j2`` with autoescaping
on: every string from the report (all of it untrusted, since it came from the
code under test) is escaped by Jinja.  The per-step details the page's script
shows on click travel as JSON in a ``<script type="application/json">`` block
(Jinja's ``tojson`` escapes ``<``, ``>``, ``&`` and quotes), and the script
writes them with ``textContent`` only.  A Content-Security-Policy allows no
network access at all and only the page's own script (by hash).

Geometry of the SVG swimlane timeline is computed here; the template only
draws what it is given.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

import jinja2
from markupsafe import Markup

from fuzzer.render_pytest import render_pytest
from fuzzer.render_text import (
    Lane,
    clean,
    deviations,
    failure_line,
    format_parameters,
    format_state,
    format_time,
    format_value,
    found_after,
    is_surprise,
    lanes,
    scenario,
    schedule_summary,
    short_location,
    violation_position,
    where_it_broke,
)
from fuzzer.report import Report
from fuzzer.trace import TraceEntry

LABEL_WIDTH = 168  # the lane names, left of the timeline
STEP_SLOT = 100  # horizontal room of one step
EVENT_SLOT = 46  # horizontal room of an operation, a time jump or a note
AXIS_HEIGHT = 56  # step numbers and virtual time, above the lanes
LANE_HEIGHT = 62
FOOT_HEIGHT = 44  # the violation's label, below the lanes
RIGHT_PAD = 36
MARK_HEIGHT = 24
MARK_WIDTH = 62

DRIVER = -1  # lane key of the test driver (operations), above the task lanes


def render_html(report: Report) -> str:
    """The whole page for ``report`` as an HTML string."""
    template = _environment().get_template("report.html.j2")
    return template.render(**page_context(report))


def _environment() -> jinja2.Environment:
    """Jinja with autoescaping on for every template, and the CSP hash filter."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("fuzzer", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["csp_hash"] = csp_hash
    return env


def csp_hash(script: str | Markup) -> str:
    """The CSP source expression (``'sha256-...'``) allowing exactly ``script``."""
    digest = hashlib.sha256(str(script).encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def page_context(report: Report) -> dict[str, Any]:
    """Everything the template shows, as plain (still unescaped) data."""
    headline, deviation_lines = schedule_summary(report)
    timeline = build_timeline(report)
    return {
        "title": clean(report.failure.title),
        "kind": report.failure.kind,
        "message": failure_line(report),
        "target": clean(report.target),
        "meta": _meta(report),
        "scenario": _scenario(report),
        "schedule_headline": headline,
        "deviations": deviation_lines,
        "decisions_total": len(report.decisions),
        "surprises": report.surprises,
        "timeline": timeline,
        "geo": {
            "label_width": LABEL_WIDTH,
            "lane_height": LANE_HEIGHT,
            "mark_width": MARK_WIDTH,
            "mark_height": MARK_HEIGHT,
        },
        "rows": [_row(report, p, e) for p, e in enumerate(report.trace.entries)],
        "details": _details(report, timeline),
        "blocked": [
            {"task": clean(b.get("task", "?")), "at": clean(b.get("at", "?"))}
            for b in report.failure.blocked
        ],
        "traceback": report.failure.traceback or "",
        "regression_test": render_pytest(report),
    }


def _scenario(report: Report) -> list[dict[str, Any]]:
    """The scenario's lines, operations numbered as their marks in the timeline."""
    lines = []
    number = 0
    for line in scenario(report):
        is_op = line.kind in ("spawn", "call")
        number += is_op
        lines.append(
            {
                "kind": line.kind,
                "time": format_time(line.time),
                "text": line.text,
                "failed": line.failed,
                "number": number if is_op else None,
            }
        )
    return lines


def _meta(report: Report) -> list[tuple[str, str]]:
    """The header's key facts, in reading order."""
    meta = [
        ("target", clean(report.target)),
        ("parameters", format_parameters(report.parameters)),
        ("broke at", where_it_broke(report)),
        ("found after", found_after(report)),
        ("seed", "?" if report.seed is None else clean(report.seed)),
        ("strategy", clean(report.strategy or "?")),
        ("decisions", f"{len(report.decisions)}, {report.surprises} non-default"),
    ]
    if report.policy:
        meta.append(("policy", clean(report.policy)))
    if report.versions:
        versions = ", ".join(f"{clean(k)} {clean(v)}" for k, v in report.versions.items())
        meta.append(("versions", versions))
    if report.created:
        meta.append(("created", clean(report.created)))
    return meta


def _row(report: Report, position: int, entry: TraceEntry) -> dict[str, Any]:
    """One row of the full trace table."""
    return {
        "pos": position,
        "kind": entry.kind,
        "step": entry.step if entry.kind == "step" else "",
        "time": format_time(entry.time),
        "task": clean(entry.task_name or ""),
        "pick": "" if entry.choice is None else f"{entry.choice} of {entry.candidates}",
        "surprise": is_surprise(entry),
        "violation": position == violation_position(report),
        "resumed_from": clean(entry.resumed_from or ""),
        "suspended_at": clean(entry.suspended_at or ""),
        "label": clean(entry.label or ""),
        "state": format_state(entry.state),
    }


# ----------------------------------------------------------------------------- the SVG


@dataclass(slots=True)
class SvgLane:
    """A horizontal lane: the driver's or a task's."""

    key: int
    name: str
    full_name: str
    y: float  # centre line
    start: float | None = None  # lifeline, from spawn to exit
    end: float | None = None
    exited: bool = False


@dataclass(slots=True)
class SvgMark:
    """One clickable mark: a step, an operation, a time jump, a note, or the end."""

    pos: int  # index into the trace (-1: the synthetic end-of-run mark)
    kind: str  # step | surprise | violation | ghost | spawn | call | time | note | end | blocked
    x: float
    y: float
    label: str = ""
    below: str = ""
    above: str = ""
    title: str = ""
    exited: bool = False
    target_y: float | None = None  # spawn: the spawned task's lane


@dataclass(frozen=True, slots=True)
class Band:
    """The failure's column: a red band across every lane, labelled below them."""

    x: float
    width: float
    label: str
    label_x: float
    anchor: str  # text-anchor of the label: kept inside the picture


@dataclass(slots=True)
class Timeline:
    """The swimlane timeline's geometry."""

    width: float
    height: float
    lanes: list[SvgLane]
    marks: list[SvgMark] = field(default_factory=list)
    axis: list[tuple[float, str, str]] = field(default_factory=list)  # x, text, class
    band: Band | None = None
    lanes_top: float = AXIS_HEIGHT
    lanes_bottom: float = 0.0


def build_timeline(report: Report) -> Timeline:
    """Lay the trace out: one lane per task, one slot per trace entry."""
    entries = report.trace.entries
    svg_lanes = _svg_lanes(report)
    by_key = {lane.key: lane for lane in svg_lanes}
    lanes_bottom = AXIS_HEIGHT + LANE_HEIGHT * len(svg_lanes)
    slots = [STEP_SLOT if e.kind == "step" else EVENT_SLOT for e in entries]
    end_slot = STEP_SLOT if violation_position(report) is None else 0
    width = LABEL_WIDTH + sum(slots) + end_slot + RIGHT_PAD
    timeline = Timeline(width, lanes_bottom + FOOT_HEIGHT, svg_lanes, lanes_bottom=lanes_bottom)
    timeline.axis.append((LABEL_WIDTH + 8, f"t={format_time(_start_time(report))}", "time"))
    x = float(LABEL_WIDTH)
    numbering = _operation_numbers(entries)
    for position, (entry, slot) in enumerate(zip(entries, slots, strict=True)):
        centre = x + slot / 2
        _place(report, timeline, by_key, position, entry, centre, numbering)
        x += slot
    if end_slot:
        _place_end(report, timeline, by_key, x + end_slot / 2)
    _place_defaults(report, timeline)
    for lane in svg_lanes:
        if lane.start is not None and lane.end is None:
            lane.end = x + end_slot
    return timeline


def _start_time(report: Report) -> float:
    entries = report.trace.entries
    return entries[0].time if entries else 0.0


def _svg_lanes(report: Report) -> list[SvgLane]:
    """The driver's lane (if it did anything) above one lane per task."""
    result: list[SvgLane] = []
    if any(e.kind in ("spawn", "call") for e in report.trace.entries):
        result.append(SvgLane(DRIVER, "test driver", "operations made by the test driver", 0))
    task_lanes: list[Lane] = lanes(report)
    for task in task_lanes:
        result.append(SvgLane(task.index, clean(task.name, 18), task.name, 0))
    for n, lane in enumerate(result):
        lane.y = AXIS_HEIGHT + LANE_HEIGHT * n + LANE_HEIGHT / 2
    return result


def _operation_numbers(entries: list[TraceEntry]) -> dict[int, int]:
    """Operation positions numbered 1, 2, ... as in the scenario list."""
    ops = [p for p, e in enumerate(entries) if e.kind in ("spawn", "call")]
    return {p: n for n, p in enumerate(ops, start=1)}


def _place(
    report: Report,
    timeline: Timeline,
    by_key: dict[int, SvgLane],
    position: int,
    entry: TraceEntry,
    centre: float,
    numbering: dict[int, int],
) -> None:
    """Add the mark (and axis labels, lifeline ends) for one trace entry."""
    if entry.kind == "step":
        _place_step(report, timeline, by_key, position, entry, centre)
        return
    title = _title(entry)
    if entry.kind == "time":
        label = f"t={format_time(entry.time)}"
        timeline.axis.append((centre, label, "time"))
        timeline.marks.append(SvgMark(position, "time", centre, 0, label, title=title))
        return
    driver = by_key.get(DRIVER)
    y = driver.y if driver else AXIS_HEIGHT + LANE_HEIGHT / 2
    mark = SvgMark(position, entry.kind, centre, y, str(numbering.get(position, "")), title=title)
    spawned = by_key.get(entry.task) if entry.kind == "spawn" and entry.task is not None else None
    if spawned is not None:
        mark.target_y = spawned.y
        spawned.start = centre if spawned.start is None else spawned.start
    timeline.marks.append(mark)


def _place_step(
    report: Report,
    timeline: Timeline,
    by_key: dict[int, SvgLane],
    position: int,
    entry: TraceEntry,
    centre: float,
) -> None:
    lane = by_key.get(entry.task if entry.task is not None else DRIVER)
    if lane is None:
        return
    if lane.start is None:
        lane.start = centre - STEP_SLOT / 2 + 6
    violating = position == violation_position(report)
    kind = "violation" if violating else ("surprise" if is_surprise(entry) else "step")
    exited = entry.suspended_at == "exited"
    below = "exited" if exited else clean(short_location(entry.suspended_at), 18)
    above = f"pick {entry.choice}/{entry.candidates}" if is_surprise(entry) else ""
    mark = SvgMark(position, kind, centre, lane.y, str(entry.step), below, above, _title(entry))
    mark.exited = exited
    if exited:
        lane.end = centre + STEP_SLOT / 2 - 14
        lane.exited = True
    timeline.marks.append(mark)
    timeline.axis.append((centre, str(entry.step), "step-violation" if violating else "step"))
    if violating:
        title = clean(report.failure.title, 32)
        timeline.band = _band(timeline, centre, f"✘ {title} at step {entry.step}")
        mark.kind = "violation"


def _place_end(
    report: Report, timeline: Timeline, by_key: dict[int, SvgLane], centre: float
) -> None:
    """A final column for failures not tied to a recorded step (deadlocks, final checks)."""
    failure = report.failure
    what = "deadlock" if failure.kind == "deadlock" else clean(failure.title, 32)
    timeline.band = _band(timeline, centre, f"✘ {what} after step {failure.step}")
    timeline.axis.append((centre, "end", "step-violation"))
    names = {lane.full_name: lane for lane in by_key.values()}
    y = AXIS_HEIGHT + LANE_HEIGHT / 2
    title = failure_line(report)
    timeline.marks.append(SvgMark(-1, "end", centre, y, "✘", title=title))
    for blocked in failure.blocked:
        lane = names.get(clean(blocked.get("task", "")))
        if lane is not None:
            at = clean(blocked.get("at", "?"))
            text = f"{lane.full_name} blocked forever at {at}"
            mark = SvgMark(-1, "blocked", centre, lane.y, "⊘", clean(short_location(at), 18))
            mark.title = text
            timeline.marks.append(mark)


def _place_defaults(report: Report, timeline: Timeline) -> None:
    """A dashed outline where the default decision would have run its task instead."""
    centres = {m.pos: m.x for m in timeline.marks if m.kind in ("surprise", "violation")}
    by_name = {lane.full_name: lane for lane in reversed(timeline.lanes) if lane.key != DRIVER}
    for deviation in deviations(report):
        lane = by_name.get(deviation.instead_of or "")
        centre = centres.get(deviation.position)
        if lane is None or centre is None:
            continue
        title = f"by default, step {deviation.step} would have continued {deviation.instead_of}"
        ghost = SvgMark(deviation.position, "ghost", centre, lane.y, "", "default", title=title)
        timeline.marks.append(ghost)


def _band(timeline: Timeline, centre: float, label: str) -> Band:
    """The violation band at ``centre``, its label centred unless that would cut it off."""
    half = len(label) * 4.2  # about half the label's width at 13px
    x, width = centre - STEP_SLOT / 2 + 2, STEP_SLOT - 4
    if centre + half > timeline.width - 6:
        return Band(x, width, label, x + width, "end")
    if centre - half < LABEL_WIDTH + 6:
        return Band(x, width, label, x, "start")
    return Band(x, width, label, centre, "middle")


def _title(entry: TraceEntry) -> str:
    """The hover text of a mark (an SVG ``<title>``)."""
    if entry.kind == "step":
        lines = [
            f"step {entry.step} · t={format_time(entry.time)} · {clean(entry.task_name or '?')}"
        ]
        if entry.choice is not None:
            lines.append(f"decision: candidate {entry.choice} of {entry.candidates}")
        if entry.resumed_from or entry.suspended_at:
            lines.append(f"{clean(entry.resumed_from or '?')} → {clean(entry.suspended_at or '?')}")
        if entry.state:
            lines.append(format_state(entry.state))
        return "\n".join(lines)
    if entry.kind == "time":
        return f"virtual time jumps to {format_time(entry.time)}"
    return f"{entry.kind} at t={format_time(entry.time)}: {clean(entry.label or '')}"


# ----------------------------------------------------------------------------- click details


def _details(report: Report, timeline: Timeline) -> dict[str, Any]:
    """The data the page's script shows on click: one record per trace entry."""
    records = [_record(p, e) for p, e in enumerate(report.trace.entries)]
    violation = violation_position(report)
    if violation is not None:
        records[violation]["heading"] = "✘ " + records[violation]["heading"]
        records[violation]["fields"].insert(0, ["failure", failure_line(report)])
    end = {
        "heading": f"✘ {clean(report.failure.title)} (end of run)",
        "fields": [["failure", failure_line(report)], ["after step", str(report.failure.step)]]
        + [
            [clean(b.get("task", "?")), "blocked forever at " + clean(b.get("at", "?"))]
            for b in report.failure.blocked
        ],
    }
    first = violation if violation is not None else -1
    return {"records": records, "end": end, "initial": first, "failure": failure_line(report)}


def _record(position: int, entry: TraceEntry) -> dict[str, Any]:
    """The details of one trace entry, as label/value pairs of plain strings."""
    fields: list[list[str]] = [["virtual time", format_time(entry.time)]]
    if entry.kind == "step":
        heading = f"step {entry.step}: {clean(entry.task_name or '?')}"
        pick = "only runnable task" if entry.choice is None else _pick_text(entry)
        fields += [
            ["decision", pick],
            ["resumed from", clean(entry.resumed_from or "?")],
            ["suspended at", clean(entry.suspended_at or "?")],
        ]
        for key, value in (entry.state or {}).items():
            fields.append([f"state · {clean(key)}", format_value(value)])
    elif entry.kind == "time":
        heading = f"virtual time jumps to {format_time(entry.time)}"
    else:
        heading = f"{entry.kind}: {clean(entry.label or '')}"
        if entry.task_name:
            fields.append(["task", clean(entry.task_name)])
    return {"pos": position, "heading": heading, "fields": fields, "kind": entry.kind}


def _pick_text(entry: TraceEntry) -> str:
    if not entry.choice:
        return f"default (candidate 0 of {entry.candidates})"
    return f"non-default: candidate {entry.choice} of {entry.candidates}"
