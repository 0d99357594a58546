"""ErrorPanel: the failed step's error and traceback (masked by the session and the screen guard), and what to do
next."""

from __future__ import annotations

from rich.text import Text
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from osiris_tui.runtime.session import StepState, StepStatus
from osiris_tui.tui import format as fmt

HINT = "edit the config, press r to re-run, then c to continue"


class ErrorPanel(Vertical):
    """Hidden unless the selected step failed; docked under the tabs. Its parts are built the first
    time a failure is shown (most sessions never need them, and startup is faster without)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.step_id: str | None = None
        self._message: Static | None = None
        self._scroll: VerticalScroll | None = None
        self._traceback: Static | None = None

    def _build(self) -> tuple[Static, VerticalScroll, Static]:
        if self._message is None or self._scroll is None or self._traceback is None:
            self._message = Static(id="error-message")
            self._traceback = Static(id="error-traceback")
            self._scroll = VerticalScroll(self._traceback, id="error-traceback-scroll")
            self.mount(self._message, Static(Text.assemble(("hint: ", "bold"), HINT), id="error-hint"),
                       self._scroll)
        return self._message, self._scroll, self._traceback

    def show_status(self, status: StepStatus | None) -> None:
        if status is None or status.state is not StepState.FAILED:
            self.step_id = None
            self.display = False
            return
        message_widget, scroll, traceback = self._build()
        self.step_id = status.step_id
        self.border_title = f"✗ step '{status.step_id}' failed"
        message = status.error or "failed"
        message_widget.update(Text(message, style="red"))
        tb = fmt.traceback(status.traceback or "").rstrip()
        scroll.display = bool(tb) and tb != message
        traceback.update(Text(tb, style="dim"))
        self.display = True
        scroll.call_after_refresh(scroll.scroll_end, animate=False)

    @property
    def message_text(self) -> str:
        return "" if self._message is None else str(self._message.render())
