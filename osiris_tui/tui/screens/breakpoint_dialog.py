"""BreakpointDialog: set or edit one step's breakpoint (before/after, condition, enabled, ignore count).

The condition is checked by DuckDB as it is typed, off the UI thread, against the frame it will be
tested on (the step's output after it, its first input before it) when that frame is there, else for
its syntax only. An error is shown with a caret under where DuckDB points; Save is refused until the
condition is valid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Static

from osiris_tui.runtime.breakpoints import Breakpoint, ConditionError, When, check_condition
from osiris_tui.tui.screen_guard import screen_text

if TYPE_CHECKING:
    import pyarrow as pa

REMOVE = "remove"  # what the dialog is dismissed with when the breakpoint is removed


class BreakpointDialog(ModalScreen[Breakpoint | str | None]):
    """`BreakpointDialog(step_id, current, frames)`: dismissed with the new Breakpoint, REMOVE, or None.

    `frames` gives the table a condition is checked against for `"before"` / `"after"` (None: not there).
    """

    DEFAULT_CSS = """
    BreakpointDialog { align: center middle; }
    #bp-dialog {
        width: 72; height: auto; max-height: 100%;
        border: thick $accent; border-title-style: bold; background: $surface; padding: 0 2;
    }
    #bp-dialog Label { margin-top: 1; }
    #bp-when { width: 100%; height: auto; layout: horizontal; border: none; padding: 0; }
    #bp-when RadioButton { width: auto; margin-right: 2; }
    #bp-condition-status { height: auto; min-height: 1; }
    #bp-row { height: auto; margin-top: 1; }
    #bp-row Input { width: 12; }
    #bp-row Label { margin: 1 1 0 0; }
    #bp-row Checkbox { margin: 0 0 0 4; border: none; height: 3; padding: 1 0 0 0; }
    #bp-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    #bp-buttons Button { margin-left: 2; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="osiris.breakpoint.cancel"),
        Binding("ctrl+s", "save", "Save", id="osiris.breakpoint.save"),
    ]

    def __init__(self, step_id: str, current: Breakpoint | None,
                 frames: dict[str, pa.Table | None], hits: int = 0) -> None:
        super().__init__()
        self.step_id = step_id
        self.current = current
        self.frames = frames
        self.hits = hits
        self.error: ConditionError | None = None
        self.checked: str | None = None  # the condition (and side) the status line is about

    def compose(self) -> ComposeResult:
        bp = self.current or Breakpoint(self.step_id)
        with Vertical(id="bp-dialog") as dialog:
            dialog.border_title = f"Breakpoint on {screen_text(self.step_id)}"
            dialog.border_subtitle = "Enter saves · Esc cancels"
            with RadioSet(id="bp-when"):
                yield RadioButton("before the step (its first input)", value=bp.when == "before", id="bp-before")
                yield RadioButton("after it (its output)", value=bp.when == "after", id="bp-after")
            yield Label("Stop only if (a DuckDB condition over the frame; empty: always)")
            yield Input(bp.condition or "", placeholder="e.g. count(*) = 0   or   max(amount) > 1e6",
                        id="bp-condition")
            yield Static("", id="bp-condition-status")
            with Horizontal(id="bp-row"):
                yield Label("Ignore the first")
                yield Input(str(bp.ignore_count), type="integer", id="bp-ignore")
                yield Label("hits" + (f" (hit {self.hits} so far)" if self.hits else ""))
                yield Checkbox("enabled", bp.enabled, id="bp-enabled")
            with Horizontal(id="bp-buttons"):
                if self.current is not None:
                    yield Button("Remove", variant="error", id="bp-remove")
                yield Button("Cancel", id="bp-cancel")
                yield Button("Save", variant="primary", id="bp-save")

    def on_mount(self) -> None:
        self.query_one("#bp-condition", Input).focus()
        self._check()

    # -- values ---------------------------------------------------------------------------------------
    @property
    def when(self) -> When:
        return "after" if self.query_one("#bp-after", RadioButton).value else "before"

    @property
    def condition(self) -> str:
        return self.query_one("#bp-condition", Input).value.strip()

    def breakpoint(self) -> Breakpoint | None:
        """The breakpoint as filled in, or None while something in it is not valid."""
        text = self.query_one("#bp-ignore", Input).value.strip() or "0"
        if not text.isdigit():
            return None
        if self.condition and (self.error is not None or self.checked != self._key()):
            return None
        return Breakpoint(self.step_id, self.when, self.condition or None,
                          self.query_one("#bp-enabled", Checkbox).value, int(text))

    def _key(self) -> str:
        return f"{self.when}\0{self.condition}"

    # -- checking the condition (in a thread) -----------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "bp-condition":
            self._check()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self._check()

    def _check(self) -> None:
        condition, key = self.condition, self._key()
        if not condition:
            self._show(key, None, "no condition: stops every time")
            return
        self._validate(condition, key, self.frames.get(self.when))

    @work(thread=True, exclusive=True, group="breakpoint-check")
    def _validate(self, condition: str, key: str, table: pa.Table | None) -> None:
        try:
            check_condition(condition, table)
        except ConditionError as exc:
            self.app.call_from_thread(self._show, key, exc, condition)
            return
        note = "valid" if table is not None else "valid SQL (its columns are checked when the step runs)"
        self.app.call_from_thread(self._show, key, None, note)

    def _show(self, key: str, error: ConditionError | None, note: str) -> None:
        if key != self._key():  # typed on since
            return
        self.checked, self.error = key, error
        status = self.query_one("#bp-condition-status", Static)
        if error is None:
            status.update(Text(f"✓ {note}", style="green"))
            return
        parts = []
        if error.position is not None:  # the condition again, with a caret under where DuckDB points
            echo = Text(screen_text(note), style="bold", no_wrap=True, overflow="ellipsis")
            echo.stylize("reverse red", error.position, error.position + 1)
            parts += [echo, Text(" " * error.position + "^", style="bold red", no_wrap=True)]
        parts.append(Text(screen_text(error.message), style="red"))
        status.update(Group(*parts))

    # -- buttons --------------------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "bp-save":
            self.action_save()
        elif event.button.id == "bp-remove":
            self.dismiss(REMOVE)
        else:
            self.dismiss(None)

    def action_save(self) -> None:
        bp = self.breakpoint()
        if bp is None:
            self.app.notify("Fix the condition or the ignore count first", severity="warning", timeout=3)
            return
        self.dismiss(bp)

    def action_cancel(self) -> None:
        self.dismiss(None)
