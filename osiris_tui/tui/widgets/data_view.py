"""DataView: the Data tab, a data explorer over the selected step's frames (never rendered whole).

Top to bottom: the frame header (`data/header.py`: which frame is shown, "output of revenue · 24 rows",
its shape and the columns with their dtypes); the search bar (`/`) and the filter bar (`w`) when open;
the filter banner ("1,234 of 5,000,000 rows match · where amount > 100"); the table, in one of the
view's modes (`data/modes.py`: rows, Describe, frequency); and the status line (`data/status.py`: "row
37 of 5,000 · col amount (3/7)", the search's "match 3 of 120", what runs).

Frames come as Arrow from the session (`data/frames.py`), produced once per frame in the background:
opening one converts nothing. It is shown through a `frames.view.FrameView` (the frame, maybe filtered
and sorted, in display order) by a lazy backend (`data/table.py`) that fetches a page of rows at a time
as they come on screen. Column widths are measured on a sample in a thread worker; so is everything that
reads the whole frame (`data/operations.py`) — sort (`s`, a header click), filter, search, frequency
(`F`), Describe (`d`) and export (`ctrl+e`) — each behind a progress line, and `Esc` abandons the one
that runs, so a key is answered at once whatever the frame's size. The table widget is made once and
kept: each result (a sorted or filtered view, a mode's table) is swapped into it, so taking one costs the
UI thread no unmount and mount; the frequency table's histogram is kept too, hidden in the other modes.
The last few frames opened are kept, with their widths and their Describe summary, so going back to a
step is instant.

`i` cycles through a step's frames: its output (once it has run) and each of its cached inputs.
`!` pins the cursor's column on the left as a key column, `_` widens a column to its content (again:
back to its capped width). Enter on a cell opens the row view (`screens/row_view.py`); Enter on a
value of the frequency table filters the frame to it.

Every cell reads as `osiris_tui.frames.format` writes it: floats in their shortest exact form, Decimals
and big ints whole, timestamps with every digit, NULL as a dim `∅` (never the text "None").
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from textual_fastdatatable.data_table import DataTable

from osiris_tui.frames import format as vf
from osiris_tui.frames.export import export
from osiris_tui.frames.frequency import value_condition
from osiris_tui.frames.search import Matches
from osiris_tui.frames.view import FrameView
from osiris_tui.runtime.session import DebugSession, StepState
from osiris_tui.tui.messages import FrameLoaded
from osiris_tui.tui.screens.row_view import RowField, RowViewScreen
from osiris_tui.tui.widgets.data import operations as ops
from osiris_tui.tui.widgets.data.export_screen import ExportScreen
from osiris_tui.tui.widgets.data.filter_bar import FilterBar
from osiris_tui.tui.widgets.data.frames import FrameRef, OpenedFrame, OpenedFrames, pandas_dtypes, step_frames
from osiris_tui.tui.widgets.data.header import (
    ColumnInfo,
    ColumnsLine,
    FrameSummary,
    filter_banner,
    frame_lead,
    summarize,
)
from osiris_tui.tui.widgets.data.modes import (
    Mode,
    ModeTable,
    build_table,
    describe_table,
    rows_table,
    show_in,
)
from osiris_tui.tui.widgets.data.operations import DataOpDone
from osiris_tui.tui.widgets.data.search_bar import SearchBar, SearchQuery, parse_search
from osiris_tui.tui.widgets.data.search_state import SearchState
from osiris_tui.tui.widgets.data.status import StatusLine, status_text
from osiris_tui.tui.widgets.data.table import CELL_LIMIT, MAX_COLUMN_WIDTH, ExactDataTable, ViewBackend
from osiris_tui.tui.widgets.histogram import ColumnHistogram

__all__ = ["CELL_LIMIT", "MAX_COLUMN_WIDTH", "ColumnInfo", "DataView", "ExactDataTable", "FrameRef",
           "FrameSummary"]

Parts = tuple[Static, ColumnsLine, SearchBar, FilterBar, Static, Vertical, StatusLine]


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
        self._opened = OpenedFrames()
        self.mode: Mode = "rows"
        self.frames: list[FrameRef] = []  # the shown step's frames
        self.frame_index = 0
        self._frame_choice: dict[str, tuple[Any, int]] = {}  # step → ((runs, state), the frame shown)
        self.frame: FrameRef | None = None
        self._frame_info: OpenedFrame | None = None
        self.view: FrameView | None = None  # the frame as shown: filtered, sorted
        self.pinned: list[int] = []  # the frame's columns pinned on the left (key columns), in order
        self.wide: set[int] = set()  # the frame's columns widened to their content
        self.search: SearchState | None = None
        self.frequency_column: str | None = None
        self._frequency: pa.Table | None = None
        self._frequency_layout: ModeTable | None = None  # laid out in the worker that counted
        self.running: str | None = None  # the operation in flight (sort, filter, …), Esc abandons it
        self.loading_frame = False
        self.input_header = ""  # the frame line: "not run yet — input df_a of b · 4 rows · from a"
        self._lead: Text | None = None
        self._hint: Text | None = None
        self._summary: FrameSummary | None = None
        self._table: ExactDataTable | None = None  # one widget, kept: each new layout is swapped into it
        self._layouts = 0  # layouts shown in the table (a cursor restore is for the one it was made for)
        self._histogram: ColumnHistogram | None = None  # under the frequency table; kept, hidden in other modes
        self._message = Static(id="data-message")
        self._parts: Parts | None = None  # built when the first frame is shown (fewer widgets at startup)

    def compose(self) -> ComposeResult:
        yield self._message

    def _frame_parts(self) -> Parts:
        if self._parts is None:
            shape = Static(id="data-shape")
            # one line each (the lead, the shape), cut with … rather than wrapped
            shape.styles.text_wrap = "nowrap"
            shape.styles.text_overflow = "ellipsis"
            search_bar, filter_bar = SearchBar(id="data-search"), FilterBar(id="data-filter")
            search_bar.display = filter_bar.display = False
            banner = Static(id="data-banner")
            banner.display = False
            self._histogram = ColumnHistogram(None, "", id="data-histogram")
            self._histogram.display = False
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

    @property
    def matches(self) -> Matches | None:
        return self.search.matches if self.search is not None else None

    @property
    def match_index(self) -> int | None:
        return self.search.index if self.search is not None else None

    @property
    def search_query(self) -> SearchQuery | None:
        return self.search.query if self.search is not None else None

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

    def show_table(self, table: pa.Table, step_id: str = "frame") -> None:
        """Show `table` as if it were `step_id`'s output (for embedding and tests; measured here)."""
        self.step_id = step_id
        self.frames, self.frame_index = [FrameRef("output", step_id, table)], 0
        self._key = ("table", id(table))
        self._token = next(self._tokens)
        self._set_loading(False)
        frame = self.frames[0]
        self._lead = frame_lead(frame, StepState.DONE, 0, 1, [])
        self.input_header = self._lead.plain
        self._hint = None
        self._open(frame, OpenedFrame.of(table, summarize(table, frame.origin)))

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

    def _open(self, frame: FrameRef, info: OpenedFrame) -> None:
        """Show `frame` from the rows (a frame other than the one shown starts unfiltered, unsorted)."""
        if self.frame is None or self.frame.table is not frame.table:
            self._abandon()
            self.view = FrameView.of(frame.table)
            self.pinned, self.wide = [], set()
            self.search = None
            self._frequency, self._frequency_layout, self.frequency_column = None, None, None
            if self.mode == "frequency":
                self.mode = "rows"
            if self._parts is not None:
                self.filter_bar.input.value = ""
                self.filter_bar.clear_error()
                self.filter_bar.display = self.search_bar.display = False
        self.frame = frame
        self._frame_info = info
        self._refresh_view()

    @work(thread=True, exclusive=True, group="osiris-data-view", description="open a frame")
    def _load(self, token: int, key: tuple[Any, ...], step_id: str, state: StepState, choice: int) -> None:
        try:
            frames, missing = step_frames(self.session, step_id, with_output=state is StepState.DONE)
            if not frames:
                self.post_message(FrameLoaded(token, key, None, None, extra={"state": state}))
                return
            index = choice % len(frames)
            frame = frames[index]
            info = self._opened.get(frame.table)
            if info is None:
                dtypes = pandas_dtypes(self.session, frame)
                info = OpenedFrame.of(frame.table, summarize(frame.table, frame.origin, dtypes))
        except Exception as exc:  # show it, never crash the app over a frame
            self.post_message(FrameLoaded(token, key, None, None, error=f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(FrameLoaded(token, key, None, info.summary, extra={
            "frames": frames, "index": index, "missing": missing, "state": state, "info": info}))

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
        info: OpenedFrame = extra["info"]
        self._opened.keep(info)
        self._lead = frame_lead(frame, extra["state"], self.frame_index, len(self.frames), extra["missing"])
        self.input_header = self._lead.plain
        self._hint = Text.assemble(("i", "bold cyan"), (" next frame", "dim")) if len(self.frames) > 1 else None
        if frame.kind == "output" and self.session.previous_output(frame.step_id) is not None:  # what changed (D)
            from osiris_tui.tui.widgets.data.diff_view import diff_hint

            self._hint = diff_hint() if self._hint is None else Text.assemble(self._hint, ("  ", ""), diff_hint())
        self._open(frame, info)

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

    # -- the modes (rows, describe, frequency) ---------------------------------------------------------
    def _refresh_view(self) -> None:
        """Show the current frame in the current mode."""
        if self._frame_info is None or self.view is None:
            return
        spec = self._mode_table()
        if spec is not None:
            self._mount_table(spec)

    def _mode_table(self) -> ModeTable | None:
        """The current mode's table (None: it is being computed; it is mounted when done)."""
        info, view = self._frame_info, self.view
        assert info is not None and view is not None
        if self.mode == "describe":
            described = info.described.get(self.where)  # computed once per frame (and filter)
            if described is None:
                self._start("describe", ops.describe_view, view, info)
                return None
            return describe_table(described)
        if self.mode == "frequency" and self._frequency_layout is not None and self.frequency_column is not None:
            return self._frequency_layout
        self.mode = "rows"
        return rows_table(view, info, self.pinned, self.wide)

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
        self._start("frequency", ops.count_values, view, column)
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
        self._start("filter", ops.filter_view, self.view, condition)

    def clear_filter(self) -> bool:
        if self.view is None or not self.where:
            return False
        self.filter_bar.input.value = ""
        self.filter_bar.clear_error()
        self._start("filter", ops.filter_view, self.view, "")
        return True

    def _update_banner(self) -> None:
        if self._parts is None:
            return
        banner = self._parts[4]
        if not self.where or self.view is None or self.frame is None:
            banner.display = False
            return
        banner.update(filter_banner(self.view.num_rows, self.frame.table.num_rows, self.where))
        banner.display = True

    @property
    def banner_text(self) -> str:
        return str(self._parts[4].render()) if self._parts is not None and self._parts[4].display else ""

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
        if self.search is not None and query == self.search.query:
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
        self._start("search", ops.search_view, view, query, column, backwards)

    def _found(self, matches: Matches, extra: dict[str, Any]) -> None:
        if extra["view"] is not self.view:
            return
        self.search = SearchState(extra["query"], extra["column"], matches)
        if len(matches):
            self._go_to_match(len(matches) - 1 if extra["backwards"] else 0)
        else:
            self.notify(f"No match for {extra['query'].describe(extra['column'])}", timeout=3)

    def next_match(self, backwards: bool = False) -> bool:
        """The cursor to the next (or previous) match, round from the last to the first (False: none)."""
        table, search = self.table, self.search
        if search is None or table is None or self.mode != "rows":
            return False
        step = search.step(table.cursor_row, self._source_column(table.cursor_column), backwards)
        if step is None:
            return False
        found, wrapped = step
        if wrapped:
            self.notify("Search wrapped to the " + ("last" if backwards else "first") + " match", timeout=2)
        self._go_to_match(found)
        return True

    def _go_to_match(self, index: int) -> None:
        table, search = self.table, self.search
        if search is None or table is None or not isinstance(table.backend, ViewBackend):
            return
        search.index = index
        row, source = search.cell(index)
        table.move_cursor(row=row, column=table.backend.order.index(source))
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
        source, row = table.backend.order[table.cursor_column], table.cursor_row
        if source in self.pinned:
            self.pinned.remove(source)
        else:
            self.pinned.append(source)
        self._refresh_view()
        new = self.table
        if new is not None and isinstance(new.backend, ViewBackend):
            new.call_after_refresh(self._restore_cursor, self._layouts, row, new.backend.order.index(source))
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

    @on(DataTable.CellHighlighted)
    def _highlighted(self, event: DataTable.CellHighlighted) -> None:
        self._update_status()

    def status_text(self) -> Text:
        """`row 37 of 5,000 · col amount (3/7)`, then the search's match and what runs."""
        return status_text(self.table, self.search if self.mode == "rows" else None, self.running)

    def _update_status(self) -> None:
        if self._parts is not None:
            self._parts[6].update(self.status_text())

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
        self._start("sort", ops.sort_view, view, name, order)

    # -- operations off the UI thread ------------------------------------------------------------------
    def _start(self, kind: str, operation: Callable[..., ops.Done], *args: Any) -> None:
        """Run `operation(*args)` in a thread; its `DataOpDone` is taken only while its token holds."""
        if self.loading_frame:
            return
        self._op_token = next(self._tokens)
        self.running = kind
        self._update_status()
        self._run_operation(self._op_token, kind, functools.partial(operation, *args))

    @work(thread=True, exclusive=True, group="osiris-data-op", description="a Data tab operation")
    def _run_operation(self, token: int, kind: str, operation: Callable[[], ops.Done]) -> None:
        try:
            done = operation()
        except ops.Failed as failed:
            self.post_message(DataOpDone(token, kind, error=failed.message, extra=failed.extra))
            return
        self.post_message(DataOpDone(token, kind, done.result, extra=done.extra))

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
            self.search = None
            if kind == "filter":
                self.filter_bar.clear_error()
                if self.filter_bar.display and self.filter_bar.input.has_focus and self.table is not None:
                    self.filter_bar.display = False
                self._update_banner()
            if self.mode != "describe":
                self.mode = "rows"
            self._refresh_view()
            if self.table is not None:
                self.table.focus()
        elif kind == "search":
            self._found(message.result, message.extra)
        elif kind == "frequency":
            self._frequency, self._frequency_layout = message.result, message.extra["layout"]
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
    def _mount_table(self, spec: ModeTable) -> None:
        summary = self._frame_info.summary if self._frame_info is not None else None
        if summary is None:
            return
        table = self.table
        had_focus = table is not None and (table.has_focus or self.app.focused is None)
        cursor = (table.cursor_row, table.cursor_column) if table is not None else (0, 0)
        self._summary = summary
        self.message = ""
        self._message.display = False
        shape, columns, _search, _filter, _banner, holder, status = self._frame_parts()
        hint = spec.hint
        if hint is None:
            hint = self._hint
        elif self._hint is not None:
            hint = hint.copy()
            hint.append(" · ", style="dim")
            hint.append_text(self._hint)
        text = summary.shape_text(self._lead, hint)
        text.no_wrap, text.overflow = True, "ellipsis"
        shape.update(text)
        shape.display = True
        columns.show(summary)
        columns.display = bool(summary.columns) and spec.shows_columns
        self._update_banner()
        status.display = True
        if table is None:
            table = self._table = build_table(spec)
            histogram = self._histogram
            assert histogram is not None  # made with the parts
            if histogram.parent is holder:
                holder.mount(table, before=histogram)
            else:  # the first table: the histogram goes under it, hidden until a frequency table
                holder.mount(table, histogram)
        else:  # the same widget, the new layout: no unmount and mount on the UI thread
            show_in(table, spec)
        self._layouts += 1
        self._show_histogram()
        row, column = cursor
        if spec.keeps_cursor and (row or column):
            table.call_after_refresh(self._restore_cursor, self._layouts, row, column)
        if had_focus:
            table.focus()
        self._update_status()

    def _show_histogram(self) -> None:
        """Under the frequency table, its column's histogram; hidden in the other modes."""
        histogram = self._histogram
        if histogram is None:
            return
        if self.mode == "frequency" and self.view is not None and self.frequency_column is not None:
            histogram.count(self.view, self.frequency_column)
            histogram.display = True
        elif histogram.display or histogram.view is not None:
            histogram.display = False
            histogram.forget()

    def _restore_cursor(self, layout: int, row: int, column: int) -> None:
        table = self.table
        if table is not None and layout == self._layouts and table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1), column=min(column, table.column_count - 1))

    def _remove_table(self) -> None:
        if self._histogram is not None:
            self._histogram.display = False
            self._histogram.forget()
        if self._table is not None:
            self._table.remove()
            self._table = None
            self._layouts += 1

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
