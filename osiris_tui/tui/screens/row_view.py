"""RowViewScreen (Enter on a Data table cell): every column of one row, in full.

One line (or more: values wrap) per column: its name, its dtype and its value, written by
`osiris_tui.frames.format` exactly as the table's cells are but never cut, line breaks kept, NULL as the
dim `∅`. The cursor's column is highlighted; ↑/↓ move it. `y` copies that value as plain text, `Y` the
whole row as JSON (Decimals as strings, timestamps ISO 8601 with every digit, NULL as null), through
`App.copy_to_clipboard`. Esc or q closes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from osiris_tui.frames import format as vf

NAME_WIDTH_MAX = 32
DTYPE_WIDTH_MAX = 28
VALUE_LIMIT = 100_000  # characters of one value shown (a copy always takes all of it)


@dataclass(frozen=True)
class RowField:
    name: str
    dtype: str
    value: Any


class RowViewScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    RowViewScreen {
        align: center middle;
    }
    #row-body {
        width: 92%;
        max-width: 140;
        height: auto;
        max-height: 90%;
        border: round $primary;
        border-title-style: bold;
        background: $surface;
        padding: 0 1;
    }
    RowViewScreen .row-field {
        height: auto;
    }
    RowViewScreen .row-field.-current {
        background: $accent 35%;
    }
    """

    BINDINGS = [
        Binding("escape,q", "close", "Close", id="osiris.row.close"),
        Binding("y", "copy_value", "Copy value", id="osiris.row.copy_value"),
        Binding("Y", "copy_row", "Copy row as JSON", id="osiris.row.copy_row"),
        Binding("up", "move(-1)", "Previous column", show=False, id="osiris.row.up"),
        Binding("down", "move(1)", "Next column", show=False, id="osiris.row.down"),
        Binding("home", "move_to(0)", "First column", show=False, id="osiris.row.home"),
        Binding("end", "move_to(-1)", "Last column", show=False, id="osiris.row.end"),
    ]

    def __init__(self, fields: Sequence[RowField], current: int = 0, title: str = "") -> None:
        super().__init__()
        self.fields = list(fields)
        self.current = max(0, min(current, len(self.fields) - 1))
        self.title_text = title
        self._name_width = min(NAME_WIDTH_MAX, max((len(f.name) for f in self.fields), default=4))
        self._dtype_width = min(DTYPE_WIDTH_MAX, max((len(f.dtype) for f in self.fields), default=4))
        self._lines: list[Static] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="row-body") as body:
            body.border_title = self.title_text or "row"
            body.border_subtitle = "↑↓ column · y copy value · Y copy row as JSON · Esc close"
            for i, field in enumerate(self.fields):
                line = Static(self.field_table(field), classes="row-field" + (" -current" if i == self.current else ""))
                self._lines.append(line)
                yield line

    def on_mount(self) -> None:
        if self._lines:
            self.call_after_refresh(self._lines[self.current].scroll_visible, animate=False)

    def field_table(self, field: RowField) -> Table:
        grid = Table.grid(padding=(0, 2), expand=True)
        grid.add_column(width=self._name_width, no_wrap=True, overflow="ellipsis", style="bold")
        grid.add_column(width=self._dtype_width, no_wrap=True, overflow="ellipsis", style="cyan")
        grid.add_column(ratio=1, overflow="fold")
        value = vf.styled(field.value, one_line=False, limit=VALUE_LIMIT, justify="left")
        value.overflow = "fold"
        grid.add_row(Text(field.name), Text(field.dtype), value)
        return grid

    @property
    def field(self) -> RowField | None:
        return self.fields[self.current] if self.fields else None

    def action_move(self, delta: int) -> None:
        self.action_move_to(self.current + delta)

    def action_move_to(self, index: int) -> None:
        if not self.fields:
            return
        if index < 0:
            index = len(self.fields) + index
        index = max(0, min(index, len(self.fields) - 1))
        self._lines[self.current].remove_class("-current")
        self.current = index
        self._lines[index].add_class("-current")
        self._lines[index].scroll_visible(animate=False)

    def value_text(self) -> str:
        """What `y` copies: the current column's value as plain text."""
        field = self.field
        return "" if field is None else vf.plain(field.value)

    def row_text(self) -> str:
        """What `Y` copies: the row as a JSON object."""
        return vf.row_json([f.name for f in self.fields], [f.value for f in self.fields])

    def action_copy_value(self) -> None:
        field = self.field
        if field is None:
            return
        self.app.copy_to_clipboard(self.value_text())
        what = "NULL" if vf.is_null(field.value) else f"{vf.plural(len(self.value_text()), 'character')}"
        self.notify(f"copied {field.name} ({what})", timeout=3)

    def action_copy_row(self) -> None:
        self.app.copy_to_clipboard(self.row_text())
        self.notify(f"copied the row as JSON ({vf.plural(len(self.fields), 'column')})", timeout=3)

    def action_close(self) -> None:
        self.dismiss(None)
