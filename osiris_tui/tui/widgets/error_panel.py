"""ErrorPanel: the failed step's error, what to do next, and the traceback, in one scrolling panel.

The error message comes first, then the hint, then the full traceback below. The panel is docked
under the tabs and takes up to a share of the right pane (see app.tcss); what does not fit scrolls:
E (or a click) focuses it, then ↑ ↓ PgUp PgDn Home End scroll it.

A SQL error's `LINE n: …` line and the `^^^` caret line under it (in the message, and again at the
end of the traceback) are never wrapped: that would move the caret away from what it points at.
When the caret sits far right, both lines are cut on the left by the same amount so that it stays
in view on a narrow pane.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Group
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from osiris_tui.runtime.records import StepState
from osiris_tui.runtime.step_status import StepStatus
from osiris_tui.tui import format as fmt

HINT = "edit the config, press r to re-run, then c to continue"
SCROLL_HINT = "E, then ↑ ↓ to scroll"

_SQL_LINE = re.compile(r"LINE \d+: ")
_CARET_LINE = re.compile(r" *\^+ *")
CARET_MAX_COLUMN = 28  # further right than this, the SQL excerpt is cut on the left


def sql_excerpt(line: str, caret: str) -> tuple[str, str]:
    """The `LINE n: …` and caret lines, cut on the left when the caret is past `CARET_MAX_COLUMN`."""
    column = caret.index("^")
    if column <= CARET_MAX_COLUMN:
        return line, caret
    match = _SQL_LINE.match(line)
    prefix = match.group(0) if match else ""
    cut = column - CARET_MAX_COLUMN + 1  # characters of the SQL dropped (one more for the "…")
    sql = line[len(prefix):]
    return prefix + "…" + sql[cut:], " " * (len(prefix) + 1) + caret[len(prefix) + cut:]


def error_renderable(message: str, style: str = "red", caret_style: str = "bold red") -> Group:
    """`message` as wrapping text, with any SQL excerpt (line + caret) kept unwrapped."""
    lines = message.splitlines()
    parts: list[Text] = []
    prose: list[str] = []

    def flush() -> None:
        if prose:
            parts.append(Text("\n".join(prose), style=style))
            prose.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        if _SQL_LINE.match(line) and i + 1 < len(lines) and _CARET_LINE.fullmatch(lines[i + 1]):
            flush()
            sql, caret = sql_excerpt(line, lines[i + 1])
            parts.append(Text(sql, style=style, no_wrap=True, overflow="ellipsis"))
            parts.append(Text(caret.rstrip(), style=caret_style, no_wrap=True, overflow="crop"))
            i += 2
            continue
        prose.append(line)
        i += 1
    flush()
    return Group(*parts)


class ErrorPanel(VerticalScroll, can_focus=True):
    """Hidden unless the selected step failed. Its parts are built the first time a failure is shown
    (most sessions never need them, and startup is faster without)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.step_id: str | None = None
        self._message_text = ""
        self._message: Static | None = None
        self._traceback: Static | None = None

    def _build(self) -> tuple[Static, Static]:
        if self._message is None or self._traceback is None:
            self._message = Static(id="error-message")
            self._traceback = Static(id="error-traceback")
            self.mount(self._message, Static(Text.assemble(("hint: ", "bold"), HINT), id="error-hint"),
                       self._traceback)
        return self._message, self._traceback

    def allow_focus(self) -> bool:
        return self.display and self.step_id is not None  # never while hidden

    def show_status(self, status: StepStatus | None) -> None:
        if status is None or status.state is not StepState.FAILED:
            self.step_id = None
            if self.has_focus:  # hidden under the cursor (a re-run fixed the step): back to the start
                chain = [w for w in self.screen.focus_chain if w is not self]
                self.screen.set_focus(chain[0] if chain else None)
            self.display = False
            return
        message_widget, traceback = self._build()
        self.step_id = status.step_id
        self.border_title = f"✗ step '{status.step_id}' failed"
        self.border_subtitle = SCROLL_HINT
        message = status.error or "failed"
        self._message_text = message
        message_widget.update(error_renderable(message))
        tb = fmt.traceback(status.traceback or "").rstrip()
        traceback.display = bool(tb) and tb != message
        traceback.update(error_renderable(tb, style="dim", caret_style="dim bold"))
        self.display = True
        self.scroll_home(animate=False, immediate=True)

    @property
    def message_text(self) -> str:
        return self._message_text
