"""DataView: the selected step's DataFrame, paged from an Arrow table (never rendered whole).

What is shown, top to bottom: one line with the shape, the memory size and where the frame comes from;
the columns with their dtypes and null counts (compact); and a textual-fastdatatable `DataTable`
over an `ArrowBackend`, which renders only the visible rows, so a 10M-row frame costs what a
screenful does.

Turning a frame into Arrow (and measuring its column widths) runs in a thread worker behind a loading
indicator; so does sorting (`s` on the cursor's column, or a click on a header). The last few converted
frames are kept, so going back to a step is instant.

`d` toggles the Describe view: instead of the rows, one row per column with its count, nulls, distinct
values, min, max, mean, median and stdev (see `describe.py`), computed in a thread worker and kept per
frame like the converted ones. The mode stays while moving between steps.

Every cell reads as `osiris_tui.frames.format` writes it: floats in their shortest exact form, Decimals
and big ints whole, timestamps with every digit, NULL as a dim `∅` (never the text "None"). The table
(`ExactDataTable`) formats a page of rows at a time as they come on screen, and column widths are
measured with the same formatter on a sample of each column; a value wider than its column ends in `…`.
Enter opens the row view (`screens/row_view.py`): every column of the cursor's row in full.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rich.console import RenderableType
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.widget import Widget
from textual.widgets import Static
from textual_fastdatatable import ArrowBackend
from textual_fastdatatable.data_table import DataTable

from osiris_tui.frames import format as vf
from osiris_tui.runtime.local_adapter import driver_inputs
from osiris_tui.runtime.session import DebugSession, StepState
from osiris_tui.tui import format as fmt
from osiris_tui.tui.messages import FrameLoaded
from osiris_tui.tui.screens.row_view import RowField, RowViewScreen
from osiris_tui.tui.widgets.describe import COUNT_COLUMNS, RIGHT_COLUMNS, describe, stats_table

MAX_COLUMN_WIDTH = 40
CELL_LIMIT = MAX_COLUMN_WIDTH + 1  # characters a cell is given: one more than fits, so a cut one shows `…`
PAGE_ROWS = 64  # cells are formatted this many rows of a column at a time
TOOLTIP_LIMIT = 2000
COLUMN_LINES = 3  # the dtype line wraps over at most this many lines (#data-columns' max-height)
CACHE_SIZE = 2


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


class PresizedArrowBackend(ArrowBackend):
    """An ArrowBackend whose column widths are measured as `frames.format` writes the cells, on a sample
    of each column, or given (a sorted copy keeps its frame's widths). `counts` names the columns shown
    with thousands separators (Describe's)."""

    def __init__(self, data: pa.Table, widths: Sequence[int] | None = None,
                 counts: Collection[str] = ()) -> None:
        super().__init__(data)
        self._preset_widths = list(widths) if widths is not None else None
        self.counts = frozenset(counts)

    @property
    def column_content_widths(self) -> list[int]:
        if self._preset_widths is None:
            self._preset_widths = [
                vf.measure(column, limit=CELL_LIMIT, thousands=name in self.counts)
                for name, column in zip(self.data.column_names, self.data.columns, strict=True)
            ]
        return self._preset_widths


class ExactDataTable(DataTable):
    """A fastdatatable `DataTable` whose cells read as `osiris_tui.frames.format` writes them.

    The backend keeps the values (`get_cell_at` still returns them); only turning a value into a
    renderable changes, a page of `PAGE_ROWS` rows of one column at a time, from the backend's Arrow
    table, so only what comes on screen is ever formatted. `justify` aligns named columns (by default by
    their type); the backend's `counts` columns get thousands separators.
    """

    def __init__(self, *, justify: Mapping[str, vf.Justify] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.justify = dict(justify or {})
        self._pages: LRUCache[tuple[int, int], list[Text]] = LRUCache(512)
        self._pages_of: pa.Table | None = None

    def cell_text(self, row_index: int, column_index: int) -> Text:
        """The cell's formatted text (one line, cut at `CELL_LIMIT` characters)."""
        backend = self.backend
        assert isinstance(backend, ArrowBackend)
        data: pa.Table = backend.data
        if data is not self._pages_of:  # sorted in place: nothing cached holds
            self._pages.clear()
            self._pages_of = data
        page = row_index // PAGE_ROWS
        key = (column_index, page)
        cells = self._pages.get(key)
        if cells is None:
            name = data.column_names[column_index]
            counts: Collection[str] = getattr(backend, "counts", ())
            cells = vf.styled_cells(data.column(column_index), page * PAGE_ROWS, (page + 1) * PAGE_ROWS,
                                    limit=CELL_LIMIT, thousands=name in counts, justify=self.justify.get(name))
            self._pages[key] = cells
        return cells[row_index - page * PAGE_ROWS]

    # Deliberately overrides textual-fastdatatable's private `DataTable._get_cell_renderable` (same
    # signature): the one call its render path makes to turn a data cell into a renderable.
    def _get_cell_renderable(self, row_index: int, column_index: int,
                             max_width: int | None = None) -> RenderableType | Text:
        if row_index < 0 or not isinstance(self.backend, ArrowBackend):
            return super()._get_cell_renderable(row_index, column_index, max_width)
        return self.cell_text(row_index, column_index)

    # Deliberately overrides textual-fastdatatable's private `DataTable._set_tooltip_from_cell_at`, so a
    # tooltip shows the value as the cells and the row view do: in full, only for a value its cell cuts.
    def _set_tooltip_from_cell_at(self, coordinate: Coordinate) -> None:
        backend = self.backend
        if coordinate.row < 0 or not isinstance(backend, ArrowBackend) or not self.is_valid_coordinate(coordinate):
            super()._set_tooltip_from_cell_at(coordinate)
            return
        column = self.ordered_columns[coordinate.column]
        value = vf.values(backend.data.column(coordinate.column), coordinate.row, coordinate.row + 1)[0]
        shown = self.cell_text(coordinate.row, coordinate.column)
        cut = shown.cell_len > column.render_width - 2 or shown.plain != vf.plain(value)
        self.tooltip = vf.styled(value, one_line=False, limit=TOOLTIP_LIMIT) if cut and not vf.is_null(value) else None


def frame_to_arrow(df: pd.DataFrame) -> pa.Table:
    """The frame as an Arrow table for display (a non-default index becomes columns)."""
    if not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index()
    try:
        return _dates_as_dates(pa.Table.from_pandas(df, preserve_index=False))
    except (pa.ArrowException, ValueError, TypeError):
        # mixed-type object columns, duplicate or non-string column names: show them as text
        names = _unique([str(c) for c in df.columns])
        fixed = {}
        for name, (_, col) in zip(names, df.items(), strict=True):
            if col.dtype == object:
                col = col.map(lambda v: v if v is None or isinstance(v, str) else str(v))
            fixed[name] = col.reset_index(drop=True)
        return pa.Table.from_pandas(pd.DataFrame(fixed), preserve_index=False)


def _dates_as_dates(table: pa.Table) -> pa.Table:
    """Timestamp columns whose values are all midnight display as dates (`2024-01-06`, not
    `2024-01-06T00:00:00.000`): pandas has no date dtype, so a DATE column arrives as datetime64."""
    for i, field in enumerate(table.schema):
        if not pa.types.is_timestamp(field.type) or field.type.tz is not None:
            continue
        column = table.column(i)
        valid = pc.drop_null(column)
        if len(valid) and pc.all(pc.equal(pc.floor_temporal(valid, unit="day"), valid)).as_py():
            table = table.set_column(i, field.name, pc.cast(column, pa.date32()))
    return table


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            out.append(f"{n}_{seen[n]}")
        else:
            seen[n] = 0
            out.append(n)
    return out


def summarize(df: pd.DataFrame, table: pa.Table, nbytes: int | None, origin: str) -> FrameSummary:
    dtypes = [str(t) for t in df.dtypes] if len(df.columns) == table.num_columns else []
    columns = [
        ColumnInfo(name, dtypes[i] if dtypes else str(table.schema.field(i).type), table.column(i).null_count)
        for i, name in enumerate(table.column_names)
    ]
    return FrameSummary(table.num_rows, columns, nbytes, origin)


@dataclass(frozen=True)
class InputFrame:
    """One DataFrame a step will read: the name its driver sees it under and the step that made it."""

    name: str  # df_<safe id>
    from_step: str
    df: pd.DataFrame


def step_inputs(session: DebugSession, step_id: str) -> tuple[list[InputFrame], list[str]]:
    """The cached frames `step_id` reads, in input order, and the upstream steps not cached (yet)."""
    step = session.pipeline.step(step_id)
    inputs, resolved = driver_inputs(step, session.prepared.results)
    frames = []
    if inputs is not None:
        for record in resolved:
            df = inputs.get(record["key"])
            if isinstance(df, pd.DataFrame):
                frames.append(InputFrame(record["key"], record["from_step"], df))
    have = {f.from_step for f in frames}
    return frames, [u for u in step.upstream if u not in have]


def _cached(cache: OrderedDict[int, tuple[ArrowBackend, FrameSummary, Any]],
            df: Any) -> tuple[ArrowBackend, FrameSummary, Any] | None:
    """`df`'s entry in `cache` (an id is only trusted while the entry holds that very frame)."""
    entry = cache.get(id(df))
    if entry is None or entry[2] is not df:
        return None
    cache.move_to_end(id(df))
    return entry


class DataView(Vertical):
    """The Data tab.

    A step that has run shows its output (a writer: what it wrote). A step that has not run yet, or
    failed, shows what goes into it, when its inputs are cached: one input at a time, `i` for the next.
    """

    BINDINGS = [Binding("s", "sort", "Sort column", id="osiris.data.sort")]

    _tokens = itertools.count(1)

    def __init__(self, session: DebugSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.step_id: str | None = None
        self.message = ""  # the state line, when no table is shown
        self._key: tuple[Any, ...] | None = None  # what is shown (or being loaded)
        self._token = 0
        # id(frame) → its Arrow table, summary and the frame itself (which keeps the id unique)
        self._cache: OrderedDict[int, tuple[ArrowBackend, FrameSummary, Any]] = OrderedDict()
        # the same for the Describe view: id(frame) → its summary table, shape summary and the frame
        self._describe_cache: OrderedDict[int, tuple[ArrowBackend, FrameSummary, Any]] = OrderedDict()
        self.describing = False  # `d`: the per-column summary instead of the rows
        self._df: pd.DataFrame | None = None  # the frame shown (or being loaded)
        self._nbytes: int | None = None
        self._origin = ""
        self._sort: tuple[str, str] | None = None
        self.loading_frame = False
        self._table: ExactDataTable | None = None
        self._lead: Text | None = None  # the shape line's lead while showing an input
        self._summary: FrameSummary | None = None  # of the frame shown
        self._hint: Text | None = None
        self.inputs: list[InputFrame] = []  # the shown step's cached inputs (not run yet / failed)
        self.input_header = ""  # "not run yet — input 1/2: df_a from a", when an input is shown
        self.input_index = 0
        self._input_choice: dict[str, int] = {}  # step → the input last shown
        self._message = Static(id="data-message")
        # built when the first frame is shown (fewer widgets at startup)
        self._shape: Static | None = None
        self._columns: ColumnsLine | None = None
        self._holder: Vertical | None = None

    def compose(self) -> ComposeResult:
        yield self._message

    def _frame_parts(self) -> tuple[Static, ColumnsLine, Vertical]:
        if self._shape is None or self._columns is None or self._holder is None:
            self._shape = Static(id="data-shape")
            # one line each (the lead, the shape), cut with … rather than wrapped
            self._shape.styles.text_wrap = "nowrap"
            self._shape.styles.text_overflow = "ellipsis"
            self._columns = ColumnsLine(id="data-columns")
            self._holder = Vertical(id="data-table-holder")
            self.mount(self._shape, self._columns, self._holder)
        return self._shape, self._columns, self._holder

    # -- what to show ----------------------------------------------------------------------------------
    def show_step(self, step_id: str | None) -> None:
        self.step_id = step_id
        if step_id is None:
            self._show_message("no step selected")
            return
        try:
            status = self.session.status(step_id)
        except KeyError:
            self._show_message("no step selected")
            return
        state = status.state
        self.inputs = []
        self.input_header = ""
        if state in (StepState.PENDING, StepState.PAUSED, StepState.FAILED):
            try:
                self.inputs, missing = step_inputs(self.session, step_id)
            except Exception:  # a view must never take the app down
                self.inputs, missing = [], []
            if self.inputs:
                self._show_input(step_id, state, missing)
                return
        if state in (StepState.PENDING, StepState.PAUSED):
            self._show_message("not run yet — press n to step, t to run to this step")
            return
        if state is StepState.RUNNING:
            self._show_message("running…")
            return
        if state is StepState.FAILED:
            self._show_message("failed — see the error below")
            return
        if state is StepState.SKIPPED:
            self._show_message("skipped — not needed for this run")
            return
        df = self.session.output(step_id)
        origin = f"output of {step_id}"
        nbytes = self.session.output_nbytes(step_id) if df is not None else None
        if df is None:
            df = self.session.input_frame(step_id)
            # the frame as handed over: a writer may still change it (the CSV writer sorts its columns)
            origin = f"input of {step_id} (the frame it was given)"
        if df is None or not isinstance(df, pd.DataFrame):
            self._show_message("this step produced no DataFrame")
            return
        self._show_frame((step_id, status.runs, "output", id(df)), df, nbytes, origin, None)

    def _show_input(self, step_id: str, state: StepState, missing: list[str]) -> None:
        index = self._input_choice.get(step_id, 0) % len(self.inputs)
        self.input_index = index
        frame = self.inputs[index]
        lead = Text()
        lead.append("failed" if state is StepState.FAILED else "not run yet",
                    style="bold red" if state is StepState.FAILED else "bold yellow")
        lead.append(f" — input {index + 1}/{len(self.inputs)}: ")
        lead.append(frame.name, style="bold")
        lead.append(f" from {frame.from_step}")
        if missing:
            lead.append(f" (waiting for {', '.join(missing)})", style="dim")
        lead.no_wrap, lead.overflow = True, "ellipsis"
        self.input_header = lead.plain
        self._hint = Text.assemble(("i", "bold cyan"), (" next input", "dim")) if len(self.inputs) > 1 else None
        nbytes = self.session.output_nbytes(frame.from_step)
        key = (step_id, str(state), frame.name, id(frame.df))
        self._show_frame(key, frame.df, nbytes, f"input of {step_id}", lead)

    def forget_frames(self) -> None:
        """Drop the converted frames kept for going back (a restart made them stale)."""
        self._cache.clear()
        self._describe_cache.clear()
        self._input_choice.clear()

    def next_input(self) -> bool:
        """Show the next cached input of the step (False when it has fewer than two)."""
        if self.step_id is None or len(self.inputs) < 2:
            return False
        self._input_choice[self.step_id] = (self.input_index + 1) % len(self.inputs)
        self._key = None
        self.show_step(self.step_id)
        return True

    def _show_frame(self, key: tuple[Any, ...], df: pd.DataFrame, nbytes: int | None, origin: str,
                    lead: Text | None) -> None:
        if key == self._key:
            return
        self._key = key
        self._lead = lead
        if lead is None:
            self._hint = None
        self._df, self._nbytes, self._origin = df, nbytes, origin
        self._render_frame()

    def _render_frame(self) -> None:
        """Show the current frame's rows, or its Describe summary: from the caches, else in a worker."""
        df, key, origin = self._df, self._key, self._origin
        if df is None or key is None:
            return
        self._sort = None
        cached = _cached(self._cache, df)
        if self.describing:
            described = _cached(self._describe_cache, df)
            if described is not None:
                backend, summary, _ = described
                self._mount_table(backend, replace(summary, origin=origin))
                return
            self._token = next(self._tokens)
            self._set_loading(True)
            self._describe(self._token, key, df, cached, self._nbytes, origin)
            return
        if cached is not None:
            backend, summary, _ = cached
            self._mount_table(backend, replace(summary, origin=origin))
            return
        self._token = next(self._tokens)
        self._set_loading(True)
        self._load(self._token, key, df, self._nbytes, origin)

    def toggle_describe(self) -> None:
        """Switch between the rows and the per-column summary (the mode stays across steps)."""
        self.describing = not self.describing
        if self._key is not None and self._df is not None:
            self._render_frame()

    def _show_message(self, text: str) -> None:
        self._key = None
        self._df = None
        self._token = next(self._tokens)  # drop any load in flight
        self._set_loading(False)
        self.message = text
        self._message.update(Text(text, style="italic"))
        self._message.display = True
        if self._shape is not None and self._columns is not None:
            self._shape.display = False
            self._columns.display = False
        self._remove_table()

    def _set_loading(self, on: bool) -> None:
        self.loading_frame = on
        if on or self._holder is not None:
            self._frame_parts()[2].loading = on
        if on:
            self.message = "loading…"
            self._message.display = False

    def _remove_table(self) -> None:
        if self._table is not None:
            self._table.remove()
            self._table = None

    # -- loading (thread workers) ---------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="osiris-data-view", description="convert a frame to Arrow")
    def _load(self, token: int, key: tuple[Any, ...], df: pd.DataFrame, nbytes: int | None, origin: str) -> None:
        try:
            table = frame_to_arrow(df)
            backend = self._backend(table)
            summary = summarize(df, table, nbytes, origin)
        except Exception as exc:  # show it, never crash the app over a frame
            self.post_message(FrameLoaded(token, key, None, None, error=f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(FrameLoaded(token, key, backend, summary, extra={"df": df}))

    @work(thread=True, exclusive=True, group="osiris-data-view", description="describe a frame")
    def _describe(self, token: int, key: tuple[Any, ...], df: pd.DataFrame,
                  cached: tuple[ArrowBackend, FrameSummary, Any] | None, nbytes: int | None, origin: str) -> None:
        try:
            if cached is not None:
                table: pa.Table = cached[0].data
                summary = cached[1]
            else:
                table = frame_to_arrow(df)
                summary = summarize(df, table, nbytes, origin)
            dtypes = [c.dtype for c in summary.columns]
            backend = self._backend(stats_table(describe(table, dtypes)), counts=COUNT_COLUMNS)
        except Exception as exc:  # show it, never crash the app over a frame
            self.post_message(FrameLoaded(token, key, None, None, error=f"cannot describe: {type(exc).__name__}: {exc}",
                                          extra={"describe": True}))
            return
        self.post_message(FrameLoaded(token, key, backend, summary, extra={"df": df, "describe": True}))

    @staticmethod
    def _backend(table: pa.Table, widths: Sequence[int] | None = None,
                 counts: Collection[str] = ()) -> ArrowBackend:
        backend = PresizedArrowBackend(table, widths, counts)
        backend.render_markup = False  # values are data, never markup
        backend.column_content_widths  # noqa: B018 — measure here, off the UI thread
        return backend

    @work(thread=True, exclusive=True, group="osiris-data-view", description="sort a frame")
    def _sort_worker(self, token: int, key: tuple[Any, ...], backend: ArrowBackend, summary: FrameSummary,
                     column: str, order: str) -> None:
        try:
            data: pa.Table = backend.data
            sorted_table = data.sort_by([(column, order)])
            new = self._backend(sorted_table, backend.column_content_widths,
                                getattr(backend, "counts", ()))
        except Exception as exc:
            self.post_message(FrameLoaded(token, key, None, None, error=f"cannot sort by {column}: {exc}"))
            return
        self.post_message(FrameLoaded(token, key, new, summary, sort=(column, order)))

    def on_frame_loaded(self, message: FrameLoaded) -> None:
        message.stop()
        if message.token != self._token or message.key != self._key:
            return  # the selection moved on
        self._set_loading(False)
        if message.error is not None:
            if message.extra.get("describe"):  # back to the rows
                self.notify(message.error, severity="warning")
                self.describing = False
                self._render_frame()
                return
            if message.sort is None and self.table is not None:
                self.notify(message.error, severity="warning")
                return
            self.notify(message.error, severity="error")
            self._show_message(f"cannot show this frame: {message.error}")
            return
        if message.sort is None:
            df = message.extra.get("df")
            cache = self._describe_cache if message.extra.get("describe") else self._cache
            cache[id(df)] = (message.backend, message.summary, df)
            while len(cache) > CACHE_SIZE:
                cache.popitem(last=False)
        self._sort = message.sort
        self._mount_table(message.backend, message.summary)

    def _mount_table(self, backend: ArrowBackend, summary: FrameSummary) -> None:
        previous = self.table
        cursor_column = previous.cursor_column if previous is not None and self._sort else 0
        had_focus = previous is not None and previous.has_focus
        self._remove_table()
        self._summary = summary
        self.message = ""
        self._message.display = False
        shape, columns, holder = self._frame_parts()
        hint = self._hint
        if self.describing:
            hint = Text.assemble(("describe", "bold magenta"), (" · ", "dim"), ("d", "bold cyan"), (" rows", "dim"))
            if self._hint is not None:
                hint.append(" · ", style="dim")
                hint.append_text(self._hint)
        text = summary.shape_text(self._lead, hint)
        text.no_wrap, text.overflow = True, "ellipsis"
        shape.update(text)
        shape.display = True
        columns.show(summary)
        columns.display = bool(summary.columns) and not self.describing
        labels: list[str | Text] = []
        for name in backend.columns:
            label = Text(str(name))
            if self._sort is not None and self._sort[0] == name:
                label.append(" ▲" if self._sort[1] == "ascending" else " ▼", style="bold")
            labels.append(label)
        table = ExactDataTable(
            backend=backend, column_labels=labels, max_column_content_width=MAX_COLUMN_WIDTH,
            null_rep=f"[{vf.NULL_STYLE}]{vf.NULL_MARK}[/]", render_markup=False, zebra_stripes=True,
            classes="data-table", justify=dict.fromkeys(RIGHT_COLUMNS, "right") if self.describing else None,
        )
        self._table = table
        holder.mount(table)
        if cursor_column:
            table.call_after_refresh(table.move_cursor, column=cursor_column)
        if had_focus:
            table.focus()

    # -- the row view ----------------------------------------------------------------------------------
    @on(DataTable.CellSelected)
    def _cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.open_row_view(event.coordinate.row, event.coordinate.column)

    def row_fields(self, row: int) -> list[RowField]:
        """Every column of the shown table's `row`: its name, dtype and exact value."""
        table = self.table
        if table is None or not isinstance(table.backend, ArrowBackend):
            return []
        data: pa.Table = table.backend.data
        dtypes = [str(t) for t in data.schema.types]
        summary = self._summary
        if not self.describing and summary is not None and len(summary.columns) == data.num_columns:
            dtypes = [c.dtype for c in summary.columns]
        return [RowField(name, dtype, vf.values(column, row, row + 1)[0])
                for name, dtype, column in zip(data.column_names, dtypes, data.columns, strict=True)]

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
        where = self._origin if not self.describing else f"describe · {self._origin}"
        title = f"row {vf.count(row + 1)} of {vf.count(table.row_count)}" + (f" · {where}" if where else "")
        self.app.push_screen(RowViewScreen(fields, current=column, title=title))
        return True

    # -- sorting ---------------------------------------------------------------------------------------
    @property
    def table(self) -> ExactDataTable | None:
        return self._table

    def action_sort(self) -> None:
        table = self.table
        if table is not None:
            self.sort_by_column(table.cursor_column)

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by_column(event.column_index)

    def sort_by_column(self, index: int) -> None:
        table = self.table
        if table is None or self._key is None or table.backend is None or self.loading_frame:
            return
        columns = list(table.backend.columns)
        if not 0 <= index < len(columns):
            return
        name = columns[index]
        order = "descending" if self._sort == (name, "ascending") else "ascending"
        summary = self._summary
        self._token = next(self._tokens)
        self._set_loading(True)
        self._sort_worker(self._token, self._key, table.backend, summary, name, order)
