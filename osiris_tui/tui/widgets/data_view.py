"""DataView: the Data tab, a data explorer over the selected step's frames (never rendered whole).

Top to bottom: which frame is shown ("output of revenue · 24 rows", "input df_orders of revenue ·
200,000 rows"), its shape and the columns with their dtypes; the search bar (`/`) and the filter bar
(`w`) when open; the filter banner ("1,234 of 5,000,000 rows match · where amount > 100"); the table; and
the status line ("row 37 of 5,000 · col amount (3/7)", the search's "match 3 of 120", what runs).

Frames come as Arrow from the session (`DebugSession.output_table`, `input_tables`), produced once per
frame in the background: opening one converts nothing. It is shown through a `frames.view.FrameView`
(the frame, maybe filtered and sorted, in display order) by a lazy backend (`data/table.py`) that fetches
a page of rows at a time as they come on screen. Column widths are measured on a sample in a thread
worker; so is everything that reads the whole frame — sort (`s`, a header click), filter, search,
frequency (`F`), Describe (`d`) and export (`ctrl+e`) — each behind a progress line, and `Esc` abandons
the one that runs, so a key is answered at once whatever the frame's size. The last few frames opened
are kept, with their widths and their Describe summary, so going back to a step is instant.

`i` cycles through a step's frames: its output (once it has run) and each of its cached inputs.
`!` pins the cursor's column on the left as a key column, `_` widens a column to its content (again:
back to its capped width). Enter on a cell opens the row view (`screens/row_view.py`); Enter on a
value of the frequency table filters the frame to it.

Every cell reads as `osiris_tui.frames.format` writes it: floats in their shortest exact form, Decimals
and big ints whole, timestamps with every digit, NULL as a dim `∅` (never the text "None").
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
from rich.console import RenderableType
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static
from textual_fastdatatable.data_table import DataTable

from osiris_tui.frames import format as vf
from osiris_tui.frames.describe import describe
from osiris_tui.frames.export import export
from osiris_tui.frames.frequency import frequency, value_condition
from osiris_tui.frames.search import Matches, search
from osiris_tui.frames.sql import FilterError
from osiris_tui.frames.view import FrameView
from osiris_tui.runtime.session import DebugSession, StepState
from osiris_tui.tui import format as fmt
from osiris_tui.tui.messages import FrameLoaded
from osiris_tui.tui.screens.row_view import RowField, RowViewScreen
from osiris_tui.tui.widgets.data.export_screen import ExportScreen
from osiris_tui.tui.widgets.data.filter_bar import FilterBar
from osiris_tui.tui.widgets.data.frequency_view import COUNT_COLUMNS as FREQUENCY_COUNTS
from osiris_tui.tui.widgets.data.frequency_view import frequency_table
from osiris_tui.tui.widgets.data.search_bar import SearchBar, SearchQuery, parse_search
from osiris_tui.tui.widgets.data.table import (
    CELL_LIMIT,
    MAX_COLUMN_WIDTH,
    WIDE_LIMIT,
    ExactDataTable,
    PresizedArrowBackend,
    ViewBackend,
    date_columns,
    measure_widths,
)
from osiris_tui.tui.widgets.describe import COUNT_COLUMNS, RIGHT_COLUMNS, stats_table
from osiris_tui.tui.widgets.histogram import ColumnHistogram

__all__ = ["CELL_LIMIT", "MAX_COLUMN_WIDTH", "ColumnInfo", "DataView", "ExactDataTable", "FrameRef",
           "FrameSummary"]

COLUMN_LINES = 3  # the dtype line wraps over at most this many lines (#data-columns' max-height)
CACHE_SIZE = 3
Mode = Literal["rows", "describe", "frequency"]
KEY_STYLE = "bold underline"  # a pinned key column's label

@dataclass(frozen=True)
class ColumnInfo:
    name: str
    dtype: str
    nulls: int


@dataclass(frozen=True)
class FrameSummary:
    rows: int
    columns: list[ColumnInfo]
    nbytes: int | None
    origin: str  # "output of revenue", "input of save-revenue (the frame it was given)"

    def shape_text(self, lead: Text | None = None, hint: Text | None = None) -> Text:
        """`5,000 rows x 6 columns · 117 KB · output of x`, or the lead line above `5,000 rows x 6 columns · 117 KB`."""
        text = Text()
        if lead is not None:
            text.append_text(lead)
            text.append("\n")
        text.append(vf.plural(self.rows, "row"), style="bold")
        text.append(" \N{MULTIPLICATION SIGN} ")
        text.append(vf.plural(len(self.columns), "column"), style="bold")
        if self.nbytes is not None:
            text.append(f" · {fmt.nbytes(self.nbytes)}", style="dim")
        if lead is None and self.origin:
            text.append(f" · {self.origin}", style="dim")
        if hint is not None:
            text.append(" · ", style="dim")
            text.append_text(hint)
        return text

    def columns_text(self, width: int | None = None, lines: int = COLUMN_LINES) -> Text:
        """`name dtype [N null]` per column, two spaces apart; a pair never breaks across lines. Within
        `width` cells and `lines` lines, the columns that do not fit end the text as `… +N more`."""
        pairs = [_column_pair(col) for col in self.columns]
        text = Text(no_wrap=True, overflow="ellipsis")
        if width is None or width <= 0:
            for i, pair in enumerate(pairs):
                text.append("  " if i else "")
                text.append_text(pair)
            return text
        line, used, i = 1, 0, 0
        while i < len(pairs):
            pair, last = pairs[i], line == lines
            rest = len(pairs) - i - 1
            gap = 2 if used else 0
            # on the last line, room stays for the `… +N more` that would follow this pair
            reserve = 2 + len(f"… +{rest} more") if last and rest else 0
            if used + gap + pair.cell_len + reserve <= width or (not used and not last):
                text.append("  " if gap else "")
                text.append_text(pair)
                used += gap + pair.cell_len
                i += 1
            elif not last:
                text.append("\n")
                line, used = line + 1, 0
            else:
                text.append(("  " if used else "") + f"… +{len(pairs) - i} more", style="dim")
                break
        return text


def _column_pair(col: ColumnInfo) -> Text:
    pair = Text()
    pair.append(col.name, style="bold")
    pair.append(f" {col.dtype}", style="cyan")
    if col.nulls:
        pair.append(f" {vf.count(col.nulls)} null", style="yellow")
    return pair


class ColumnsLine(Widget):
    """The columns and their dtypes (`FrameSummary.columns_text`), laid out for the widget's width."""

    DEFAULT_CSS = "ColumnsLine { height: auto; }"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.summary: FrameSummary | None = None

    def show(self, summary: FrameSummary) -> None:
        self.summary = summary
        self.refresh(layout=True)

    def text(self, width: int | None = None) -> Text:
        if self.summary is None:
            return Text()
        return self.summary.columns_text(width if width is not None else self.content_size.width)

    def render(self) -> RenderableType:
        return self.text()

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return self.text(width).plain.count("\n") + 1




