"""Yes/no dialogs: ConfirmStop, asked before an action that cancels the running step (quit, restart),
on the shared `Confirm`."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class Confirm(ModalScreen[bool]):
    """A yes/no question, dismissed with True when the user confirms (`y`, or the first button); `n`
    and Esc answer no. Subclasses say what is asked in `question()`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="osiris.confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="osiris.confirm.no"),
    ]

    def question(self) -> tuple[str, Text, str, str]:
        """(title, text, the yes button's label, the no button's label)."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        title, text, yes, no = self.question()
        with Vertical(id="confirm-dialog") as dialog:
            dialog.border_title = title
            yield Static(text, id="confirm-text")
            with Horizontal(id="confirm-buttons"):
                yield Button(yes, variant="error", id="confirm-yes")
                yield Button(no, variant="primary", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ConfirmStop(Confirm):
    """`ConfirmStop(step, "Quit")`: asked before an action that cancels the running step."""

    def __init__(self, running_step: str | None, verb: str = "Quit") -> None:
        super().__init__()
        self.running_step = running_step
        self.verb = verb

    def question(self) -> tuple[str, Text, str, str]:
        what = f"Step '{self.running_step}' is running." if self.running_step else "A step is running."
        gerund = {"Quit": "Quitting", "Restart": "Restarting"}.get(self.verb, self.verb)
        text = Text.assemble((what, "bold"), f"\n{gerund} cancels it. {self.verb} anyway?")
        return f"{self.verb}?", text, f"{self.verb} (y)", "Stay (n)"


class ConfirmQuit(ConfirmStop):
    """Quit while a step runs: `q` again also confirms."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,q", "answer(True)", "Quit", id="osiris.quit.yes"),
        Binding("n,escape", "answer(False)", "Stay", id="osiris.quit.no"),
    ]

    def __init__(self, running_step: str | None) -> None:
        super().__init__(running_step, "Quit")


class ConfirmRestart(ConfirmStop):
    """Restart while a step runs: `R` again also confirms."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,R", "answer(True)", "Restart", id="osiris.restart.yes"),
        Binding("n,escape", "answer(False)", "Stay", id="osiris.restart.no"),
    ]

    def __init__(self, running_step: str | None) -> None:
        super().__init__(running_step, "Restart")
