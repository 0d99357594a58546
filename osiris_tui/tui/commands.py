"""Every debugger action in one table: the app's key bindings, the help screen and the command palette.

`KEYS` is the single source; `bindings()` turns it into Textual `Binding`s (each with an id, so users
can remap keys through Textual's keymap), and `DebuggerCommands` offers each action in the ctrl+p
palette with its key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.keys import format_key

if TYPE_CHECKING:
    from textual.app import App


@dataclass(frozen=True)
class KeyAction:
    id: str  # binding id (`osiris.step`), stable for keymaps
    keys: str  # Textual key names, comma separated
    action: str  # app action (`step`, `switch_tab('data')`)
    label: str  # short, for the footer
    description: str  # for the palette and the help screen
    display: str  # how the keys are shown to people
    show: bool = True  # in the footer
    group: str = "Run"


KEYS: tuple[KeyAction, ...] = (
    KeyAction("osiris.step", "n,f10", "step", "Step", "Step: run the next step, then pause", "n / F10"),
    KeyAction("osiris.continue", "c,f5", "continue", "Continue",
              "Continue: run to the next breakpoint or the end", "c / F5"),
    KeyAction("osiris.run_to", "t", "run_to", "Run to", "Run to the selected step (pause before it)", "t"),
    KeyAction("osiris.pause", "p", "pause", "Pause", "Pause after the running step", "p"),
    KeyAction("osiris.breakpoint", "b,f9", "toggle_breakpoint", "Break",
              "Toggle a breakpoint on the selected step", "b / F9"),
    KeyAction("osiris.breakpoint.edit", "B", "edit_breakpoint", "Break if",
              "Edit the selected step's breakpoint (after, condition, ignores)", "B", show=False),
    KeyAction("osiris.breakpoint.list", "ctrl+b", "list_breakpoints", "Breakpoints",
              "List every breakpoint (enable/disable, remove, clear all)", "ctrl+b",
              show=False),
    KeyAction("osiris.rerun", "r", "rerun", "Re-run",
              "Re-run the selected step (its config reloaded from disk)", "r"),
    KeyAction("osiris.reuse", "C", "toggle_reuse", "Reuse",
              "Reuse the selected step's checkpoint or run it (database extractors: off unless asked)", "C",
              show=False),
    KeyAction("osiris.restart", "R", "restart", "Restart",
              "Restart the run (fresh outputs; asks while a step runs)", "R"),
    KeyAction("osiris.cancel", "x", "cancel_step", "Cancel",
              "Cancel the running step at once (the run pauses before it)", "x"),
    KeyAction("osiris.failed", "e", "goto_failed", "Error", "Jump to the failed step", "e", group="Navigate"),
    KeyAction("osiris.error_panel", "E", "focus('error-panel')", "Error panel",
              "Focus the error panel (then ↑ ↓ PgUp PgDn scroll its traceback)", "E",
              show=False, group="Navigate"),
    KeyAction("osiris.tab.data", "1", "switch_tab('data')", "Data", "Show the Data tab", "1",
              show=False, group="Navigate"),
    KeyAction("osiris.tab.config", "2", "switch_tab('config')", "Config", "Show the Config tab", "2",
              show=False, group="Navigate"),
    KeyAction("osiris.tab.connection", "3", "switch_tab('connection')", "Connection",
              "Show the Connection tab", "3", show=False, group="Navigate"),
    KeyAction("osiris.tab.events", "4", "switch_tab('events')", "Events", "Show the Events tab", "4",
              show=False, group="Navigate"),
    KeyAction("osiris.tab.metrics", "5", "switch_tab('metrics')", "Metrics", "Show the Metrics tab", "5",
              show=False, group="Navigate"),
    KeyAction("osiris.tab.graph", "6", "switch_tab('graph')", "Graph",
              "Show the Graph tab: the pipeline as a DAG, the selected step's lineage highlighted", "6",
              show=False, group="Navigate"),
    KeyAction("osiris.data.search", "slash", "data_search", "Search",
              "Search the Data table (re: a regex, @ the cursor column only)", "/",
              show=False, group="Data"),
    KeyAction("osiris.filter", "slash", "filter_events", "Filter",
              "Filter the event log (on a tab other than Data)", "/", show=False, group="Navigate"),
    KeyAction("osiris.data.next_match", "f3", "next_match", "Next match",
              "Next search match (after the last: the first)", "F3", show=False, group="Data"),
    KeyAction("osiris.data.previous_match", "shift+f3", "previous_match", "Previous match",
              "Previous search match", "shift+F3", show=False, group="Data"),
    KeyAction("osiris.data.where", "w", "data_where", "Where",
              "Filter the Data rows: a SQL condition (amount > 100)", "w",
              show=False, group="Data"),
    KeyAction("osiris.data.frequency", "F", "data_frequency", "Frequency",
              "Frequency: the cursor column's values by count", "F",
              show=False, group="Data"),
    KeyAction("osiris.data.sort", "s", "data_sort", "Sort",
              "Sort the Data table by the cursor's column (again: reverse)", "s",
              show=False, group="Data"),
    KeyAction("osiris.data.pin", "exclamation_mark", "data_pin", "Pin",
              "Pin the cursor's column on the left as a key (again: unpin)", "!",
              show=False, group="Data"),
    KeyAction("osiris.data.widen", "underscore", "data_widen", "Widen",
              "Widen the cursor's column to its content (again: narrow)", "_",
              show=False, group="Data"),
    KeyAction("osiris.data.export", "ctrl+e", "data_export", "Export",
              "Export the frame as shown to .csv, .parquet or .jsonl",
              "ctrl+e", show=False, group="Data"),
    KeyAction("osiris.data.next_input", "i", "next_input", "Frame",
              "Data tab: the step's next frame (its output, each input)", "i", show=False, group="Data"),
    KeyAction("osiris.data.describe", "d", "describe", "Describe",
              "Data tab: describe the frame, stats per column (again: the rows)", "d",
              show=False, group="Data"),
    KeyAction("osiris.data.diff", "D", "data_diff", "Diff",
              "Data tab: what changed, the output against its previous run or an input", "D",
              show=False, group="Data"),
    KeyAction("osiris.focus_table", "enter,l", "focus_table", "Table",
              "Step list: move to the Data table (Esc comes back)", "Enter / l", show=False, group="Navigate"),
    KeyAction("osiris.focus_steps", "escape", "focus_steps", "Back",
              "Back one layer (see below), then to the step list",
              "Esc",
              show=False, group="Navigate"),
    KeyAction("osiris.edit.sql", "v", "edit_sql", "Edit SQL",
              "Edit the step's query inline (ctrl+s saves to its file, Esc cancels)", "v", show=False,
              group="Edit"),
    KeyAction("osiris.edit.external", "o", "open_in_editor", "Open file",
              "Open the step's file in $EDITOR at its line (config reloaded after)", "o", show=False,
              group="Edit"),
    KeyAction("osiris.edit.undo", "u", "undo_save", "Undo save",
              "Undo the last save of a query (if the file is unchanged since)", "u", show=False, group="Edit"),
    KeyAction("osiris.edit.param", "P", "set_param", "Parameter",
              "Set an OML parameter (its steps are prepared and run again)", "P", show=False, group="Edit"),
    KeyAction("osiris.help", "question_mark,f1", "help", "Help", "Show the keys (this screen)", "? / F1",
              group="App"),
    KeyAction("osiris.quit", "q", "request_quit", "Quit", "Quit (asks first while a step runs)", "q",
              group="App"),
)

# Keys that act inside a widget rather than app-wide (listed on the help screen only).
WIDGET_KEYS: tuple[tuple[str, str, str], ...] = (
    ("↑ / ↓", "Select a step (step list) or move the cursor (table)", "Navigate"),
    ("Tab / shift+Tab", "Move the focus: step list, Data table (and the bars when open)", "Navigate"),
    ("← → ↑ ↓", "Graph tab: select along the edges (← upstream, → downstream); lineage highlighted",
     "Navigate"),
    ("j k h l", "Data table: the cursor down, up, left, right (as the arrows)", "Data"),
    ("g / G", "Data table: the first / the last row", "Data"),
    ("click header", "Sort the Data table by that column", "Data"),
    ("Enter", "Data table: the cursor's row in full, every column (Esc closes)", "Data"),
    ("Enter / shift+Enter", "Search bar: search, then the next / the previous match", "Data"),
    ("Enter", "Frequency table: filter the frame to that value (NULL: IS NULL)", "Data"),
    ("y / Y", "Row view: copy the value as text / the whole row as JSON", "Data"),
    ("] / [", "Diff view: the next / previous changed cell ({ } a page, K key columns, i next comparison)",
     "Data"),
    ("ctrl+p", "Command palette: every action by name", "App"),
)


def remapped(keymap: Mapping[str, str]) -> tuple[KeyAction, ...]:
    """`KEYS` with the keys a keymap (binding id → keys) gives, shown as people write them."""
    def shown(keys: str) -> str:
        return " / ".join(re.sub(r"\bf(\d+)\b", r"F\1", format_key(key.strip())) for key in keys.split(","))

    return tuple(replace(k, keys=keymap[k.id], display=shown(keymap[k.id])) if k.id in keymap else k for k in KEYS)


def actions_of(app: object) -> tuple[KeyAction, ...]:
    """The app's table (with its keymap applied), else `KEYS`."""
    actions = getattr(app, "key_actions", None)
    return actions if isinstance(actions, tuple) else KEYS


def bindings() -> list[BindingType]:
    return [
        Binding(k.keys, k.action, k.label, show=k.show, key_display=k.display.split(" / ")[0], id=k.id)
        for k in KEYS
    ]


class DebuggerCommands(Provider):
    """Command palette entries for every debugger action, each showing its key."""

    def _commands(self) -> list[tuple[str, str, str]]:
        return [(f"{k.description}", k.action, k.display) for k in actions_of(self.app)]

    def _run(self, action: str) -> None:
        app: App[object] = self.app
        app.call_later(app.run_action, action)

    async def discover(self) -> Hits:
        for text, action, keys in self._commands():
            yield DiscoveryHit(text, partial(self._run, action), help=f"key: {keys}")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, action, keys in self._commands():
            score = matcher.match(f"{text} {keys}")
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(self._run, action), text=text, help=f"key: {keys}")
