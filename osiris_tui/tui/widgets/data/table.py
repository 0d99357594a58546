"""The Data tab's table: a textual-fastdatatable `DataTable` whose cells read as `frames.format` writes them.

Two backends feed it. `ViewBackend` shows a `FrameView` (a frame, maybe filtered and sorted, in display
order): rows are fetched a page at a time with `view.rows(start, stop)` as they come on screen, so a
10M-row frame costs what a screenful does and a view never copies the frame. `PresizedArrowBackend`
holds a small Arrow table of its own (Describe's summary, a frequency table). Both answer
`column_slice(column, start, stop)`, the one call the table's cells, tooltip and row view read with.

Column widths are measured, as the cells are written, on a sample of each column (`frames.format.measure`),
off the UI thread; a value wider than its column ends in `…`, unless the column is widened (`_`). The
first `fixed_columns` columns are the pinned key columns (`!`), styled as such and kept on the left.

The Data tab keeps one table widget: a new view (sorted, filtered, another mode) is swapped in with
`ExactDataTable.replace`, which leaves the table as a new one built with the same arguments would be,
without the unmount and mount (and their restyle and relayout) on the UI thread.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Literal

import pyarrow as pa
import pyarrow.compute as pc
from rich.console import RenderableType
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual_fastdatatable import ArrowBackend
from textual_fastdatatable.backend import DataTableBackend
from textual_fastdatatable.column import Column
from textual_fastdatatable.data_table import DataTable

from osiris_tui.frames import format as vf
from osiris_tui.frames.view import FrameView

MAX_COLUMN_WIDTH = 40
CELL_LIMIT = MAX_COLUMN_WIDTH + 1  # characters a cell is given: one more than fits, so a cut one shows `…`
WIDE_LIMIT = 1000  # a widened column (`_`) still stops somewhere
PAGE_ROWS = 64  # rows fetched from the view, and cells formatted, this many at a time
TOOLTIP_LIMIT = 2000


DATE_WIDTH = len("2024-01-06")


def date_columns(table: pa.Table) -> frozenset[int]:
    """The timestamp columns shown as dates (`frames.format.date_only`): a sample is checked first, so
    only a column that looks like dates is read whole."""
    found = set()
    for i, column in enumerate(table.columns):
        if pa.types.is_timestamp(column.type) and column.type.tz is None and len(column):
            rows = vf.sample_rows(len(column))
            if vf.date_only(column.take(pa.array(rows, pa.int64()))) and vf.date_only(column):
                found.add(i)
    return frozenset(found)


def measure_widths(table: pa.Table, limit: int | None = CELL_LIMIT, counts: Collection[str] = (),
                   dates: Collection[int] = ()) -> list[int]:
    """Each column's width in cells, as `frames.format` writes it, from a sample (never the whole column)."""
    return [DATE_WIDTH if i in dates else vf.measure(column, limit=limit, thousands=name in counts)
            for i, (name, column) in enumerate(zip(table.column_names, table.columns, strict=True))]


class PresizedArrowBackend(ArrowBackend):
    """An ArrowBackend over a small table of its own, its column widths measured as `frames.format`
    writes the cells, on a sample, or given. `counts` names the columns shown with thousands separators."""

    def __init__(self, data: pa.Table, widths: Sequence[int] | None = None,
                 counts: Collection[str] = ()) -> None:
        super().__init__(data)
        self._preset_widths = list(widths) if widths is not None else None
        self.counts = frozenset(counts)
        self.render_markup = False  # values are data, never markup

    @property
    def column_content_widths(self) -> list[int]:
        if self._preset_widths is None:
            self._preset_widths = measure_widths(self.data, counts=self.counts)
        return self._preset_widths

    def column_slice(self, column: int, start: int, stop: int) -> pa.ChunkedArray:
        return self.data.column(column).slice(start, max(0, stop - start))

    def column_name(self, column: int) -> str:
        return str(self.data.column_names[column])


