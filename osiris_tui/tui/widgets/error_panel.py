"""ErrorPanel: the failed step's error and traceback (masked), and what to do next."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from osiris_tui.runtime.secrets import mask_text
from osiris_tui.runtime.session import StepState, StepStatus
from osiris_tui.tui import format as fmt

HINT = "edit the config, press r to re-run, then c to continue"


class ErrorPanel(Vertical):
    """Hidden unless the selected step failed; docked under the tabs."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.step_id: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="error-message")
        yield Static(Text.assemble(("hint: ", "bold"), HINT), id="error-hint")
        with VerticalScroll(id="error-traceback-scroll"):
            yield Static(id="error-traceback")

    def show_status(self, status: StepStatus | None) -> None:
        if status is None or status.state is not StepState.FAILED:
            self.step_id = None
            self.display = False
            return
        self.step_id = status.step_id
        self.border_title = f"✗ step '{status.step_id}' failed"
        message = mask_text(status.error or "failed")
        self.query_one("#error-message", Static).update(Text(message, style="red"))
        tb = fmt.traceback(mask_text(status.traceback or "")).rstrip()
        scroll = self.query_one("#error-traceback-scroll", VerticalScroll)
        scroll.display = bool(tb) and tb != message
        self.query_one("#error-traceback", Static).update(Text(tb, style="dim"))
        self.display = True
        scroll.scroll_end(animate=False)

    @property
    def message_text(self) -> str:
        return str(self.query_one("#error-message", Static).render())