def summarize(table: pa.Table, origin: str, dtypes: Sequence[str] | None = None) -> FrameSummary:
    """The frame's shape and columns: each one's dtype (the pandas one when given, else Arrow's) and
    null count (Arrow keeps it: nothing is scanned)."""
    columns = [ColumnInfo(name, dtypes[i] if dtypes else str(table.schema.field(i).type),
                          table.column(i).null_count) for i, name in enumerate(table.column_names)]
    return FrameSummary(table.num_rows, columns, table.nbytes, origin)


@dataclass(frozen=True)
class FrameRef:
    """One frame of a step: its output, or one of its inputs (the name its driver sees it under and the
    step that made it)."""

    kind: Literal["output", "input"]
    step_id: str
    table: pa.Table
    name: str = ""
    from_step: str = ""

    @property
    def origin(self) -> str:
        """`output of revenue`, `input df_orders of revenue`."""
        return f"output of {self.step_id}" if self.kind == "output" else f"input {self.name} of {self.step_id}"


def step_frames(session: DebugSession, step_id: str, with_output: bool) -> tuple[list[FrameRef], list[str]]:
    """The step's frames, output first (when `with_output` and it has one), then its cached inputs in
    input order; and the upstream steps whose output is not cached (yet)."""
    frames: list[FrameRef] = []
    if with_output:
        table = session.output_table(step_id)
        if table is not None:
            frames.append(FrameRef("output", step_id, table))
    for name, upstream, table in session.input_tables(step_id):
        frames.append(FrameRef("input", step_id, table, name, upstream))
    have = {f.from_step for f in frames if f.kind == "input"}
    missing = [u for u in session.pipeline.step(step_id).upstream if u not in have]
    return frames, missing


@dataclass
class DataOpDone(Message):
    """A thread worker of the Data view finished (posted from that thread)."""

    token: int
    kind: str  # sort, filter, search, frequency, describe
    result: Any = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Opened:
    """What the view keeps of a frame it opened: its widths and summary, and its Describe table."""

    table: pa.Table
    widths: list[int]
    summary: FrameSummary
    dates: frozenset[int] = frozenset()  # timestamp columns shown as dates
    described: dict[str, pa.Table] = field(default_factory=dict)  # by filter condition ("" none)

    @classmethod
    def of(cls, table: pa.Table, summary: FrameSummary) -> _Opened:
        """Measured (in a worker: it reads samples, and a column of dates whole)."""
        dates = date_columns(table)
        return cls(table, measure_widths(table, dates=dates), summary, dates)


OP_LABELS = {"sort": "sorting", "filter": "filtering", "search": "searching", "frequency": "counting values",
             "describe": "describing"}


class StatusLine(Static):
    """`row 37 of 5,000 · col amount (3/7) · match 3 of 120`, and what runs."""

    DEFAULT_CSS = "StatusLine { height: 1; padding: 0 1; }"