class ViewBackend(DataTableBackend[pa.Table]):
    """A read-only backend over a `FrameView`: rows come from `view.rows(start, stop)` a page at a time.

    `order` maps the table's columns to the frame's (pinned key columns first); `widths` are the frame's
    column widths, in the frame's order (measured once per frame, kept across filters and sorts).
    """

    def __init__(self, view: FrameView, widths: Sequence[int], order: Sequence[int] | None = None,
                 dates: Collection[int] = ()) -> None:
        self._render_markup: bool | None = False
        self.view = view
        self.dates = frozenset(dates)  # table columns shown as dates
        names = list(view.table.column_names)
        self.order = list(order) if order is not None else list(range(len(names)))
        self._names = [names[i] for i in self.order]
        self._widths = [widths[i] for i in self.order]
        self._pages: LRUCache[int, pa.Table] = LRUCache(32)
        self.counts: frozenset[str] = frozenset()

    # -- what the table reads --------------------------------------------------------------------------
    def page(self, page: int) -> pa.Table:
        rows = self._pages.get(page)
        if rows is None:
            rows = self.view.rows(page * PAGE_ROWS, (page + 1) * PAGE_ROWS)
            self._pages[page] = rows
        return rows

    def column_slice(self, column: int, start: int, stop: int) -> pa.ChunkedArray | pa.Array:
        """Display rows `start:stop` of table column `column` (within one page, or fetched for the range)."""
        first, last = start // PAGE_ROWS, max(start, stop - 1) // PAGE_ROWS
        source = self.order[column]
        if first == last:
            offset = first * PAGE_ROWS
            cells = self.page(first).column(source).slice(start - offset, max(0, stop - start))
        else:
            cells = self.view.rows(start, stop).column(source)
        return pc.cast(cells, pa.date32()) if source in self.dates else cells

    def column_name(self, column: int) -> str:
        return self._names[column]

    @property
    def source_data(self) -> pa.Table:
        return self.view.table

    @property
    def source_row_count(self) -> int:
        return self.view.num_rows

    @property
    def row_count(self) -> int:
        return self.view.num_rows

    @property
    def column_count(self) -> int:
        return len(self._names)

    @property
    def columns(self) -> Sequence[str]:
        return self._names

    @property
    def column_content_widths(self) -> list[int]:
        return self._widths

    def get_row_at(self, index: int) -> Sequence[Any]:
        return [vf.values(self.column_slice(c, index, index + 1))[0] for c in range(len(self._names))]

    def get_column_at(self, index: int) -> Sequence[Any]:
        # the whole column, in display order: only for a copy of a selection, never for rendering
        return vf.values(self.view.materialize().column(self.order[index]))

    def get_cell_at(self, row_index: int, column_index: int) -> Any:
        return vf.values(self.column_slice(column_index, row_index, row_index + 1))[0]

    # -- a view is read-only ---------------------------------------------------------------------------
    @classmethod
    def from_pydict(cls, data: Mapping[str, Sequence[Any]], max_rows: int | None = None,
                    column_names: Sequence[str] | None = None) -> ViewBackend:
        return cls(FrameView.of(pa.table(dict(data))), [0] * len(data))

    def append_column(self, label: str, default: Any | None = None) -> int:
        raise NotImplementedError("a frame view is read-only")

    def append_rows(self, records: Iterable[Iterable[Any]]) -> list[int]:
        raise NotImplementedError("a frame view is read-only")

    def drop_row(self, row_index: int) -> None:
        raise NotImplementedError("a frame view is read-only")

    def update_cell(self, row_index: int, column_index: int, value: Any) -> None:
        raise NotImplementedError("a frame view is read-only")

    def sort(self, by: list[tuple[str, Literal["ascending", "descending"]]] | str) -> None:
        raise NotImplementedError("sorted by the Data view, off the UI thread (FrameView.sorted)")


Backend = ViewBackend | PresizedArrowBackend


