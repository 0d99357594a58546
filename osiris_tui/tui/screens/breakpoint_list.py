"""BreakpointList: every breakpoint of the pipeline; enable/disable, remove, edit, or clear them all."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from osiris_tui.runtime.breakpoints import Breakpoint
from osiris_tui.tui.screen_guard import screen_text


class BreakpointList(ModalScreen[Breakpoint | None]):
    """`BreakpointList(list_breakpoints, hits_of, put, remove, clear)`: acts on the session through the
    callables; dismissed with the breakpoint to edit (Enter) or None."""

    DEFAULT_CSS = """
    BreakpointList { align: center middle; }
    #bp-list-dialog {
        width: 80; height: auto; max-height: 90%;
        border: thick $accent; border-title-style: bold; background: $surface; padding: 0 1;
    }
    #bp-list { height: auto; max-height: 20; border: none; }
    #bp-list-help { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="osiris.breakpoints.close"),
        Binding("space", "toggle_enabled", "Enable/disable", id="osiris.breakpoints.toggle"),
        Binding("d,delete", "remove", "Remove", id="osiris.breakpoints.remove"),
        Binding("C", "clear_all", "Clear all", id="osiris.breakpoints.clear"),
    ]

    def __init__(self, list_breakpoints: Callable[[], list[Breakpoint]], hits_of: Callable[[Breakpoint], int],
                 put: Callable[[Breakpoint], None], remove: Callable[[Breakpoint], None],
                 clear: Callable[[], None]) -> None:
        super().__init__()
        self._list = list_breakpoints
        self._hits_of = hits_of
        self._put = put
        self._remove = remove
        self._clear = clear
        self.items: list[Breakpoint] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="bp-list-dialog") as dialog:
            dialog.border_title = "Breakpoints"
            yield OptionList(id="bp-list")
            yield Static("Space enable/disable · d remove · Enter edit · C clear all · Esc close", id="bp-list-help")

    def on_mount(self) -> None:
        self.refresh_items()
        self.query_one(OptionList).focus()

    def refresh_items(self) -> None:
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        self.items = self._list()
        options.clear_options()
        if not self.items:
            options.add_option(Option(Text("No breakpoints (b on a step sets one, B edits it)", style="dim"),
                                      disabled=True))
            return
        for bp in self.items:
            hits = self._hits_of(bp)
            line = Text()
            line.append("● " if bp.enabled else "○ ", style="bold red" if bp.enabled else "dim")
            line.append(screen_text(bp.describe()), style="" if bp.enabled else "dim")
            if hits:
                line.append(f"  hits: {hits}", style="cyan")
            options.add_option(Option(line))
        options.highlighted = min(highlighted or 0, len(self.items) - 1)

    def _selected(self) -> Breakpoint | None:
        index = self.query_one(OptionList).highlighted
        return self.items[index] if index is not None and 0 <= index < len(self.items) else None

    def action_toggle_enabled(self) -> None:
        bp = self._selected()
        if bp is not None:
            self._put(Breakpoint(bp.step_id, bp.when, bp.condition, not bp.enabled, bp.ignore_count))
            self.refresh_items()

    def action_remove(self) -> None:
        bp = self._selected()
        if bp is not None:
            self._remove(bp)
            self.refresh_items()

    def action_clear_all(self) -> None:
        if self.items:
            count = len(self.items)
            self._clear()
            self.refresh_items()
            self.app.notify(f"Cleared {count} breakpoint" + ("" if count == 1 else "s"), timeout=2)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        bp = self._selected()
        if bp is not None:
            self.dismiss(bp)

    def action_close(self) -> None:
        self.dismiss(None)