class DataView(Vertical):
    """The Data tab.

    A step that has run shows its output; a step that has not run yet, or failed, what goes into it,
    when its inputs are cached. `i` cycles through the step's frames (its output and each input).
    """

    _tokens = itertools.count(1)

    def __init__(self, session: DebugSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.step_id: str | None = None
        self.message = ""  # the state line, when no table is shown
        self._key: tuple[Any, ...] | None = None  # the frame shown (or being opened)
        self._token = 0  # of the frame being opened
        self._op_token = 0  # of the operation in flight
        self._opened: OrderedDict[int, _Opened] = OrderedDict()  # id(table) → what was measured
        self.mode: Mode = "rows"
        self.frames: list[FrameRef] = []  # the shown step's frames
        self.frame_index = 0
        self._frame_choice: dict[str, tuple[Any, int]] = {}  # step → ((runs, state), the frame shown)
        self.frame: FrameRef | None = None
        self._frame_info: _Opened | None = None
        self.view: FrameView | None = None  # the frame as shown: filtered, sorted
        self.pinned: list[int] = []  # the frame's columns pinned on the left (key columns), in order
        self.wide: set[int] = set()  # the frame's columns widened to their content
        self.matches: Matches | None = None
        self.match_index: int | None = None
        self.search_query: SearchQuery | None = None
        self._search_column: str | None = None
        self.frequency_column: str | None = None
        self._frequency: pa.Table | None = None
        self.running: str | None = None  # the operation in flight (sort, filter, …), Esc abandons it
        self.loading_frame = False
        self.input_header = ""  # the frame line: "not run yet — input df_a of b · 4 rows · from a"
        self._lead: Text | None = None
        self._hint: Text | None = None
        self._summary: FrameSummary | None = None
        self._table: ExactDataTable | None = None
        self._message = Static(id="data-message")
        # built when the first frame is shown (fewer widgets at startup)
        self._parts: tuple[Static, ColumnsLine, SearchBar, FilterBar, Static, Vertical, StatusLine] | None = None

    def compose(self) -> ComposeResult:
        yield self._message

    def _frame_parts(self) -> tuple[Static, ColumnsLine, SearchBar, FilterBar, Static, Vertical, StatusLine]:
        if self._parts is None:
            shape = Static(id="data-shape")
            # one line each (the lead, the shape), cut with … rather than wrapped
            shape.styles.text_wrap = "nowrap"
            shape.styles.text_overflow = "ellipsis"
            search_bar, filter_bar = SearchBar(id="data-search"), FilterBar(id="data-filter")
            search_bar.display = filter_bar.display = False
            banner = Static(id="data-banner")
            banner.display = False
            self._parts = (shape, ColumnsLine(id="data-columns"), search_bar, filter_bar, banner,
                           Vertical(id="data-table-holder"), StatusLine(id="data-status"))
            self.mount(*self._parts)
        return self._parts

    @property
    def table(self) -> ExactDataTable | None:
        return self._table

    @property
    def describing(self) -> bool:
        return self.mode == "describe"

    @property
    def search_bar(self) -> SearchBar:
        return self._frame_parts()[2]

    @property
    def filter_bar(self) -> FilterBar:
        return self._frame_parts()[3]

    @property
    def where(self) -> str:
        return (self.view.where or "") if self.view is not None else ""

    @property
    def sort(self) -> tuple[str, str] | None:
        """(column, "ascending" | "descending") of the sort in force."""
        return self.view.sort if self.view is not None else None

    # -- which frame -----------------------------------------------------------------------------------
    def show_step(self, step_id: str | None) -> None:
        """Show the step's frame: which ones it has is asked of the session in a thread worker (a frame
        still being turned into Arrow is waited for there, never on the UI thread)."""
        self.step_id = step_id
        if step_id is None:
            self._show_message("no step selected")
            return
        try:
            status = self.session.status(step_id)
            upstream = self.session.pipeline.step(step_id).upstream
            inputs_ready = any(self.session.status(u).state is StepState.DONE for u in upstream)
        except KeyError:
            self._show_message("no step selected")
            return
        state = status.state
        if state is StepState.RUNNING:
            self._no_frame(state)
            return
        if state is not StepState.DONE and not inputs_ready:  # nothing cached it could show
            self._no_frame(state)
            return
        chosen = self._frame_choice.get(step_id)  # the frame chosen with `i`, while the step stays as it is
        choice = chosen[1] if chosen is not None and chosen[0] == (status.runs, state) else 0
        key = (step_id, status.runs, str(state), choice)
        if key == self._key:
            return
        self._key = key
        self._token = next(self._tokens)
        self._set_loading(True)
        self._load(self._token, key, step_id, state, choice)

    def _no_frame(self, state: StepState | None) -> None:
        self.input_header = ""
        self.frames = []
        if state in (StepState.PENDING, StepState.PAUSED):
            self._show_message("not run yet — press n to step, t to run to this step")
        elif state is StepState.RUNNING:
            self._show_message("running…")
        elif state is StepState.FAILED:
            self._show_message("failed — see the error below")
        elif state is StepState.SKIPPED:
            self._show_message("skipped — not needed for this run")
        else:
            self._show_message("this step produced no DataFrame")

    def _lead_for(self, frame: FrameRef, state: StepState, index: int, count: int, missing: list[str]) -> Text:
        """`not run yet — input df_orders of revenue · 5,000 rows · from extract-orders · 1/2`."""
        lead = Text(no_wrap=True, overflow="ellipsis")
        if state is StepState.FAILED:
            lead.append("failed", style="bold red")
            lead.append(" — ")
        elif state is not StepState.DONE:
            lead.append("not run yet", style="bold yellow")
            lead.append(" — ")
        lead.append(frame.kind, style="bold")
        if frame.kind == "input":
            lead.append(" ")
            lead.append(frame.name, style="bold")
        lead.append(f" of {frame.step_id} · {vf.plural(frame.table.num_rows, 'row')}")
        if frame.kind == "input":
            lead.append(f" · from {frame.from_step}")
        if count > 1:
            lead.append(f" · {index + 1}/{count}", style="dim")
        if missing:
            lead.append(f" (waiting for {', '.join(missing)})", style="dim")
        return lead

    def show_table(self, table: pa.Table, step_id: str = "frame") -> None:
        """Show `table` as if it were `step_id`'s output (for embedding and tests; measured here)."""
        self.step_id = step_id
        self.frames, self.frame_index = [FrameRef("output", step_id, table)], 0
        self._key = ("table", id(table))
        self._token = next(self._tokens)
        self._set_loading(False)
        frame = self.frames[0]
        self._lead = self._lead_for(frame, StepState.DONE, 0, 1, [])
        self.input_header = self._lead.plain
        self._hint = None
        self._open(frame, _Opened.of(table, summarize(table, frame.origin)))

    def next_input(self) -> bool:
        """Show the step's next frame (False when it has fewer than two)."""
        if self.step_id is None or len(self.frames) < 2:
            return False
        status = self.session.status(self.step_id)
        self._frame_choice[self.step_id] = ((status.runs, status.state), (self.frame_index + 1) % len(self.frames))
        self._key = None
        self.show_step(self.step_id)
        return True

    def forget_frames(self) -> None:
        """Drop what was kept of the frames opened (a restart made them stale)."""
        self._opened.clear()
        self._frame_choice.clear()

    def _open(self, frame: FrameRef, info: _Opened) -> None:
        """Show `frame` from the rows (a frame other than the one shown starts unfiltered, unsorted)."""
        if self.frame is None or self.frame.table is not frame.table:
            self._abandon()
            self.view = FrameView.of(frame.table)
            self.pinned, self.wide = [], set()
            self._clear_search()
            self._frequency, self.frequency_column = None, None
            if self.mode == "frequency":
                self.mode = "rows"
            if self._parts is not None:
                self.filter_bar.input.value = ""
                self.filter_bar.clear_error()
                self.filter_bar.display = self.search_bar.display = False
        self.frame = frame
        self._frame_info = info
        self._refresh_view()

    def _refresh_view(self) -> None:
        """Show the current frame in the current mode (Describe computed in a worker once per frame)."""
        info = self._frame_info
        if info is None or self.view is None:
            return
        if self.mode == "describe":
            described = info.described.get(self.where)
            if described is None:
                self._start("describe", self._describe_worker, self.view, info)
                return
            # every statistic in full: measured uncut, the view scrolls sideways
            widths = measure_widths(described, limit=WIDE_LIMIT, counts=COUNT_COLUMNS)
            self._mount_table(PresizedArrowBackend(described, widths, counts=COUNT_COLUMNS))
            return
        if self.mode == "frequency" and self._frequency is not None:
            self._mount_table(PresizedArrowBackend(self._frequency, counts=FREQUENCY_COUNTS))
            return
        self.mode = "rows"
        self._mount_table(self._rows_backend())

    def _rows_backend(self) -> ViewBackend:
        assert self.view is not None and self._frame_info is not None
        count = self.view.table.num_columns
        order = self.pinned + [i for i in range(count) if i not in self.pinned]
        return ViewBackend(self.view, self._frame_info.widths, order, self._frame_info.dates)

    # -- messages and loading --------------------------------------------------------------------------
    def _show_message(self, text: str) -> None:
        self._key = None
        self.frame = None
        self.view = None
        self._frame_info = None
        self._abandon()
        self._token = next(self._tokens)  # drop any load in flight
        self._set_loading(False)
        self.message = text
        self._message.update(Text(text, style="italic"))
        self._message.display = True
        if self._parts is not None:
            for part in self._parts:
                part.display = False
        self._remove_table()

    def _set_loading(self, on: bool) -> None:
        self.loading_frame = on
        if on or self._parts is not None:
            self._frame_parts()[5].loading = on
        if on:
            self.message = "loading…"
            self._message.display = False

    def _remove_table(self) -> None:
        self.query(ColumnHistogram).remove()
        if self._table is not None:
            self._table.remove()
            self._table = None

    @work(thread=True, exclusive=True, group="osiris-data-view", description="open a frame")
    def _load(self, token: int, key: tuple[Any, ...], step_id: str, state: StepState, choice: int) -> None:
        try:
            frames, missing = step_frames(self.session, step_id, with_output=state is StepState.DONE)
            if not frames:
                self.post_message(FrameLoaded(token, key, None, None, extra={"state": state}))
                return
            index = choice % len(frames)
            frame = frames[index]
            info = self._opened.get(id(frame.table))
            if info is None or info.table is not frame.table:
                info = _Opened.of(frame.table, summarize(frame.table, frame.origin, self._pandas_dtypes(frame)))
        except Exception as exc:  # show it, never crash the app over a frame
            self.post_message(FrameLoaded(token, key, None, None, error=f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(FrameLoaded(token, key, None, info.summary, extra={
            "frames": frames, "index": index, "missing": missing, "state": state, "info": info}))

    def _pandas_dtypes(self, frame: FrameRef) -> list[str] | None:
        """The frame's pandas dtypes, as the step's code sees them (None: not at hand, or not column
        for column). Read in the worker: the session may have to read a spilled frame back."""
        df = self.session.output(frame.step_id if frame.kind == "output" else frame.from_step)
        if not isinstance(df, pd.DataFrame) or not isinstance(df.index, pd.RangeIndex):
            return None
        if [str(c) for c in df.columns] != list(frame.table.column_names):
            return None
        return [str(t) for t in df.dtypes]

    def on_frame_loaded(self, message: FrameLoaded) -> None:
        message.stop()
        if message.token != self._token or message.key != self._key:
            return  # the selection moved on
        self._set_loading(False)
        if message.error is not None:
            self.notify(message.error, severity="error")
            self._show_message(f"cannot show this frame: {message.error}")
            return
        extra = message.extra
        if "frames" not in extra:
            self._no_frame(extra.get("state"))
            return
        self.frames, self.frame_index = extra["frames"], extra["index"]
        frame: FrameRef = self.frames[self.frame_index]
        info: _Opened = extra["info"]
        self._opened[id(frame.table)] = info
        self._opened.move_to_end(id(frame.table))
        while len(self._opened) > CACHE_SIZE:
            self._opened.popitem(last=False)
        self._lead = self._lead_for(frame, extra["state"], self.frame_index, len(self.frames), extra["missing"])
        self.input_header = self._lead.plain
        self._hint = Text.assemble(("i", "bold cyan"), (" next frame", "dim")) if len(self.frames) > 1 else None
        self._open(frame, info)

    # -- operations off the UI thread ------------------------------------------------------------------
    def _start(self, kind: str, worker: Any, *args: Any) -> None:
        """Run `worker(token, *args)` in a thread; its `DataOpDone` is taken only while the token holds."""
        if self.loading_frame:
            return
        self._op_token = next(self._tokens)
        self.running = kind
        self._update_status()
        worker(self._op_token, *args)

    def _abandon(self) -> bool:
        """Drop the operation in flight (its thread finishes on its own; its result is ignored)."""
        if self.running is None:
            return False
        kind = self.running
        self.running = None
        self._op_token = next(self._tokens)
        for worker in self.workers:
            if worker.group == "osiris-data-op":
                worker.cancel()
        self._update_status()
        if kind == "describe" and self.mode == "describe":
            self.mode = "rows"
            self._refresh_view()
        return True

    @work(thread=True, exclusive=True, group="osiris-data-op", description="sort a frame")
    def _sort_worker(self, token: int, view: FrameView, column: str, order: str) -> None:
        try:
            result = view.sorted(column, order)
            result.rows(0, 1)  # the order is computed here, not on the UI thread
        except Exception as exc:
            self.post_message(DataOpDone(token, "sort", error=f"cannot sort by {column}: {exc}"))
            return
        self.post_message(DataOpDone(token, "sort", result))

    @work(thread=True, exclusive=True, group="osiris-data-op", description="filter a frame")
    def _filter_worker(self, token: int, view: FrameView, condition: str) -> None:
        try:
            result = view.filtered(condition) if condition else view.unfiltered()
            result.rows(0, 1)
            result.num_rows  # noqa: B018 — counted here
        except FilterError as exc:
            self.post_message(DataOpDone(token, "filter", error=str(exc.args[0]) if exc.args else str(exc),
                                         extra={"condition": condition, "position": exc.position}))
            return
        except Exception as exc:
            self.post_message(DataOpDone(token, "filter", error=f"{type(exc).__name__}: {exc}",
                                         extra={"condition": condition, "position": None}))
            return
        self.post_message(DataOpDone(token, "filter", result, extra={"condition": condition}))

    @work(thread=True, exclusive=True, group="osiris-data-op", description="search a frame")
    def _search_worker(self, token: int, view: FrameView, query: SearchQuery, column: str | None,
                       backwards: bool) -> None:
        try:
            found = search(view, query.pattern, regex=query.regex, column=column, case_sensitive=False)
        except Exception as exc:
            self.post_message(DataOpDone(token, "search", error=f"cannot search: {exc}"))
            return
        self.post_message(DataOpDone(token, "search", found, extra={"query": query, "column": column,
                                                                      "view": view, "backwards": backwards}))

    @work(thread=True, exclusive=True, group="osiris-data-op", description="count a column's values")
    def _frequency_worker(self, token: int, view: FrameView, column: str) -> None:
        try:
            result = frequency_table(frequency(view, column))
        except Exception as exc:
            self.post_message(DataOpDone(token, "frequency", error=f"cannot count {column}: {exc}"))
            return
        self.post_message(DataOpDone(token, "frequency", result, extra={"column": column}))

    @work(thread=True, exclusive=True, group="osiris-data-op", description="describe a frame")
    def _describe_worker(self, token: int, view: FrameView, info: _Opened) -> None:
        try:
            table = view.table if not view.where else view.materialize()
            dates = {table.column_names[i] for i in info.dates}
            result = stats_table(describe(table, [c.dtype for c in info.summary.columns]), dates)
        except Exception as exc:
            self.post_message(DataOpDone(token, "describe", error=f"cannot describe: {type(exc).__name__}: {exc}"))
            return
        self.post_message(DataOpDone(token, "describe", result, extra={"info": info, "where": view.where or ""}))

    def on_data_op_done(self, message: DataOpDone) -> None:
        message.stop()
        if message.token != self._op_token:
            return  # abandoned, or the frame changed
        self.running = None
        kind = message.kind
        if kind == "filter" and message.error is not None:
            self.filter_bar.display = True
            self.filter_bar.show_error(message.extra["condition"], message.error, message.extra.get("position"))
            self._update_status()
            return
        if message.error is not None:
            self.notify(message.error, severity="warning")
            if kind == "describe":
                self.mode = "rows"
                self._refresh_view()
            self._update_status()
            return
        if kind in ("sort", "filter"):
            self.view = message.result
            self._clear_search()
            if kind == "filter":
                self.filter_bar.clear_error()
                if self.filter_bar.display and self.filter_bar.input.has_focus and self.table is not None:
                    self.filter_bar.display = not bool(self.where) and False
                self._update_banner()
            if self.mode != "describe":
                self.mode = "rows"
            self._refresh_view()
            if self.table is not None:
                self.table.focus()
        elif kind == "search":
            self._found(message.result, message.extra)
        elif kind == "frequency":
            self._frequency = message.result
            self.frequency_column = message.extra["column"]
            self.mode = "frequency"
            self._refresh_view()
            if self.table is not None:
                self.table.focus()
        elif kind == "describe":
            message.extra["info"].described[message.extra["where"]] = message.result
            if self.mode == "describe":
                self._refresh_view()
        self._update_status()

    # -- the table -------------------------------------------------------------------------------------
    def _mount_table(self, backend: ViewBackend | PresizedArrowBackend) -> None:
        summary = self._frame_info.summary if self._frame_info is not None else None
        if summary is None:
            return
        previous = self.table
        had_focus = previous is not None and (previous.has_focus or self.app.focused is None)
        cursor = (previous.cursor_row, previous.cursor_column) if previous is not None else (0, 0)
        self._remove_table()
        self._summary = summary
        self.message = ""
        self._message.display = False
        shape, columns, _search, _filter, _banner, holder, status = self._frame_parts()
        hint = self._hint
        if self.mode != "rows":
            word = "describe" if self.mode == "describe" else f"frequency of {self.frequency_column}"
            back = " rows" if self.mode == "describe" else "Enter filters · Esc back"
            key = "d" if self.mode == "describe" else ""
            hint = Text.assemble((word, "bold magenta"), (" · ", "dim"), (key, "bold cyan"), (back, "dim"))
            if self._hint is not None:
                hint.append(" · ", style="dim")
                hint.append_text(self._hint)
        text = summary.shape_text(self._lead, hint)
        text.no_wrap, text.overflow = True, "ellipsis"
        shape.update(text)
        shape.display = True
        columns.show(summary)
        columns.display = bool(summary.columns) and self.mode == "rows"
        self._update_banner()
        status.display = True
        labels: list[str | Text] = []
        justify: dict[str, vf.Justify] | None = None
        wide: list[int] = []
        fixed = 0
        if isinstance(backend, ViewBackend):
            sort = self.sort
            for display, source in enumerate(backend.order):
                name = backend.columns[display]
                label = Text(str(name), style=KEY_STYLE if source in self.pinned else "")
                if sort is not None and sort[0] == name:
                    label.append(" ▲" if sort[1] == "ascending" else " ▼", style="bold")
                labels.append(label)
                if source in self.wide:
                    wide.append(display)
            fixed = len(self.pinned)
        else:
            labels = [Text(str(name)) for name in backend.columns]
            if self.mode == "describe":
                justify = dict.fromkeys(RIGHT_COLUMNS, "right")
                wide = list(range(len(labels)))
        table = ExactDataTable(
            backend=backend, column_labels=labels,
            max_column_content_width=None if self.mode == "describe" else MAX_COLUMN_WIDTH,
            null_rep=f"[{vf.NULL_STYLE}]{vf.NULL_MARK}[/]", render_markup=False, zebra_stripes=True,
            classes="data-table", justify=justify, wide=wide, fixed_columns=fixed,
        )
        if wide and isinstance(backend, ViewBackend):
            for display in wide:
                source = backend.order[display]
                width = vf.measure(self.view.table.column(source), limit=WIDE_LIMIT) if self.view else 0
                table.widen(display, width)
        self._table = table
        holder.mount(table)
        if self.mode == "frequency" and self.view is not None and self.frequency_column is not None:
            holder.mount(ColumnHistogram(self.view, self.frequency_column, id="data-histogram"))
        row, column = cursor
        if self.mode == "rows" and (row or column):
            table.call_after_refresh(self._restore_cursor, table, row, column)
        if had_focus:
            table.focus()
        self._update_status()

    def _restore_cursor(self, table: ExactDataTable, row: int, column: int) -> None:
        if table is self.table and table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1), column=min(column, table.column_count - 1))

    def _update_banner(self) -> None:
        if self._parts is None:
            return
        banner = self._parts[4]
        where = self.where
        if not where or self.view is None or self.frame is None:
            banner.display = False
            return
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(vf.count(self.view.num_rows), style="bold")
        text.append(f" of {vf.count(self.frame.table.num_rows)} rows match · ")
        text.append("where ", style="bold magenta")
        text.append(where)
        text.append(" · w edit · Esc clear", style="dim")
        banner.update(text)
        banner.display = True

    @property
    def banner_text(self) -> str:
        return str(self._parts[4].render()) if self._parts is not None and self._parts[4].display else ""

    @on(DataTable.CellHighlighted)
    def _highlighted(self, event: DataTable.CellHighlighted) -> None:
        self._update_status()

    def status_text(self) -> Text:
        """`row 37 of 5,000 · col amount (3/7)`, then the search's match and what runs."""
        text = Text(no_wrap=True, overflow="ellipsis")
        table = self.table
        if table is not None and table.backend is not None:
            rows, cols = table.row_count, table.column_count
            text.append(f"row {vf.count(table.cursor_row + 1 if rows else 0)} of {vf.count(rows)}")
            if cols:
                name = table.backend.columns[table.cursor_column] if table.cursor_column < cols else ""
                text.append(" · col ")
                text.append(str(name), style="bold")
                text.append(f" ({table.cursor_column + 1}/{cols})")
        if self.matches is not None and self.mode == "rows":
            text.append(" · ")
            if len(self.matches):
                shown = (self.match_index or 0) + 1
                text.append(f"match {vf.count(shown)} of {vf.count(len(self.matches))}", style="bold cyan")
            else:
                text.append("no match", style="bold yellow")
            if self.search_query is not None:
                text.append(f" for {self.search_query.describe(self._search_column)}", style="dim")
        if self.running is not None:
            text.append(" · ")
            text.append(f"{OP_LABELS.get(self.running, self.running)}…", style="bold yellow")
            text.append(" Esc abandons", style="dim")
        return text

    def _update_status(self) -> None:
        if self._parts is not None:
            self._parts[6].update(self.status_text())

    # -- describe, frequency ---------------------------------------------------------------------------
    def toggle_describe(self) -> None:
        """Switch between the rows and the per-column summary (the mode stays across steps)."""
        if self.running == "describe":
            self._abandon()
        self.mode = "rows" if self.mode == "describe" else "describe"
        self._refresh_view()

    def show_frequency(self) -> bool:
        """The value counts of the cursor's column (False: no rows shown)."""
        table, view = self.table, self.view
        if table is None or view is None or self.mode != "rows" or table.backend is None:
            return False
        column = str(table.backend.columns[table.cursor_column])
        self._start("frequency", self._frequency_worker, view, column)
        return True

    def filter_to_value(self, row: int) -> None:
        """Enter on a value of the frequency table: the frame filtered to it (`IS NULL` for NULL)."""
        if self._frequency is None or self.frequency_column is None or self.view is None:
            return
        value = self._frequency.column("value")[row].as_py()
        condition = value_condition(self.frequency_column, value)
        self.mode = "rows"
        self.apply_filter(condition)

    # -- filter ----------------------------------------------------------------------------------------
    def open_filter(self) -> bool:
        if self.view is None:
            return False
        self.filter_bar.open(self.where)
        return True

    @on(FilterBar.Apply)
    def _apply(self, event: FilterBar.Apply) -> None:
        event.stop()
        self.apply_filter(event.condition)

    def apply_filter(self, condition: str) -> None:
        """Filter the frame to `condition` (a DuckDB SQL condition; empty: no filter), keeping the sort."""
        if self.view is None:
            return
        self.filter_bar.input.value = condition
        self._start("filter", self._filter_worker, self.view, condition)

    def clear_filter(self) -> bool:
        if self.view is None or not self.where:
            return False
        self.filter_bar.input.value = ""
        self.filter_bar.clear_error()
        self._start("filter", self._filter_worker, self.view, "")
        return True

    # -- search ----------------------------------------------------------------------------------------
    def open_search(self) -> bool:
        if self.view is None:
            return False
        self.search_bar.open()
        return True

    @on(SearchBar.Search)
    def _search(self, event: SearchBar.Search) -> None:
        event.stop()
        query = parse_search(event.text)
        if query is None:
            return
        if query == self.search_query and self.matches is not None:
            self.next_match(backwards=event.backwards)
            return
        self.run_search(query, backwards=event.backwards)

    def run_search(self, query: SearchQuery, backwards: bool = False) -> None:
        table, view = self.table, self.view
        if view is None or table is None or table.backend is None:
            return
        if self.mode != "rows":
            self.mode = "rows"
            self._refresh_view()
            table = self.table
        if table is None or table.backend is None:
            return
        column = str(table.backend.columns[table.cursor_column]) if query.cursor_column else None
        self._start("search", self._search_worker, view, query, column, backwards)

    def _found(self, matches: Matches, extra: dict[str, Any]) -> None:
        if extra["view"] is not self.view:
            return
        self.matches, self.search_query, self._search_column = matches, extra["query"], extra["column"]
        self.match_index = None
        if len(matches):
            self._go_to_match(len(matches) - 1 if extra["backwards"] else 0)
        else:
            self.notify(f"No match for {extra['query'].describe(extra['column'])}", timeout=3)

    def _clear_search(self) -> None:
        self.matches, self.match_index, self.search_query, self._search_column = None, None, None, None

    def next_match(self, backwards: bool = False) -> bool:
        """The cursor to the next (or previous) match, round from the last to the first (False: none)."""
        matches, table = self.matches, self.table
        if matches is None or table is None or not len(matches) or self.mode != "rows":
            return False
        row, column = table.cursor_row, self._source_column(table.cursor_column)
        found = matches.previous_before(row, column) if backwards else matches.next_after(row, column)
        if found is None:
            found = len(matches) - 1 if backwards else 0
        cell = (int(matches.positions[found]), int(matches.columns[found]))
        if (cell >= (row, column)) if backwards else (cell <= (row, column)):  # went round
            self.notify("Search wrapped to the " + ("last" if backwards else "first") + " match", timeout=2)
        self._go_to_match(int(found))
        return True

    def _go_to_match(self, index: int) -> None:
        table = self.table
        if self.matches is None or table is None or not isinstance(table.backend, ViewBackend):
            return
        self.match_index = index
        row = int(self.matches.positions[index])
        column = table.backend.order.index(int(self.matches.columns[index]))
        table.move_cursor(row=row, column=column)
        self._update_status()

    def _source_column(self, display: int) -> int:
        table = self.table
        if table is not None and isinstance(table.backend, ViewBackend):
            return table.backend.order[display]
        return display

    # -- orientation -----------------------------------------------------------------------------------
    def toggle_pin(self) -> bool:
        """`!`: the cursor's column becomes a key column, pinned on the left (again: unpinned)."""
        table = self.table
        if table is None or self.mode != "rows" or not isinstance(table.backend, ViewBackend):
            return False
        source = table.backend.order[table.cursor_column]
        if source in self.pinned:
            self.pinned.remove(source)
        else:
            self.pinned.append(source)
        self._refresh_view()
        new = self.table
        if new is not None and isinstance(new.backend, ViewBackend):
            new.call_after_refresh(self._restore_cursor, new, table.cursor_row, new.backend.order.index(source))
        return True

    def toggle_wide(self) -> bool:
        """`_`: the cursor's column widened to its content (again: back to its capped width)."""
        table = self.table
        if table is None or self.mode != "rows" or not isinstance(table.backend, ViewBackend):
            return False
        source = table.backend.order[table.cursor_column]
        self.wide.symmetric_difference_update({source})
        self._refresh_view()
        return True

    # -- back (Esc) ------------------------------------------------------------------------------------
    def back(self) -> bool:
        """Esc on the Data tab peels one layer: the operation in flight, an open bar, the frequency table or
        Describe, the filter (from the table). False: nothing to peel (focus goes back to the steps)."""
        if self._abandon():
            self.notify("Abandoned", timeout=2)
            return True
        if self._parts is None:
            return False
        focused = self.app.focused
        if self.search_bar.display and focused is self.search_bar.input:
            self.search_bar.display = False
            if self.table is not None:
                self.table.focus()
            return True
        if self.filter_bar.display and focused is self.filter_bar.input:
            self.filter_bar.display = False
            self.filter_bar.clear_error()
            self.clear_filter()
            if self.table is not None:
                self.table.focus()
            return True
        if self.table is None or focused is not self.table:
            return False
        if self.mode != "rows":
            self.mode = "rows"
            self._refresh_view()
            return True
        return self.clear_filter()

    # -- the row view ----------------------------------------------------------------------------------
    @on(DataTable.CellSelected)
    def _cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        if self.mode == "frequency":
            self.filter_to_value(event.coordinate.row)
            return
        self.open_row_view(event.coordinate.row, event.coordinate.column)

    def row_fields(self, row: int) -> list[RowField]:
        """Every column of the shown table's `row`: its name, dtype and exact value."""
        table = self.table
        backend = table.data_backend if table is not None else None
        if table is None or backend is None:
            return []
        dtypes = {c.name: c.dtype for c in self._summary.columns} if self._summary and self.mode == "rows" else {}
        fields = []
        for index, name in enumerate(backend.columns):
            column = backend.column_slice(index, row, row + 1)
            fields.append(RowField(str(name), dtypes.get(str(name), str(column.type)), vf.values(column)[0]))
        return fields

    def open_row_view(self, row: int | None = None, column: int | None = None) -> bool:
        """Show the row (by default the cursor's) in full, the column highlighted (False: no table)."""
        table = self.table
        if table is None or table.row_count == 0:
            return False
        row = table.cursor_row if row is None else row
        column = table.cursor_column if column is None else column
        fields = self.row_fields(row)
        if not fields:
            return False
        origin = self.frame.origin if self.frame is not None else ""
        where = origin if self.mode == "rows" else f"{self.mode} · {origin}"
        title = f"row {vf.count(row + 1)} of {vf.count(table.row_count)}" + (f" · {where}" if where else "")
        self.app.push_screen(RowViewScreen(fields, current=column, title=title))
        return True

    # -- sorting ---------------------------------------------------------------------------------------
    def action_sort(self) -> None:
        table = self.table
        if table is not None:
            self.sort_by_column(table.cursor_column)

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by_column(event.column_index)

    def sort_by_column(self, index: int) -> None:
        table, view = self.table, self.view
        if table is None or view is None or self.mode != "rows" or self.loading_frame or table.backend is None:
            return
        columns = list(table.backend.columns)
        if not 0 <= index < len(columns):
            return
        name = str(columns[index])
        order = "descending" if self.sort == (name, "ascending") else "ascending"
        self._start("sort", self._sort_worker, view, name, order)

    # -- export ----------------------------------------------------------------------------------------
    def default_export_path(self) -> Path:
        context = getattr(self.session, "context", None)
        run_dir = Path(getattr(context, "run_dir", None) or Path.cwd())
        name = self.step_id or "frame"
        if self.frame is not None and self.frame.kind == "input":
            name = f"{name}.{self.frame.name}"
        return run_dir / "exports" / f"{name}.csv"

    def open_export(self) -> bool:
        view, frame = self.view, self.frame
        if view is None or frame is None:
            return False
        what = f"{vf.plural(view.num_rows, 'row')} of {frame.origin}"
        if self.where:
            what += f" · where {self.where}"
        if self.sort is not None:
            what += f" · sorted by {self.sort[0]} {'▲' if self.sort[1] == 'ascending' else '▼'}"

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.export_to(path)

        self.app.push_screen(ExportScreen(self.default_export_path(), what), chosen)
        return True

    def export_to(self, path: Path) -> None:
        if self.view is not None:
            self._export_worker(self.view, path)

    @work(thread=True, group="osiris-data-export", description="export a frame")
    def _export_worker(self, view: FrameView, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)  # the default `<run dir>/exports/` is new
            rows = export(view, path)
        except Exception as exc:  # a toast, never a crash
            self.app.call_from_thread(self.notify, f"Export failed: {type(exc).__name__}: {exc}",
                                      severity="error", timeout=10)
            return
        self.app.call_from_thread(self.notify, f"Exported {vf.plural(rows, 'row')} to {path}", timeout=8)