class ExactDataTable(DataTable):
    """A fastdatatable `DataTable` whose cells read as `osiris_tui.frames.format` writes them.

    Only turning a value into a renderable changes: a page of `PAGE_ROWS` rows of one column at a time,
    from the backend's `column_slice`, so only what comes on screen is ever formatted. `justify` aligns
    named columns (by default by their type); the backend's `counts` columns get thousands separators;
    `wide` columns (by index) are not cut at `CELL_LIMIT`.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="osiris.table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="osiris.table.up"),
        Binding("h", "cursor_left", "Left", show=False, id="osiris.table.left"),
        Binding("l", "cursor_right", "Right", show=False, id="osiris.table.right"),
        Binding("g", "first_row", "First row", show=False, id="osiris.table.first"),
        Binding("G", "last_row", "Last row", show=False, id="osiris.table.last"),
    ]

    def __init__(self, *, justify: Mapping[str, vf.Justify] | None = None, wide: Collection[int] = (),
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.justify = dict(justify or {})
        self.wide = frozenset(wide)
        self._pages: LRUCache[tuple[int, int], list[Text]] = LRUCache(512)
        self._wide_widths: dict[int, int] = {}

    def widen(self, column_index: int, width: int) -> None:
        """Before mounting (or in `replace`): the column is as wide as `width` (its content), past the cap."""
        self._wide_widths[column_index] = width

    def replace(self, backend: Backend, column_labels: Sequence[str | Text], *, max_column_content_width: int | None,
                justify: Mapping[str, vf.Justify] | None = None, wide: Collection[int] = (), fixed_columns: int = 0,
                widened: Mapping[int, int] | None = None) -> None:
        """Show `backend` instead, as a table made with these arguments would: columns measured afresh,
        the cursor on the first cell, scrolled home, every cache dropped."""
        backend.render_markup = self.render_markup
        self.backend = backend
        self._column_labels = list(column_labels)
        self._column_widths = None
        self.max_column_content_width = max_column_content_width
        self.justify = dict(justify or {})
        self.wide = frozenset(wide)
        self._wide_widths = dict(widened or {})
        self._ordered_columns = None
        self._pages.clear()
        self._update_count += 1
        self._clear_caches()
        self.tooltip = None
        self._show_hover_cursor = False
        # as a new table has them, without the watchers' messages about the old backend's cells
        self.set_reactive(DataTable.cursor_coordinate, Coordinate(0, 0))
        self.set_reactive(DataTable.hover_coordinate, Coordinate(0, 0))
        self.set_reactive(DataTable.selection_anchor_coordinate, None)
        self.fixed_columns = fixed_columns
        self.scroll_to(0, 0, animate=False, immediate=True)
        self._require_update_dimensions = False
        self._update_dimensions([])  # the virtual size, for the new columns and rows
        self.refresh()

    @property
    def ordered_columns(self) -> list[Column]:
        fresh = self._ordered_columns is None
        columns: list[Column] = super().ordered_columns
        if fresh:
            for index, width in self._wide_widths.items():
                if 0 <= index < len(columns):
                    columns[index].max_content_width = None
                    columns[index].content_width = max(columns[index].content_width, width)
        return columns

    def action_first_row(self) -> None:
        self.move_cursor(row=0)

    def action_last_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)

    @property
    def data_backend(self) -> Backend | None:
        backend = self.backend
        return backend if isinstance(backend, ViewBackend | PresizedArrowBackend) else None

    def limit(self, column_index: int) -> int:
        return WIDE_LIMIT if column_index in self.wide else CELL_LIMIT

    def cell_text(self, row_index: int, column_index: int) -> Text:
        """The cell's formatted text (one line, cut at its column's limit)."""
        backend = self.data_backend
        assert backend is not None
        page = row_index // PAGE_ROWS
        key = (column_index, page)
        cells = self._pages.get(key)
        if cells is None:
            name = backend.column_name(column_index)
            start, stop = page * PAGE_ROWS, min((page + 1) * PAGE_ROWS, backend.row_count)
            cells = vf.styled_cells(backend.column_slice(column_index, start, stop), 0, stop - start,
                                    limit=self.limit(column_index), thousands=name in backend.counts,
                                    justify=self.justify.get(name))
            self._pages[key] = cells
        return cells[row_index - page * PAGE_ROWS]

    def value_at(self, row_index: int, column_index: int) -> Any:
        """The exact value of a cell (as `frames.format.values` reads it)."""
        backend = self.data_backend
        assert backend is not None
        return vf.values(backend.column_slice(column_index, row_index, row_index + 1))[0]

    # Deliberately overrides textual-fastdatatable's private `DataTable._get_cell_renderable` (same
    # signature): the one call its render path makes to turn a data cell into a renderable.
    def _get_cell_renderable(self, row_index: int, column_index: int,
                             max_width: int | None = None) -> RenderableType | Text:
        if row_index < 0 or self.data_backend is None:
            return super()._get_cell_renderable(row_index, column_index, max_width)
        return self.cell_text(row_index, column_index)

    # Deliberately overrides textual-fastdatatable's private `DataTable._set_tooltip_from_cell_at`, so a
    # tooltip shows the value as the cells and the row view do: in full, only for a value its cell cuts.
    def _set_tooltip_from_cell_at(self, coordinate: Coordinate) -> None:
        if coordinate.row < 0 or self.data_backend is None or not self.is_valid_coordinate(coordinate):
            super()._set_tooltip_from_cell_at(coordinate)
            return
        column = self.ordered_columns[coordinate.column]
        value = self.value_at(coordinate.row, coordinate.column)
        shown = self.cell_text(coordinate.row, coordinate.column)
        cut = shown.cell_len > column.render_width - 2 or shown.plain != vf.plain(value)
        self.tooltip = vf.styled(value, one_line=False, limit=TOOLTIP_LIMIT) if cut and not vf.is_null(value) else None
