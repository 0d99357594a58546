"""The Metrics tab: a table of per step rows read / written, duration, cached frame memory and state,
plus totals; sparklines of the rows each step returned and of its memory; and the run's timeline
(a Gantt chart of the steps).

Each step's rows are those of its latest execution (a re-run replaces them). The totals row counts
the rows read into the pipeline and written out of it, not the sum of every step's counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Sparkline, Static

from osiris_tui.runtime import timeline
from osiris_tui.runtime.records import StepState
from osiris_tui.tui import format as fmt
from osiris_tui.tui.widgets.timeline import Timeline, TimelineRow

COLUMNS = [("step", "Step"), ("state", "State"), ("read", "Rows read"), ("written", "Rows written"),
           ("duration", "Duration"), ("memory", "Memory")]
TOTAL_KEY = "__total__"
TOTAL_LABEL = "Total in / out"  # rows read by the sources, written by the sinks (see `rows_for`)

STATE_STYLES = {"done": "green", "failed": "bold red", "running": "yellow", "paused": "cyan",
                "pending": "dim", "skipped": "dim italic"}


def human_bytes(n: int | None) -> str:
    return fmt.nbytes(n) or "—"


def human_duration(seconds: float | None) -> str:
    return fmt.duration(seconds) or "—"


def _count(n: int | None) -> str:
    return "—" if n is None else f"{n:,}"


@dataclass
class RowCounts:
    """Sums of `rows_read` / `rows_written` metrics by step, for each step's latest execution, read
    incrementally from the session's list.

    A re-run logs its metrics after the earlier execution's, in the same list; a step's execution ends
    with its `step_<id>_duration` metric. `execution[step]` counts those endings, and `_of[step]` says
    which execution the sums are from, so a re-run's rows replace the earlier ones instead of adding up.
    """

    read: dict[str, int] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)
    execution: dict[str, int] = field(default_factory=dict)  # executions ended, by step
    _of: dict[str, int] = field(default_factory=dict)  # the execution the sums are from, by step
    _source: Any = None
    _seen: int = 0

    def update(self, metrics: list[dict[str, Any]]) -> None:
        if metrics is not self._source or len(metrics) < self._seen:  # a new run: start over
            self.read.clear()
            self.written.clear()
            self.execution.clear()
            self._of.clear()
            self._source, self._seen = metrics, 0
        for m in metrics[self._seen:]:
            name = m.get("metric")
            step = m.get("step_id")
            if step is None and isinstance(m.get("tags"), dict):
                step = m["tags"].get("step")
            if step is None:
                continue
            step = str(step)
            if name == f"step_{step}_duration":
                self.execution[step] = self.execution.get(step, 0) + 1
                continue
            if name not in ("rows_read", "rows_written"):
                continue
            try:
                value = int(m.get("value") or 0)
            except (TypeError, ValueError):
                continue
            current = self.execution.get(step, 0)
            if self._of.get(step) != current:  # the first rows of a new execution
                self.read.pop(step, None)
                self.written.pop(step, None)
                self._of[step] = current
            target = self.read if name == "rows_read" else self.written
            target[step] = target.get(step, 0) + value
        self._seen = len(metrics)

    def of_step(self, step: str, state: str) -> tuple[int | None, int | None]:
        """(read, written) of `step` as it stands in `state`: its finished execution's counts when done,
        the counts so far of the one running or failed, nothing for a step not run since it was reset."""
        of = self._of.get(step)
        if of is None:
            return None, None
        current = self.execution.get(step, 0)
        if state == "done":
            fresh = of >= current - 1  # the execution that just ended (or, without endings, the only one)
        elif state in ("running", "failed"):
            fresh = of == current  # rows logged since the last ending
        else:  # pending, paused before it, skipped: not run since a re-run upstream reset it
            fresh = False
        return (self.read.get(step), self.written.get(step)) if fresh else (None, None)


class MetricsTable(DataTable):
    """A table of per-step metrics; `refresh_metrics()` re-reads the session, `show_step` highlights."""

    DEFAULT_CSS = """
    MetricsTable {
        height: auto;
        max-height: 45%;
    }
    """

    def __init__(self, session: Any, **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self.session = session
        self._ready = False
        self.counts = RowCounts()
        self.step_id: str | None = None
        self._step_ids: list[str] = []

    def on_mount(self) -> None:
        self._ready = True
        for key, label in COLUMNS:
            self.add_column(label, key=key)
        self.refresh_metrics()

    def show_step(self, step_id: str | None) -> None:
        self.step_id = step_id
        if not self._ready:
            return
        self.refresh_metrics()

    def _highlight(self) -> None:
        if self.step_id in self._step_ids:
            row = self._step_ids.index(self.step_id)
            if self.cursor_row != row:
                self.move_cursor(row=row, animate=False)

    def rows_for(self) -> list[tuple[str, list[Text]]]:
        """(row key, cells) for every step and the totals row.

        The totals count rows into and out of the pipeline: rows read by the steps that need no other
        step (the sources), rows written by the steps no other step needs (the sinks). Summing every
        step would count the same rows again at each step they pass through (a DuckDB step "writes"
        the 24 rows that the CSV writer after it writes again).
        """
        session = self.session
        self.counts.update(list(session.metrics))
        steps = list(getattr(session.pipeline, "steps", []))
        needed = {u for step in steps for u in step.upstream}
        sources = {step.id for step in steps if not step.upstream}
        sinks = {step.id for step in steps if step.id not in needed}
        rows: list[tuple[str, list[Text]]] = []
        total_read = total_written = total_mem = 0
        total_dur = 0.0
        any_dur = False
        statuses = session.statuses()
        for status in statuses:
            sid = status.step_id
            state = str(status.state)
            read, written = self.counts.of_step(sid, state)
            try:
                nbytes = session.output_nbytes(sid)
            except Exception:
                nbytes = None
            if sid in sources or not steps:
                total_read += read or 0
            if sid in sinks or not steps:
                total_written += written or 0
            total_mem += nbytes or 0
            if status.duration is not None:
                total_dur += status.duration
                any_dur = True
            rows.append((sid, [
                Text(sid, style="bold"),
                Text(state, style=STATE_STYLES.get(state, "")),
                Text(_count(read), justify="right"),
                Text(_count(written), justify="right"),
                Text(human_duration(status.duration), justify="right"),
                Text(human_bytes(nbytes), justify="right"),
            ]))
        done = sum(1 for s in statuses if str(s.state) == "done")
        rows.append((TOTAL_KEY, [
            Text(TOTAL_LABEL, style="bold"),
            Text(f"{done}/{len(rows)} done", style="bold"),
            Text(f"{total_read:,}", style="bold", justify="right"),
            Text(f"{total_written:,}", style="bold", justify="right"),
            Text(human_duration(total_dur if any_dur else None), style="bold", justify="right"),
            Text(human_bytes(total_mem), style="bold", justify="right"),
        ]))
        return rows

    def reset(self) -> None:
        """A new run (restart): drop the sums and the rows, read the session again."""
        self.counts = RowCounts()
        self._step_ids = []
        if self._ready:
            self.clear()
            self.refresh_metrics()

    def refresh_metrics(self) -> None:
        """Re-read metrics and statuses from the session (cheap: metrics are summed incrementally)."""
        if not self._ready:
            return
        rows = self.rows_for()
        ids = [key for key, _ in rows[:-1]]
        if ids != self._step_ids or self.row_count != len(rows):
            cursor = self.cursor_row
            self.clear()
            for key, cells in rows:
                self.add_row(*cells, key=key)
            self._step_ids = ids
            if 0 <= cursor < self.row_count:
                self.move_cursor(row=cursor, animate=False)
        else:
            for key, cells in rows:
                for (col, _), cell in zip(COLUMNS, cells, strict=True):
                    self.update_cell(key, col, cell)
        self._highlight()


class MetricsView(Vertical):
    """The Metrics tab: the table, the sparklines and the timeline, read from the session.

    `refresh_metrics()` re-reads it (the app calls it when metrics arrive); while a step runs, a timer
    redraws the timeline so that its bar grows.
    """

    DEFAULT_CSS = """
    MetricsView {
        height: 1fr;
    }
    MetricsView > #metrics-sparklines {
        height: 1;
        margin: 1 1 0 1;
    }
    MetricsView .sparkline-label {
        width: auto;
        color: $text-muted;
        padding-right: 1;
    }
    MetricsView Sparkline {
        width: 1fr;
        height: 1;
        margin-right: 2;
    }
    MetricsView > #metrics-timeline-title {
        height: 1;
        margin: 1 1 0 1;
        text-style: bold;
    }
    MetricsView > #metrics-timeline-scroll {
        height: 1fr;
    }
    """

    TICK_SECONDS = 0.25

    def __init__(self, session: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.table = MetricsTable(session, id="metrics-table")
        self.timeline = Timeline(id="metrics-timeline")
        self.starts = timeline.StepStarts()
        self.rows_sparkline = Sparkline([], id="metrics-rows-sparkline")
        self.memory_sparkline = Sparkline([], id="metrics-memory-sparkline")
        self.step_id: str | None = None

    def compose(self) -> ComposeResult:
        yield self.table
        with Horizontal(id="metrics-sparklines"):
            yield Static("rows per step", classes="sparkline-label")
            yield self.rows_sparkline
            yield Static("memory per step", classes="sparkline-label")
            yield self.memory_sparkline
        yield Static("Timeline", id="metrics-timeline-title")
        with VerticalScroll(id="metrics-timeline-scroll"):
            yield self.timeline

    def on_mount(self) -> None:
        self.set_interval(self.TICK_SECONDS, self._tick, name="osiris-timeline")
        self._refresh_pictures()

    # the table's API, for the app and the tests
    @property
    def counts(self) -> RowCounts:
        return self.table.counts

    @property
    def row_count(self) -> int:
        return self.table.row_count

    @property
    def cursor_row(self) -> int:
        return self.table.cursor_row

    def get_cell(self, row_key: Any, column_key: Any) -> Any:
        return self.table.get_cell(row_key, column_key)

    def rows_for(self) -> list[tuple[str, list[Text]]]:
        return self.table.rows_for()

    def focus(self, scroll_visible: bool = True) -> MetricsView:
        self.table.focus(scroll_visible)
        return self

    def show_step(self, step_id: str | None) -> None:
        self.step_id = step_id
        self.table.show_step(step_id)
        self._refresh_pictures()

    def reset(self) -> None:
        self.starts = timeline.StepStarts()
        self.table.reset()
        self._refresh_pictures()

    def refresh_metrics(self) -> None:
        self.table.refresh_metrics()
        self._refresh_pictures()

    def _tick(self) -> None:
        if self.display and self.session.running_step_id() is not None:
            self._refresh_pictures()

    def timeline_rows(self) -> list[TimelineRow]:
        """Each step's span (when it ran or runs), rows in and out, and cached memory."""
        session = self.session
        statuses = session.statuses()
        self.starts.update(session.events)
        spans = {s.step_id: s for s in timeline.spans(self.starts, statuses)}
        rows = []
        for status in statuses:
            read, written = self.table.counts.of_step(status.step_id, str(status.state))
            try:
                memory = session.output_nbytes(status.step_id) if status.state is StepState.DONE else None
            except Exception:
                memory = None
            rows.append(TimelineRow(status.step_id, spans.get(status.step_id), read, written, memory))
        return rows

    def _refresh_pictures(self) -> None:
        if not self.is_mounted:
            return
        rows = self.timeline_rows()
        self.timeline.show(rows, self.step_id)
        self.rows_sparkline.data = [float(s.rows or 0) for s in self.session.statuses()]
        self.memory_sparkline.data = [float(r.memory or 0) for r in rows]
