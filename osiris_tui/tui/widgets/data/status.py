"""The Data tab's status line: `row 37 of 5,000 · col amount (3/7) · match 3 of 120`, and what runs."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from osiris_tui.frames import format as vf
from osiris_tui.tui.widgets.data.operations import LABELS
from osiris_tui.tui.widgets.data.search_state import SearchState
from osiris_tui.tui.widgets.data.table import ExactDataTable


class StatusLine(Static):
    """`row 37 of 5,000 · col amount (3/7) · match 3 of 120`, and what runs."""

    DEFAULT_CSS = "StatusLine { height: 1; padding: 0 1; }"


def status_text(table: ExactDataTable | None, search: SearchState | None, running: str | None) -> Text:
    """The cursor's place in `table`, the search's match (when given) and the operation in flight."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if table is not None and table.backend is not None:
        rows, cols = table.row_count, table.column_count
        text.append(f"row {vf.count(table.cursor_row + 1 if rows else 0)} of {vf.count(rows)}")
        if cols:
            name = table.backend.columns[table.cursor_column] if table.cursor_column < cols else ""
            text.append(" · col ")
            text.append(str(name), style="bold")
            text.append(f" ({table.cursor_column + 1}/{cols})")
    if search is not None:
        text.append(" · ")
        if len(search.matches):
            shown = (search.index or 0) + 1
            text.append(f"match {vf.count(shown)} of {vf.count(len(search.matches))}", style="bold cyan")
        else:
            text.append("no match", style="bold yellow")
        text.append(f" for {search.query.describe(search.column)}", style="dim")
    if running is not None:
        text.append(" · ")
        text.append(f"{LABELS.get(running, running)}…", style="bold yellow")
        text.append(" Esc abandons", style="dim")
    return text
