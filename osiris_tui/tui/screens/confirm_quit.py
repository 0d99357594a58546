"""ConfirmQuit: asked before quitting while a step runs."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmQuit(ModalScreen[bool]):
    BINDINGS = [
        Binding("y,q", "answer(True)", "Quit", id="osiris.quit.yes"),
        Binding("n,escape", "answer(False)", "Stay", id="osiris.quit.no"),
    ]

    def __init__(self, running_step: str | None) -> None:
        super().__init__()
        self.running_step = running_step

    def compose(self) -> ComposeResult:
        what = f"Step '{self.running_step}' is running." if self.running_step else "A step is running."
        with Vertical(id="quit-dialog") as dialog:
            dialog.border_title = "Quit?"
            yield Static(Text.assemble((what, "bold"), "\nQuitting cancels it. Quit anyway?"), id="quit-text")
            with Horizontal(id="quit-buttons"):
                yield Button("Quit (y)", variant="error", id="quit-yes")
                yield Button("Stay (n)", variant="primary", id="quit-no")

    def on_mount(self) -> None:
        self.query_one("#quit-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "quit-yes")

    def action_answer(self, quit_: bool) -> None:
        self.dismiss(quit_)
