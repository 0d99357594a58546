"""The modes of the Data tab's table: what it shows of the frame.

- `rows`: the frame's rows (filtered and sorted, pinned key columns on the left), a page at a time;
- `describe` (`d`): one row per column of the frame, every statistic at its full width;
- `frequency` (`F`): the value counts of one column; Enter on a value filters the frame to it.

Each mode is laid out as a `ModeTable` (the backend, the column labels and how they are cut and
aligned, and the hint the header shows for it); `build_table` turns one into the table widget, and
`show_in` swaps one into the table already shown. A new mode is a name in `Mode`, a `ModeTable`
builder here, and a branch in `DataView._mode_table`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa
from rich.text import Text

from osiris_tui.frames import format as vf
from osiris_tui.frames.view import FrameView
from osiris_tui.tui.widgets.data.frames import OpenedFrame
from osiris_tui.tui.widgets.data.frequency_view import COUNT_COLUMNS as FREQUENCY_COUNTS
from osiris_tui.tui.widgets.data.frequency_view import all_once
from osiris_tui.tui.widgets.data.table import (
    MAX_COLUMN_WIDTH,
    WIDE_LIMIT,
    ExactDataTable,
    PresizedArrowBackend,
    ViewBackend,
    measure_widths,
)
from osiris_tui.tui.widgets.describe import COUNT_COLUMNS as DESCRIBE_COUNTS
from osiris_tui.tui.widgets.describe import RIGHT_COLUMNS

Mode = Literal["rows", "describe", "frequency"]
KEY_STYLE = "bold underline"  # a pinned key column's label


@dataclass(frozen=True)
class ModeTable:
    """What a mode puts in the table."""

    backend: ViewBackend | PresizedArrowBackend
    labels: list[str | Text]
    hint: Text | None = None  # the mode's part of the shape line ("describe · d rows")
    justify: dict[str, vf.Justify] | None = None
    wide: list[int] = field(default_factory=list)  # columns not cut at the cap
    widened: dict[int, int] = field(default_factory=dict)  # a wide column's content width, when measured
    fixed: int = 0  # pinned columns on the left
    max_width: int | None = MAX_COLUMN_WIDTH
    keeps_cursor: bool = False  # the cursor stays where it was when this layout replaces the last
    shows_columns: bool = False  # the columns line (names and dtypes) is shown above


def mode_hint(word: str, key: str, back: str) -> Text:
    """`describe · d rows`, `frequency of status · Enter filters · Esc back`."""
    return Text.assemble((word, "bold magenta"), (" · ", "dim"), (key, "bold cyan"), (back, "dim"))


def rows_table(view: FrameView, info: OpenedFrame, pinned: Sequence[int], wide: Collection[int]) -> ModeTable:
    """The frame's rows: pinned columns first (in the order pinned), the sort marked on its label."""
    count = view.table.num_columns
    order = list(pinned) + [i for i in range(count) if i not in pinned]
    backend = ViewBackend(view, info.widths, order, info.dates)
    labels: list[str | Text] = []
    widened: dict[int, int] = {}
    for display, source in enumerate(order):
        name = backend.columns[display]
        label = Text(str(name), style=KEY_STYLE if source in pinned else "")
        if view.sort is not None and view.sort[0] == name:
            label.append(" ▲" if view.sort[1] == "ascending" else " ▼", style="bold")
        labels.append(label)
        if source in wide:
            widened[display] = (info.content_width(source) if view.table is info.table
                                else vf.measure(view.table.column(source), limit=WIDE_LIMIT))
    return ModeTable(backend, labels, wide=list(widened), widened=widened, fixed=len(pinned),
                     keeps_cursor=True, shows_columns=True)


def describe_table(described: pa.Table) -> ModeTable:
    """The Describe summary, every statistic in full: measured uncut, the view scrolls sideways."""
    widths = measure_widths(described, limit=WIDE_LIMIT, counts=DESCRIBE_COUNTS)
    backend = PresizedArrowBackend(described, widths, counts=DESCRIBE_COUNTS)
    labels: list[str | Text] = [Text(str(name)) for name in backend.columns]
    return ModeTable(backend, labels, mode_hint("describe", "d", " rows"),
                     justify=dict.fromkeys(RIGHT_COLUMNS, "right"), wide=list(range(len(labels))), max_width=None)


def frequency_mode_table(counted: pa.Table, column: str) -> ModeTable:
    """The value counts of `column` (`frequency_view.frequency_table`); when every value occurs once,
    the hint says so ("10,000,000 distinct, each once"). Measured here: made in the worker that counted."""
    backend = PresizedArrowBackend(counted, measure_widths(counted, counts=FREQUENCY_COUNTS), counts=FREQUENCY_COUNTS)
    labels: list[str | Text] = [Text(str(name)) for name in backend.columns]
    word = f"frequency of {column}"
    if all_once(counted):
        word += f" · {vf.count(counted.num_rows)} distinct, each once"
    return ModeTable(backend, labels, mode_hint(word, "", "Enter filters · Esc back"))


def build_table(spec: ModeTable) -> ExactDataTable:
    """The table widget for a mode's layout (not mounted)."""
    table = ExactDataTable(
        backend=spec.backend, column_labels=spec.labels, max_column_content_width=spec.max_width,
        null_rep=f"[{vf.NULL_STYLE}]{vf.NULL_MARK}[/]", render_markup=False, zebra_stripes=True,
        classes="data-table", justify=spec.justify, wide=spec.wide, fixed_columns=spec.fixed,
    )
    for display, width in spec.widened.items():
        table.widen(display, width)
    return table


def show_in(table: ExactDataTable, spec: ModeTable) -> None:
    """Swap a mode's layout into the table shown (kept: as `build_table` would make it)."""
    table.replace(spec.backend, spec.labels, max_column_content_width=spec.max_width, justify=spec.justify,
                  wide=spec.wide, fixed_columns=spec.fixed, widened=spec.widened)
