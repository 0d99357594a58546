"""HelpScreen (`?` / F1): every key, from the same table as the bindings and the command palette."""

from __future__ import annotations

from itertools import groupby
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from osiris_tui.tui.commands import KEYS, WIDGET_KEYS

GROUP_ORDER = ("Run", "Navigate", "Data", "App")


def help_table() -> Table:
    rows = [(k.group, k.display, k.description) for k in KEYS]
    tab_keys = [r for r in rows if r[2].startswith("Show the ") and r[2].endswith(" tab")]
    rows = [r for r in rows if r not in tab_keys]
    rows.insert(rows.index(next(r for r in rows if r[0] == "Navigate")) + 1,
                ("Navigate", "1 … 5", "Tabs: Data, Config, Connection, Events, Metrics"))
    rows += [(g, k, d) for k, d, g in WIDGET_KEYS]
    rows.sort(key=lambda r: GROUP_ORDER.index(r[0]) if r[0] in GROUP_ORDER else len(GROUP_ORDER))
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, style="bold")
    table.add_column(no_wrap=True, style="bold cyan", min_width=12)
    table.add_column()
    first = True
    for group, items in groupby(rows, key=lambda r: r[0]):
        if not first:
            table.add_row("", "", "")
        first = False
        for i, (_, keys, description) in enumerate(items):
            table.add_row(group if i == 0 else "", keys, description)
    return table


class HelpScreen(ModalScreen[None]):
    # `dismiss` is Screen's own action (async); the screen needs no override of it.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close", id="osiris.help.close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "osiris-tui — keys"
            body.border_subtitle = "Esc to close"
            yield Static(help_table(), id="help-table")
            yield Static(
                Text("Focus: Enter or l on a step moves into the Data table; Esc comes back one layer at a time "
                     "(a running sort or search, an open bar, Frequency or Describe, the filter), then to the "
                     "steps. Tab moves the focus too.\n"
                     "A breakpoint (●) pauses the run before its step. A failed step pauses the run at it: "
                     "fix its config on disk, press r to re-run it, then c to continue.", style="dim"),
                id="help-footer",
            )
