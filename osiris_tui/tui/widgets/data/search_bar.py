"""The search bar (`/` on the Data tab): a substring, or a regex, over every column or the cursor's.

What is typed is a pattern with optional prefixes (`parse_search`): `re:` makes it a regular expression,
`@` limits it to the cursor's column; `@re:` does both. Matching ignores case. Enter searches (again:
the next match), shift+Enter the previous one; Esc closes the bar and keeps the matches for F3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Static

REGEX_PREFIX = "re:"
COLUMN_PREFIX = "@"


@dataclass(frozen=True)
class SearchQuery:
    pattern: str
    regex: bool = False
    cursor_column: bool = False  # only the cursor's column

    def describe(self, column: str | None = None) -> str:
        kind = "regex" if self.regex else "text"
        where = f" in {column}" if self.cursor_column and column else ""
        return f"{kind} {self.pattern!r}{where}"


def parse_search(text: str) -> SearchQuery | None:
    """`@re:^a.c$` → a regex over the cursor column; None when nothing is left to search for."""
    cursor_column = text.startswith(COLUMN_PREFIX)
    if cursor_column:
        text = text[len(COLUMN_PREFIX):]
    regex = text.startswith(REGEX_PREFIX)
    if regex:
        text = text[len(REGEX_PREFIX):]
    if not text:
        return None
    return SearchQuery(text, regex=regex, cursor_column=cursor_column)


class SearchBar(Horizontal):
    """`/` label, the pattern and a hint; posts `SearchBar.Search` (Enter / shift+Enter)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("shift+enter", "search(True)", "Previous match", show=False, id="osiris.data.search.previous"),
    ]

    @dataclass
    class Search(Message):
        text: str  # as typed (prefixes included)
        backwards: bool = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.input = Input(placeholder="text, re:regex, @ for the cursor column only", id="data-search-input",
                           select_on_focus=False)

    def compose(self) -> ComposeResult:
        yield Static("/", classes="bar-label")
        yield self.input
        yield Static("Enter next · shift+Enter previous · Esc close", classes="bar-hint")

    def open(self) -> None:
        self.display = True
        self.input.focus()

    @property
    def text(self) -> str:
        return self.input.value

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Search(event.value))

    def action_search(self, backwards: bool = False) -> None:
        self.post_message(self.Search(self.input.value, backwards=backwards))
