"""The frame header of the Data tab: which frame is shown, its shape, its columns, and the filter banner.

`frame_lead` writes the lead line ("not run yet — input df_orders of revenue · 5,000 rows · from
extract-orders · 1/2"), `FrameSummary.shape_text` the shape line ("5,000 rows x 6 columns · 117 KB"),
`ColumnsLine` the columns with their dtypes and null counts (wrapped over a few lines, the rest as
"… +N more"), and `filter_banner` the line a filter puts above the table ("1,234 of 5,000,000 rows
match · where amount > 100").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from osiris_tui.frames import format as vf
from osiris_tui.runtime.session import StepState
from osiris_tui.tui import format as fmt
from osiris_tui.tui.widgets.data.frames import FrameRef

COLUMN_LINES = 3  # the dtype line wraps over at most this many lines (#data-columns' max-height)


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


def summarize(table: pa.Table, origin: str, dtypes: Sequence[str] | None = None) -> FrameSummary:
    """The frame's shape and columns: each one's dtype (the pandas one when given, else Arrow's) and
    null count (Arrow keeps it: nothing is scanned)."""
    columns = [ColumnInfo(name, dtypes[i] if dtypes else str(table.schema.field(i).type),
                          table.column(i).null_count) for i, name in enumerate(table.column_names)]
    return FrameSummary(table.num_rows, columns, table.nbytes, origin)


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


def frame_lead(frame: FrameRef, state: StepState, index: int, count: int, missing: Sequence[str]) -> Text:
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


def filter_banner(shown: int, total: int, where: str) -> Text:
    """`1,234 of 5,000,000 rows match · where amount > 100 · w edit · Esc clear`."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(vf.count(shown), style="bold")
    text.append(f" of {vf.count(total)} rows match · ")
    text.append("where ", style="bold magenta")
    text.append(where)
    text.append(" · w edit · Esc clear", style="dim")
    return text
