"""The inline SQL editor of the Config tab: a `TextArea` on the value as its file has it.

ctrl+s saves (the Config tab writes the file), Esc cancels — asking first when there are unsaved changes.
Highlighting needs tree-sitter's SQL grammar (`pip install 'osiris-tui[syntax]'`); without it the editor
works the same, uncoloured.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static, TextArea

from osiris_tui.tui.screens.confirm_stop import Confirm


def sql_language() -> str | None:
    """"sql" when tree-sitter's SQL grammar is installed, else None (plain text)."""
    try:
        import tree_sitter  # noqa: F401
        import tree_sitter_sql  # noqa: F401
    except ImportError:
        return None
    return "sql"


class ConfirmDiscard(Confirm):
    """Asked on Esc with unsaved changes: dismissed with True to throw them away."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Discard", id="osiris.discard.yes"),
        Binding("n,escape", "answer(False)", "Keep editing", id="osiris.discard.no"),
    ]

    def question(self) -> tuple[str, Text, str, str]:
        text = Text.assemble(("The query has unsaved changes.", "bold"), "\nThrow them away?")
        return "Discard changes?", text, "Discard (y)", "Keep editing (n)"


class SqlEditor(Vertical):
    """`SqlEditor(text, title)`; posts `Save(text)` on ctrl+s and `Closed()` when cancelled."""

    DEFAULT_CSS = """
    SqlEditor {
        height: 1fr;
        min-height: 8;
    }
    SqlEditor > #sql-editor-title {
        height: auto;
        color: $text-muted;
    }
    SqlEditor > TextArea {
        height: 1fr;
        border: round $accent;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True, id="osiris.editor.save"),
        Binding("escape", "cancel", "Cancel", priority=True, id="osiris.editor.cancel"),
    ]

    class Save(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Closed(Message):
        pass

    def __init__(self, text: str, title: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.original = text
        self.title = title

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble((self.title, "bold"), "  ctrl+s save · Esc cancel"), id="sql-editor-title")
        yield TextArea.code_editor(self.original, language=sql_language(), theme="monokai", soft_wrap=False,
                                   id="sql-editor-area")

    @property
    def area(self) -> TextArea:
        return self.query_one("#sql-editor-area", TextArea)

    @property
    def text(self) -> str:
        return self.area.text

    @property
    def modified(self) -> bool:
        return self.text != self.original

    def on_mount(self) -> None:
        self.area.focus()

    def action_save(self) -> None:
        self.post_message(self.Save(self.text))

    def action_cancel(self) -> None:
        if not self.modified:
            self.post_message(self.Closed())
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.post_message(self.Closed())

        self.app.push_screen(ConfirmDiscard(), answered)
