"""The export dialog (`ctrl+e` on the Data tab): where to write the frame as shown (filtered and sorted).

The format follows the path's extension: `.csv`, `.parquet` or `.jsonl`. Enter writes, Esc cancels; the
Data view writes in a thread worker and reports the path and the row count in a toast.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

FORMATS = (".csv", ".parquet", ".jsonl")


def format_error(path: str) -> str | None:
    """Why `path` cannot be written to (None: it can be tried)."""
    if not path.strip():
        return "type a path"
    if Path(path).suffix.lower() not in FORMATS:
        return "the path must end in .csv, .parquet or .jsonl"
    return None


class ExportScreen(ModalScreen[Path | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="osiris.export.cancel"),
    ]

    def __init__(self, default: Path, what: str) -> None:
        super().__init__()
        self.default = default
        self.what = what  # "1,234 rows of output of revenue (where …, sorted by …)"
        self.input = Input(str(default), id="export-path")
        self.error = Static("", id="export-error")

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog") as dialog:
            dialog.border_title = "Export"
            dialog.border_subtitle = "Enter write · Esc cancel"
            yield Static(self.what, id="export-what")
            yield self.input
            yield Static("format by extension: .csv, .parquet or .jsonl", id="export-hint")
            yield self.error

    def on_mount(self) -> None:
        self.input.focus()
        self.input.cursor_position = len(self.input.value)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        problem = format_error(event.value)
        if problem is not None:
            self.error.update(problem)
            return
        self.dismiss(Path(event.value.strip()).expanduser())

    def action_cancel(self) -> None:
        self.dismiss(None)
