"""The filter bar (`w`, for WHERE, on the Data tab): a DuckDB SQL condition over the frame.

Enter applies the condition (off the UI thread); a condition DuckDB refuses is shown under the bar with
a caret at the place it points to (`FilterError.position`), never raised. Esc clears the filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Static


def error_text(condition: str, message: str, position: int | None) -> Text:
    """The condition, a caret under the character `position` points to, then the message's first line."""
    text = Text(no_wrap=True, overflow="ellipsis")
    message = message.strip().splitlines()[0] if message.strip() else "invalid condition"
    if position is not None and 0 <= position <= len(condition):
        text.append(condition, style="bold")
        text.append("\n")
        # no-break spaces: the padding must not be taken for collapsible whitespace
        text.append("\u00a0" * position + "^ ", style="bold red")
    text.append(message, style="red")
    return text


class FilterBar(Vertical):
    """`where` label and the condition; posts `FilterBar.Apply` on Enter."""

    @dataclass
    class Apply(Message):
        condition: str

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.input = Input(placeholder="a SQL condition: amount > 100 AND status = 'paid', customer_id IS NULL",
                           id="data-filter-input", select_on_focus=False)
        self.error = Static(id="data-filter-error")
        self.error_message = ""  # plain text of the error shown (for tests)

    def compose(self) -> ComposeResult:
        with Horizontal(id="data-filter-row"):
            yield Static("where", classes="bar-label")
            yield self.input
            yield Static("Enter apply · Esc clear", classes="bar-hint")
        yield self.error

    def on_mount(self) -> None:
        self.error.display = False

    def open(self, condition: str) -> None:
        self.display = True
        if condition and not self.input.value:
            self.input.value = condition
        self.input.focus()

    def show_error(self, condition: str, message: str, position: int | None) -> None:
        text = error_text(condition, message, position)
        self.error_message = text.plain.replace("\u00a0", " ")
        self.error.update(text)
        self.error.display = True

    def clear_error(self) -> None:
        self.error_message = ""
        self.error.display = False

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Apply(event.value.strip()))
