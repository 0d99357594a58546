"""ParamDialog: pick an OML parameter and give it a new value (`P` on the Config tab)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static

from osiris_tui.authoring.parameters import ParamRow
from osiris_tui.secrets import MASK


class ParamDialog(ModalScreen[tuple[str, str] | None]):
    """Dismissed with (name, text) on Enter in the value field, None on Esc."""

    DEFAULT_CSS = """
    ParamDialog {
        align: center middle;
    }
    ParamDialog > #param-dialog {
        width: 64;
        height: auto;
        border: thick $accent;
        border-title-style: bold;
        background: $surface;
        padding: 1 2;
    }
    ParamDialog #param-help {
        color: $text-muted;
        margin-top: 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="osiris.param.cancel"),
    ]

    def __init__(self, rows: Sequence[ParamRow], selected: str | None = None) -> None:
        super().__init__()
        self.rows = {r.name: r for r in rows}
        self.selected = selected if selected in self.rows else next(iter(self.rows), None)

    def compose(self) -> ComposeResult:
        with Vertical(id="param-dialog") as dialog:
            dialog.border_title = "Set a parameter"
            yield Select([(name, name) for name in self.rows], value=self.selected or Select.NULL,
                         allow_blank=False, id="param-name")
            yield Input(self._value_of(self.selected), placeholder="value", id="param-value")
            yield Static(Text("Enter applies (the steps that use it are prepared again and run again) · Esc "
                              "cancels"), id="param-help")

    def _value_of(self, name: str | None) -> str:
        row = self.rows.get(name) if name else None
        if row is None or row.shown == MASK or row.value is None:
            return ""
        return row.shown

    def on_mount(self) -> None:
        self.query_one("#param-value", Input).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.selected = event.value
            self.query_one("#param-value", Input).value = self._value_of(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.selected is not None:
            self.dismiss((self.selected, event.value))

    def action_cancel(self) -> None:
        self.dismiss(None)
