"""A failure report in the terminal: header, scenario, schedule and a swimlane table.

Everything in a report that came from the code under test (labels, task names,
messages, state values, file paths) is untrusted text.  It is only ever put on
screen inside :class:`rich.text.Text` objects, never parsed as markup, and
control characters are shown as escapes (:func:`clean`), so ``[bold]`` or an
ANSI escape sequence in a message is printed literally.

The analysis helpers (:func:`scenario`, :func:`deviations`, :func:`lanes`,
:func:`format_state`, ...) are shared with :mod:`fuzzer.render_html`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from fuzzer.report import Report
from fuzzer.trace import TraceEntry

MAX_ROWS = 60
"""Timeline rows shown before steps far from anything interesting are elided."""

_OPERATION_KINDS = ("spawn", "call")

# ----------------------------------------------------------------------------- analysis


def clean(value: object, limit: int | None = None) -> str:
    """``value`` as one printable line: control characters become escapes.

    Newlines show as ``\\n``, ANSI escapes as ``\\x1b``; ``limit`` truncates
    with an ellipsis.
    """
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))
    if limit is not None and len(text) > limit:
        return text[: max(limit - 1, 0)] + "…"
    return text


def short_location(where: str | None) -> str:
    """``targets/limiter.py:313`` as ``limiter.py:313`` (the file name is enough)."""
    if not where:
        return ""
    return where.replace("\\", "/").rpartition("/")[2]


def format_value(value: Any) -> str:
    """A state value, compactly: lists as ``[a, b]``, strings without quotes."""
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{format_value(k)}: {format_value(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, float):
        return f"{value:g}"
    return clean(value)


def format_state(state: dict[str, Any] | None) -> str:
    """``tokens=0 queue=[#0:1]``: the target's state on one line."""
    if not state:
        return ""
    return " ".join(f"{clean(k)}={format_value(v)}" for k, v in state.items())


def changed_keys(state: dict[str, Any] | None, previous: dict[str, Any] | None) -> set[str]:
    """Keys of ``state`` whose value differs from ``previous`` (none for the first state)."""
    if not state or previous is None:
        return set()
    return {k for k, v in state.items() if k not in previous or previous[k] != v}


def plural(count: int, noun: str) -> str:
    """``1 step``, ``2 steps``."""
    if count == 1:
        return f"1 {noun}"
    return f"{count} {noun[:-1]}ies" if noun.endswith("y") else f"{count} {noun}s"


def format_time(seconds: float) -> str:
    """Virtual time as a short number (``0``, ``1.5``)."""
    return f"{seconds:g}"


@dataclass(frozen=True, slots=True)
class Lane:
    """One task of the run: a column of the table, a lane of the SVG."""

    index: int
    name: str


def lanes(report: Report) -> list[Lane]:
    """The tasks that spawned or ran, in spawn order (the driver only if it ran)."""
    names: dict[int, str] = {}
    for entry in report.trace.entries:
        if entry.kind in ("step", "spawn") and entry.task is not None:
            names.setdefault(entry.task, entry.task_name or f"task {entry.task}")
    return [Lane(index, clean(names[index])) for index in sorted(names)]


def violation_position(report: Report) -> int | None:
    """Index in ``trace.entries`` of the step where the failure happened, if any.

    ``None`` for deadlocks (nothing broke at a step: the run stopped) and when
    the failure step has no row in the trace (e.g. a check after the run).
    """
    if report.failure.kind == "deadlock":
        return None
    found = None
    for position, entry in enumerate(report.trace.entries):
        if entry.kind == "step" and entry.step == report.failure.step:
            found = position
    return found


def is_surprise(entry: TraceEntry) -> bool:
    """A step chosen by a non-default decision (a preemption or out-of-order wake-up)."""
    return entry.kind == "step" and bool(entry.choice)


@dataclass(frozen=True, slots=True)
class Deviation:
    """A step where the schedule left the default order."""

    position: int
    step: int
    task: str
    choice: int
    candidates: int
    instead_of: str | None  # the default task, when the trace tells it

    def describe(self) -> str:
        """``step 3: ran refill_loop instead of starter (preemption; choice 1 of 2)``."""
        odds = f"choice {self.choice} of {self.candidates}"
        if self.instead_of is not None:
            return f"step {self.step}: ran {self.task} instead of {self.instead_of} (preemption; {odds})"
        return f"step {self.step}: ran {self.task} out of order ({odds}; the default is choice 0)"


def default_task(entries: Sequence[TraceEntry], position: int) -> str | None:
    """The task the default decision would have continued with before ``entries[position]``.

    The default keeps running the task that ran last (or, after the driver made
    a call, the driver) while it is still runnable.  The trace does not list the
    candidates, so this is the previous step's task if it did not exit there;
    ``None`` when there is no such task (the deviation was then an
    out-of-order wake-up among waiting tasks).
    """
    chosen = entries[position].task
    for entry in reversed(entries[:position]):
        if entry.kind == "call":
            return None if entry.task == chosen else clean(entry.task_name or "driver")
        if entry.kind == "step":
            if entry.suspended_at == "exited" or entry.task == chosen:
                return None
            return clean(entry.task_name or f"task {entry.task}")
    return None


def deviations(report: Report) -> list[Deviation]:
    """Every step taken by a non-default decision, in order."""
    entries = report.trace.entries
    return [
        Deviation(
            position=position,
            step=entry.step,
            task=clean(entry.task_name or f"task {entry.task}"),
            choice=entry.choice or 0,
            candidates=entry.candidates,
            instead_of=default_task(entries, position),
        )
        for position, entry in enumerate(entries)
        if is_surprise(entry)
    ]


def schedule_summary(report: Report) -> tuple[str, list[str]]:
    """A headline (``default order everywhere [except:]``) and one line per deviation."""
    found = [d.describe() for d in deviations(report)]
    hidden = report.surprises - len(found)
    if hidden > 0:
        found.append(f"{hidden} more non-default decision(s) outside the recorded trace")
    if not found:
        return "default order everywhere", []
    return "default order everywhere except:", found


@dataclass(frozen=True, slots=True)
class ScenarioLine:
    """One line of the scenario: an operation, a time jump, or a run of steps."""

    kind: str  # spawn | call | time | note | steps
    time: float
    text: str
    failed: bool = False


def scenario(report: Report) -> list[ScenarioLine]:
    """The operations in order, interleaved with time jumps and runs of steps."""
    lines: list[ScenarioLine] = []
    run: list[TraceEntry] = []
    violation = violation_position(report)
    failing_step = None if violation is None else report.trace.entries[violation].step

    def flush() -> None:
        if run:
            lines.append(_steps_line(run, failing_step))
            run.clear()

    for entry in report.trace.entries:
        if entry.kind == "step":
            run.append(entry)
            continue
        flush()
        text = clean(entry.label or entry.kind)
        if entry.kind == "time":
            text = f"time jumps to {format_time(entry.time)}"
        lines.append(ScenarioLine(entry.kind, entry.time, text))
    flush()
    if not report.trace.entries and report.operations:
        lines = [ScenarioLine("call", 0.0, clean(op)) for op in report.operations]
    return lines


def _steps_line(run: Sequence[TraceEntry], failing_step: int | None) -> ScenarioLine:
    first, last = run[0].step, run[-1].step
    span = f"step {first}" if first == last else f"steps {first}-{last}"
    failed = failing_step is not None and first <= failing_step <= last
    return ScenarioLine("steps", run[0].time, span, failed)


def failure_line(report: Report) -> str:
    """``I2 bounds: tokens = -1, ...`` on one line (the title once, not twice)."""
    failure = report.failure
    message = clean(failure.message, 300)
    title = clean(failure.title)
    return message if message.startswith(title) else f"{title}: {message}"


def found_after(report: Report) -> str:
    """``16 examples, 0.24 s`` (or ``unknown``)."""
    parts = []
    if report.examples_to_failure is not None:
        parts.append(f"{report.examples_to_failure} examples")
    if report.seconds_to_failure is not None:
        parts.append(f"{report.seconds_to_failure:.2f} s")
    return ", ".join(parts) or "unknown"


def format_parameters(parameters: dict[str, Any]) -> str:
    """``bugs=B04`` style, or ``none``."""
    if not parameters:
        return "none"
    return " ".join(f"{clean(k)}={format_value(v)}" for k, v in parameters.items())


def where_it_broke(report: Report) -> str:
    """``step 5 in refill_loop, raised at targets/limiter_oracle.py:181``."""
    failure = report.failure
    text = f"step {failure.step}"
    if failure.task:
        text += f" in {clean(failure.task)}"
    if failure.location:
        text += f", raised at {clean(failure.location)}"
    return text


# ----------------------------------------------------------------------------- rendering


def render_text(report: Report, console: Console) -> None:
    """Print ``report`` on ``console``: header, scenario, schedule, timeline."""
    console.print(_header(report))
    console.print(_scenario(report))
    console.print(_schedule(report))
    console.print(_timeline(report, console.width))
    if report.failure.blocked:
        console.print(_blocked(report))


def render_text_to_str(report: Report, width: int = 120) -> str:
    """The terminal rendering as plain text (no colours), for tests and logs."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False)
    render_text(report, console)
    return buffer.getvalue()


def _header(report: Report) -> Panel:
    """The failure in red, then the facts: target, parameters, where, how found."""
    message = Text(failure_line(report), style="bold red")
    title = Text.assemble(("✘ ", "bold red"), (clean(report.failure.title), "bold red"))
    title.append(f"  ({report.failure.kind})", style="red")
    body = Group(message, Text(), _facts(report))
    return Panel(body, title=title, title_align="left", border_style="red")


def _facts(report: Report) -> Table:
    """The header's two-column grid of facts."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    grid.add_row("target", Text(clean(report.target), style="bold"))
    grid.add_row("parameters", Text(format_parameters(report.parameters)))
    grid.add_row("broke at", Text(where_it_broke(report)))
    grid.add_row("found after", Text(found_after(report)))
    seed = "?" if report.seed is None else clean(report.seed)
    how = f"seed {seed}, strategy {clean(report.strategy or '?')}"
    if report.policy:
        how += f", policy {clean(report.policy)}"
    grid.add_row("search", Text(how))
    decisions = f"{plural(len(report.decisions), 'scheduling decision')}, "
    decisions += f"{report.surprises} non-default"
    grid.add_row("schedule", Text(decisions))
    return grid


def _section(title: str, note: str = "") -> Text:
    heading = Text(title, style="bold underline")
    if note:
        heading.append("  " + note, style="dim")
    return heading


def _scenario(report: Report) -> Group:
    """The minimal scenario: operations in order, with time jumps and steps."""
    lines = scenario(report)
    ops = sum(1 for line in lines if line.kind in _OPERATION_KINDS)
    body = [_section("Scenario", plural(ops, "operation"))]
    for line in lines:
        body.append(_scenario_line(line))
    return Group(Text(), *body)


_SCENARIO_STYLE = {"spawn": "", "call": "", "time": "cyan", "note": "dim italic", "steps": "dim"}


def _scenario_line(line: ScenarioLine) -> Text:
    text = Text()
    text.append(f"  t={format_time(line.time):<5} ", style="dim")
    marker = {"spawn": "+ ", "call": "▸ ", "time": "╌ ", "note": "✎ "}.get(line.kind, "  ")
    text.append(marker + line.text, style=_SCENARIO_STYLE.get(line.kind, ""))
    if line.failed:
        text.append("  ✘ failure here", style="bold red")
    return text


def _schedule(report: Report) -> Group:
    """The schedule as deviations from the default order."""
    headline, lines = schedule_summary(report)
    body = [_section("Schedule"), Text("  " + headline)]
    body.extend(Text("  • " + line, style="magenta") for line in lines)
    return Group(Text(), *body)


def _blocked(report: Report) -> Group:
    """For deadlocks: every blocked task and where it waits."""
    body = [_section("Blocked forever")]
    for item in report.failure.blocked:
        task, at = clean(item.get("task", "?")), clean(item.get("at", "?"))
        body.append(Text(f"  ⊘ {task} waits at {at}", style="red"))
    return Group(Text(), *body)


# ----------------------------------------------------------------------------- the timeline


def visible_positions(report: Report, limit: int = MAX_ROWS) -> list[int | tuple[int, int]]:
    """Positions of trace entries to show; ``(first, last)`` for an elided run of steps.

    Everything is shown up to ``limit`` rows.  Beyond that, operations, time
    jumps, the first and last few steps, the failure's neighbourhood and every
    non-default decision's neighbourhood are kept; other steps are elided.
    """
    entries = report.trace.entries
    if len(entries) <= limit:
        return list(range(len(entries)))
    keep = _interesting(report)
    shown: list[int | tuple[int, int]] = []
    gap: list[int] = []
    for position in range(len(entries)):
        if position in keep:
            shown.extend(_close_gap(gap))
            gap = []
            shown.append(position)
        else:
            gap.append(position)
    shown.extend(_close_gap(gap))
    return shown


def _interesting(report: Report) -> set[int]:
    entries = report.trace.entries
    others = {p for p, e in enumerate(entries) if e.kind != "step"}
    keep = others if len(others) <= MAX_ROWS // 2 else set()
    keep.update(range(4))
    keep.update(range(len(entries) - 4, len(entries)))
    violation = violation_position(report)
    if violation is not None:
        keep.update(range(violation - 8, violation + 3))
    for deviation in deviations(report):
        keep.update(range(deviation.position - 2, deviation.position + 3))
    return keep


def _close_gap(gap: list[int]) -> list[int | tuple[int, int]]:
    if len(gap) <= 1:
        return list(gap)
    return [(gap[0], gap[-1])]


def lane_cell(entry: TraceEntry, lane: Lane) -> str | None:
    """What ``entry`` puts in ``lane``: ``▶ limiter.py:313``, ``✔ exited``, or ``None``."""
    if entry.task != lane.index or entry.kind != "step":
        return None
    if entry.suspended_at == "exited":
        return "✔ exited"
    return "▶ " + clean(short_location(entry.suspended_at) or "ran")


_GUTTER = 2
_MIN_STATE = 24
_LEGEND = (
    "▶ ran one step, then waited at   ✔ exited   │ alive   "
    "» non-default decision   pick k/n: ran candidate k of n (0 = default order)"
)
_LEGEND_BELOW = "   ↳ state after the step, when it changed"


@dataclass(slots=True)
class _Columns:
    """Cell widths of the timeline, in terminal cells."""

    time: int
    step: int
    pick: int
    lanes: list[int]
    width: int
    state_below: bool = False  # too narrow for a state column: state goes under its step

    @property
    def lane_start(self) -> int:
        return _GUTTER + self.time + self.step + self.pick

    @property
    def state_start(self) -> int:
        return self.lane_start + sum(self.lanes)

    @property
    def state(self) -> int:
        if self.state_below:
            return max(self.width - self.lane_start - 2, 12)
        return max(self.width - self.state_start, 12)


def _columns(report: Report, task_lanes: list[Lane], width: int) -> _Columns:
    """Widths that fit the content.

    When the console is too narrow for the lanes and a state column, the state
    moves under its step; lanes shrink only if they do not fit on their own.
    """
    entries = report.trace.entries
    times = [len(format_time(e.time)) for e in entries] or [1]
    steps = [len(str(e.step)) for e in entries] or [1]
    time_w, step_w, pick_w = max(*times, 1) + 2, max(*steps, 4) + 2, 6
    natural = []
    for lane in task_lanes:
        cells = [cell_len(c) for e in entries if (c := lane_cell(e, lane)) is not None]
        natural.append(min(max(cell_len(lane.name), *cells, 8) + 3, 26))
    room = width - (_GUTTER + time_w + step_w + pick_w)
    if not task_lanes or sum(natural) <= room - _MIN_STATE:
        return _Columns(time_w, step_w, pick_w, natural, width)
    if sum(natural) > room:
        share = max(room // len(task_lanes), 8)
        natural = [min(n, share) for n in natural]
    return _Columns(time_w, step_w, pick_w, natural, width, state_below=True)


def _cell(text: str | Text, width: int, style: str = "", justify: str = "left") -> Text:
    """``text`` padded or cut (with an ellipsis) to exactly ``width`` cells."""
    cell = text.copy() if isinstance(text, Text) else Text(text, style=style)
    room = max(width - 1, 0)
    cell.truncate(room, overflow="ellipsis")
    pad = room - cell.cell_len
    if justify == "right":
        cell = Text(" " * pad) + cell
    else:
        cell.append(" " * pad)
    cell.append(" ")
    return cell


class _Timeline:
    """The swimlane timeline as lines of styled text: one row per trace entry.

    Steps show in their task's lane; operations, time jumps and the failure's
    explanation are banners across the lanes.
    """

    def __init__(self, report: Report, width: int) -> None:
        self.report = report
        self.lanes = lanes(report)
        self.cols = _columns(report, self.lanes, width)
        self.violation = violation_position(report)
        self.alive: set[int] = set()
        self.state: dict[str, Any] | None = None
        self.lines: list[Text] = []

    def render(self) -> list[Text]:
        """Every line of the timeline, the header first."""
        self._header()
        for item in visible_positions(self.report):
            if isinstance(item, tuple):
                self._elided(*item)
            else:
                self._entry(item)
        if self.violation is None:
            self._end_of_run()
        legend = _LEGEND + (_LEGEND_BELOW if self.cols.state_below else "")
        self.lines.append(Text(legend, style="dim"))
        return self.lines

    # -- rows ---------------------------------------------------------------

    def _header(self) -> None:
        cols = self.cols
        line = Text(" " * _GUTTER)
        line.append_text(_cell("t", cols.time, "bold", "right"))
        line.append_text(_cell("step", cols.step, "bold", "right"))
        line.append_text(_cell("pick", cols.pick, "bold"))
        for lane, width in zip(self.lanes, cols.lanes, strict=True):
            line.append_text(_cell(lane.name, width, "bold"))
        line.append("" if cols.state_below else "state", style="bold")
        self.lines.append(line)
        self.lines.append(Text("─" * min(cols.width, cols.state_start + 40), style="dim"))

    def _entry(self, position: int) -> None:
        entry = self.report.trace.entries[position]
        if entry.kind == "step":
            self._step(entry, violating=position == self.violation)
        else:
            self._banner(entry.time, _banner_text(entry))
        self._track(entry)
        if position == self.violation:
            self._explain()

    def _step(self, entry: TraceEntry, violating: bool) -> None:
        cols = self.cols
        base = "bold red" if violating else ""
        gutter = "✘ " if violating else ("» " if is_surprise(entry) else "  ")
        line = Text()
        line.append(gutter, style="bold red" if violating else "bold magenta")
        line.append_text(_cell(format_time(entry.time), cols.time, base or "dim", "right"))
        line.append_text(_cell(str(entry.step), cols.step, base, "right"))
        line.append_text(_cell(_pick(entry), cols.pick, _pick_style(entry)))
        for lane, width in zip(self.lanes, cols.lanes, strict=True):
            line.append_text(self._lane(entry, lane, width, base))
        state_lines = self._state_lines(entry)
        if cols.state_below:
            self.lines.append(line)
            if state_lines[0].plain not in ("", "(same)"):
                self.lines.extend(self._below(more, n == 0) for n, more in enumerate(state_lines))
            return
        line.append_text(state_lines[0])
        self.lines.append(line)
        for more in state_lines[1:]:
            self.lines.append(self._continuation(more))

    def _lane(self, entry: TraceEntry, lane: Lane, width: int, base: str) -> Text:
        content = lane_cell(entry, lane)
        if content is None:
            return _cell("│" if lane.index in self.alive else "", width, "dim")
        if content.startswith("✔"):
            return _cell(content, width, base or "green")
        return _cell(content, width, base or ("bold magenta" if is_surprise(entry) else "bold"))

    def _below(self, state: Text, first: bool) -> Text:
        """A line of state under its step (narrow consoles)."""
        line = Text(" " * self.cols.lane_start)
        line.append("↳ " if first else "  ", style="dim")
        line.append_text(state)
        return line

    def _continuation(self, state: Text) -> Text:
        line = Text(" " * self.cols.lane_start)
        for lane, width in zip(self.lanes, self.cols.lanes, strict=True):
            line.append_text(_cell("│" if lane.index in self.alive else "", width, "dim"))
        line.append_text(state)
        return line

    def _banner(self, time: float | None, text: Text) -> None:
        cols = self.cols
        line = Text(" " * _GUTTER)
        line.append_text(
            _cell("" if time is None else format_time(time), cols.time, "dim", "right")
        )
        line.append(" " * (cols.step + cols.pick))
        room = max(cols.width - cols.lane_start, 20)
        text.truncate(room, overflow="ellipsis")
        line.append_text(text)
        self.lines.append(line)

    def _elided(self, first: int, last: int) -> None:
        skipped = self.report.trace.entries[first : last + 1]
        for entry in skipped:
            self._track(entry)
            if entry.kind == "step" and entry.state is not None:
                self.state = entry.state
        steps = sum(1 for e in skipped if e.kind == "step")
        what = plural(steps, "step") if steps == len(skipped) else plural(len(skipped), "entry")
        span = f"steps {skipped[0].step}-{skipped[-1].step}"
        self._banner(None, Text(f"… {what} elided ({span}) …", style="dim italic"))

    def _explain(self) -> None:
        self._banner(None, Text("✘ " + failure_line(self.report), style="bold red"))

    def _end_of_run(self) -> None:
        """The failure did not happen at a recorded step: say where the run ended."""
        failure = self.report.failure
        waiting = {clean(b.get("task", "")): clean(b.get("at", "")) for b in failure.blocked}
        cols = self.cols
        line = Text()
        line.append("✘ ", style="bold red")
        line.append(" " * (cols.time + cols.step + cols.pick))
        for lane, width in zip(self.lanes, cols.lanes, strict=True):
            at = waiting.get(lane.name)
            text = f"⊘ {short_location(at)}" if at is not None else ""
            line.append_text(_cell(text, width, "bold red"))
        line.append("blocked forever" if waiting else "end of run", style="red")
        self.lines.append(line)
        self._explain()

    # -- bookkeeping --------------------------------------------------------

    def _track(self, entry: TraceEntry) -> None:
        if entry.task is None or entry.kind not in ("step", "spawn"):
            return
        if entry.kind == "step" and entry.suspended_at == "exited":
            self.alive.discard(entry.task)
        else:
            self.alive.add(entry.task)

    def _state_lines(self, entry: TraceEntry) -> list[Text]:
        """The state after ``entry``, changed values highlighted, wrapped to the column."""
        width = self.cols.state
        if entry.state is None:
            return [Text("")]
        if self.state is not None and entry.state == self.state:
            return [Text("(same)", style="dim")]
        changed = changed_keys(entry.state, self.state)
        self.state = entry.state
        lines: list[Text] = [Text()]
        for key, value in entry.state.items():
            pair = Text(
                f"{clean(key)}={format_value(value)}", style="yellow" if key in changed else ""
            )
            pair.truncate(width - 1, overflow="ellipsis")
            current = lines[-1]
            if current.cell_len and current.cell_len + 1 + pair.cell_len > width - 1:
                lines.append(Text())
                current = lines[-1]
            if current.cell_len:
                current.append(" ")
            current.append_text(pair)
        return lines


def _pick(entry: TraceEntry) -> str:
    return "" if entry.choice is None else f"{entry.choice}/{entry.candidates}"


def _pick_style(entry: TraceEntry) -> str:
    return "bold magenta" if entry.choice else "dim"


def _banner_text(entry: TraceEntry) -> Text:
    """The banner for an operation, a time jump or a note."""
    label = clean(entry.label or entry.kind)
    if entry.kind == "spawn":
        text = Text("+ spawn ", style="green")
        text.append(clean(entry.task_name or "?"), style="bold green")
        text.append(": " + label)
        return text
    if entry.kind == "call":
        return Text.assemble(("▸ call ", "blue"), (label, ""))
    if entry.kind == "time":
        return Text(f"╌╌ time jumps to {format_time(entry.time)} ╌╌", style="cyan")
    return Text("✎ " + label, style="dim italic")


def _timeline(report: Report, width: int) -> Group:
    """The swimlane timeline section."""
    note = f"{len(report.trace.entries)} trace entries"
    return Group(Text(), _section("Timeline", note), *_Timeline(report, width).render())
