"""What changed (`D` on the Data tab): a step's output against its previous output, or an input against it.

The screen shows which two frames are compared (A, B), the summary (`frames.diff_report.summary_text`:
rows ±, schema drift, null deltas, rows added, removed and changed, changed cells per column) and a
table of the differing rows, a page at a time: a `+` row is only in B, a `-` row only in A, a `~` row is
in both with the cells that differ shown as `old → new`, highlighted. `]` / `[` move to the next /
previous changed cell (across pages), `}` / `{` page, Enter shows the row in full (a changed cell's A
and B values), `K` picks the key columns (by default the step's `primary_key` or `upsert_keys`; none:
whole rows are compared as multisets), `i` the next comparison (the previous output, then each input),
Esc back.

Everything that reads the frames — gathering them, the comparison (`frames.diff`), each page and its
cells' text — runs in a thread worker; Esc or a new comparison cancels the one that runs.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pyarrow as pa
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, SelectionList, Static
from textual.widgets.selection_list import Selection

from osiris_tui.frames import format as vf
from osiris_tui.frames.diff import ChangePage, DiffCancelled, DiffError, DiffJob, DiffResult
from osiris_tui.frames.diff_report import MARKS, STATUS_STYLE, summary_text
from osiris_tui.runtime.session import DebugSession, StepState
from osiris_tui.tui.screens.row_view import RowField, RowViewScreen

PAGE_ROWS = 200
CELL_WIDTH = 40  # characters of a value shown in a cell (the row's values are exact, only cut)
CHANGED_CELL = "on #4a3b00"  # the background of a changed cell
KEY_LABEL = "bold underline"
ADDED_CELL, REMOVED_CELL = "green", "red"


@dataclass(frozen=True)
class Comparison:
    """Two frames to compare: A (before) and B (after), and what they are."""

    a: pa.Table
    b: pa.Table
    a_label: str
    b_label: str


def comparisons(session: DebugSession, step_id: str) -> list[Comparison]:
    """The step's previous output against its output (after a re-run), then each input against the output.
    Reads the session's tables: call it off the UI thread."""
    if session.status(step_id).state is not StepState.DONE:
        return []
    output = session.output_table(step_id)
    if output is None:
        return []
    runs = session.status(step_id).runs
    found = []
    previous = session.previous_output(step_id)
    if previous is not None:
        found.append(Comparison(previous.table, output, f"previous output of {step_id} (run {previous.run})",
                                f"output of {step_id} (run {runs})"))
    for name, upstream, table in session.input_tables(step_id):
        found.append(Comparison(table, output, f"input {name} of {step_id} (from {upstream})", f"output of {step_id}"))
    return found


def configured_keys(config: dict[str, Any]) -> tuple[str, ...]:
    """The step's `primary_key` or `upsert_keys` (a name or a list of names)."""
    for option in ("primary_key", "upsert_keys"):
        value = config.get(option)
        if isinstance(value, str) and value.strip():
            return tuple(v.strip() for v in value.split(",") if v.strip())
        if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
            return tuple(value)
    return ()


def default_keys(config: dict[str, Any], comparison: Comparison) -> tuple[str, ...]:
    """The configured keys when both frames have them all; else none (whole rows are compared)."""
    keys = configured_keys(config)
    names = set(comparison.a.column_names) & set(comparison.b.column_names)
    return keys if keys and all(k in names for k in keys) else ()


# -- a page as cells --------------------------------------------------------------------------------
@dataclass
class RenderedPage:
    """A page of differing rows as table cells, and where its changes are (row, table column)."""

    start: int
    columns: list[str]
    rows: list[list[Text]]
    changes: list[tuple[int, int]] = field(default_factory=list)
    source: ChangePage | None = None  # the page's values (for the row view)


def _cut(text: str) -> str:
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + vf.ELLIPSIS


def _value(value: Any) -> str:
    return _cut(vf.plain(value)).replace("\n", "⏎")


def render_page(result: DiffResult, page: ChangePage) -> RenderedPage:
    """The page's cells: a status mark (`+` `-` `~`), then each of `result.shown_columns()`, a changed
    cell as `old → new` on a highlighted background. Values as `frames.format` writes them."""
    columns = result.shown_columns()
    before = {n: vf.values(page.before.column(n)) for n in page.before.column_names}
    after = {n: vf.values(page.after.column(n)) for n in page.after.column_names}
    rendered = RenderedPage(page.start, columns, [], source=page)
    for i, status in enumerate(page.status):
        style = STATUS_STYLE[status]
        cells = [Text(MARKS[status], style=f"bold {style}")]
        changed = set(page.changed_columns(i)) if status == "changed" else set()
        if status != "changed":
            rendered.changes.append((i, 0))
        for c, name in enumerate(columns, start=1):
            old = before[name][i] if name in before else None
            new = after[name][i] if name in after else None
            if status == "changed" and name in changed:
                cell = Text.assemble((_value(old), "red"), (" → ", "bold"), (_value(new), "bold green"))
                cell.stylize(CHANGED_CELL)
                rendered.changes.append((i, c))
            elif status == "added":
                cell = Text(_value(new), style=ADDED_CELL) if name in after else Text("")
            elif status == "removed":
                cell = Text(_value(old), style=REMOVED_CELL) if name in before else Text("")
            else:
                shown = new if name in after else old
                cell = Text(_value(shown), style="" if name in result.keys else "dim")
            cells.append(cell)
        rendered.rows.append(cells)
    return rendered



def row_fields(result: DiffResult, page: ChangePage, i: int) -> list[RowField]:
    """Row `i` of the page in full, for the row view: each shown column's value, a changed cell as two
    fields (`amount (A)`, `amount (B)`)."""
    status = page.status[i]
    changed = set(page.changed_columns(i)) if status == "changed" else set()
    fields = []
    for name in result.shown_columns():
        sides = []
        if name in page.before.column_names and status != "added" and (name in changed or status == "removed"
                                                                         or name not in page.after.column_names):
            sides.append(("A", page.before))
        if name in page.after.column_names and status != "removed" and (name in changed or not sides):
            sides.append(("B", page.after))
        for side, table in sides:
            column = table.column(name)
            label = f"{name} ({side})" if name in changed else name
            fields.append(RowField(label, str(column.type), vf.values(column, i, i + 1)[0]))
    return fields


@dataclass
class DiffComputed(Message):
    """A worker of the diff screen finished (posted from its thread)."""

    token: int
    result: DiffResult | None = None
    page: RenderedPage | None = None
    comparisons: list[Comparison] | None = None
    keys: tuple[str, ...] = ()
    error: str | None = None
    at_end: bool = False  # a page fetched going backwards: the cursor goes to its last change


# -- choosing key columns ---------------------------------------------------------------------------
class KeyPicker(ModalScreen[tuple[str, ...] | None]):
    """Space toggles a column, Enter compares by the columns ticked (none: whole rows), Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "apply", "Apply", priority=True, id="osiris.diff.keys.apply"),
        Binding("escape", "cancel", "Cancel", id="osiris.diff.keys.cancel"),
    ]
    DEFAULT_CSS = """
    KeyPicker { align: center middle; }
    #diff-keys { width: 60; height: auto; max-height: 80%; border: round $primary; background: $surface; }
    #diff-keys SelectionList { height: auto; max-height: 20; }
    """

    def __init__(self, columns: Sequence[str], keys: Sequence[str]) -> None:
        super().__init__()
        self.columns = list(columns)
        self.keys = tuple(keys)
        self.selection: SelectionList[str] = SelectionList(
            *(Selection(name, name, name in self.keys) for name in self.columns), id="diff-key-list")

    def compose(self) -> ComposeResult:
        with Vertical(id="diff-keys") as box:
            box.border_title = "Key columns"
            box.border_subtitle = "Space tick · Enter compare · Esc cancel"
            yield self.selection

    def on_mount(self) -> None:
        self.selection.focus()

    def action_apply(self) -> None:
        chosen = set(self.selection.selected)
        # keys in the order chosen before, then the new ones in column order
        self.dismiss(tuple([k for k in self.keys if k in chosen] + [c for c in self.columns
                                                                     if c in chosen and c not in self.keys]))

    def action_cancel(self) -> None:
        self.dismiss(None)


# -- the screen ---------------------------------------------------------------------------------------
class DiffScreen(ModalScreen[None]):
    """What changed in a step's output (see the module docstring). Modal, the whole screen: the run keys
    do nothing while it is up (a step re-run behind it would make it stale)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="osiris.diff.close"),
        Binding("right_square_bracket", "next_change", "Next change", id="osiris.diff.next"),
        Binding("left_square_bracket", "previous_change", "Previous change", id="osiris.diff.previous"),
        Binding("right_curly_bracket", "next_page", "Next page", id="osiris.diff.next_page"),
        Binding("left_curly_bracket", "previous_page", "Previous page", id="osiris.diff.previous_page"),
        Binding("K", "pick_keys", "Keys", id="osiris.diff.keys"),
        Binding("i", "next_comparison", "Next comparison", id="osiris.diff.next_comparison"),
    ]
    DEFAULT_CSS = """
    DiffScreen { layout: vertical; background: $background; }
    #diff-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
    #diff-summary { height: auto; padding: 0 1; border-bottom: solid $primary 40%; }
    #diff-table { height: 1fr; }
    #diff-status { height: 1; padding: 0 1; }
    #diff-keys-hint { height: 1; padding: 0 1; background: $footer-background; color: $footer-foreground; }
    """

    _tokens = itertools.count(1)

    def __init__(self, session: DebugSession, step_id: str) -> None:
        super().__init__()
        self.session = session
        self.step_id = step_id
        self.comparisons: list[Comparison] | None = None
        self.index = 0
        self.keys: tuple[str, ...] = ()
        self._keys_chosen: dict[int, tuple[str, ...]] = {}  # comparison index → keys picked with K
        self.result: DiffResult | None = None
        self.page: RenderedPage | None = None
        self.change_index: int | None = None
        self.computing = False
        self.error: str | None = None
        self._token = 0
        self._job: DiffJob | None = None
        self.title_line = Static(id="diff-title")
        self.summary = Static(id="diff-summary")
        self.table: DataTable[Text] = DataTable(id="diff-table", cursor_type="cell", zebra_stripes=True)
        self.status = Static(id="diff-status")

    def compose(self) -> ComposeResult:
        yield self.title_line
        yield self.summary
        yield self.table
        yield self.status
        yield Static(Text.assemble(
            *[part for key, what in (("]", " next change"), ("[", " previous"), ("}", " next page"),
                                     ("{", " previous page"), ("K", " key columns"), ("i", " next comparison"),
                                     ("Esc", " back"))
              for part in ((f" {key}", "bold"), (what, ""))]), id="diff-keys-hint")

    def on_mount(self) -> None:
        self.title_line.update(Text(f"What changed · {self.step_id}", style="bold"))
        self._start(None)

    # -- computing ------------------------------------------------------------------------------------
    def _start(self, keys: tuple[str, ...] | None) -> None:
        """Compare comparison `index` by `keys` (None: the chosen or configured ones), in a worker."""
        self._cancel()
        self._token = next(self._tokens)
        self.computing, self.error = True, None
        self.summary.update(Text("comparing… (Esc cancels)", style="italic"))
        self._update_status()
        self._compute(self._token, self.index, keys)

    def _cancel(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            job.cancel()

    @work(thread=True, exclusive=True, group="osiris-diff", description="compare two frames")
    def _compute(self, token: int, index: int, keys: tuple[str, ...] | None) -> None:
        try:
            found = self.comparisons
            if found is None:
                found = comparisons(self.session, self.step_id)
            if not found:
                self.post_message(DiffComputed(token, comparisons=found, error="nothing to compare: the step has "
                                               "no output, or no previous output and no input"))
                return
            comparison = found[index % len(found)]
            if keys is None:
                keys = default_keys(self.session.pipeline.step(self.step_id).config, comparison)
            job = DiffJob(comparison.a, comparison.b, keys, names=(comparison.a_label, comparison.b_label))
            self._job = job
            if token != self._token:
                job.cancel()
            result = job.run()
            page = render_page(result, result.page(0, PAGE_ROWS))
        except DiffCancelled:
            return
        except DiffError as exc:
            self.post_message(DiffComputed(token, comparisons=found, keys=keys or (), error=str(exc)))
            return
        except Exception as exc:  # shown on the screen, never a crash
            self.post_message(DiffComputed(token, error=f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(DiffComputed(token, result, page, found, keys))

    @work(thread=True, exclusive=True, group="osiris-diff-page", description="a page of changed rows")
    def _fetch(self, token: int, result: DiffResult, start: int, at_end: bool) -> None:
        page = render_page(result, result.page(start, start + PAGE_ROWS))
        self.post_message(DiffComputed(token, result, page, at_end=at_end))

    def on_diff_computed(self, message: DiffComputed) -> None:
        message.stop()
        if message.token != self._token:
            return
        self.computing = False
        self._job = None
        if message.comparisons is not None:
            self.comparisons = message.comparisons
            self.keys = message.keys
        if message.error is not None:
            self.error = message.error
            self.result, self.page = None, None
            self.table.clear(columns=True)
            self.summary.update(self._error_text(message.error))
            self._update_title()
            self._update_status()
            return
        assert message.result is not None and message.page is not None
        fresh = message.result is not self.result
        self.result = message.result
        if fresh:
            self.summary.update(summary_text(message.result))
        self._show_page(message.page, last=message.at_end)
        self._update_title()

    def _error_text(self, error: str) -> Text:
        text = Text(error, style="bold red")
        text.append("\nK picks other key columns (none: whole rows are compared)", style="dim")
        return text

    # -- the table ------------------------------------------------------------------------------------
    def _show_page(self, page: RenderedPage, last: bool = False) -> None:
        self.page = page
        table = self.table
        table.clear(columns=True)
        result = self.result
        keys = set(result.keys) if result is not None else set()
        table.add_column(Text(""), key="±")
        for i, name in enumerate(page.columns):  # keyed by position: a column may be called anything
            table.add_column(Text(name, style=KEY_LABEL if name in keys else "bold"), key=f"c{i}")
        for i, row in enumerate(page.rows):
            table.add_row(*row, key=str(page.start + i))
        self.change_index = None
        if page.changes:
            self._go_to(len(page.changes) - 1 if last else 0)
        table.focus()
        self._update_status()

    def _go_to(self, index: int) -> None:
        assert self.page is not None
        self.change_index = index
        row, column = self.page.changes[index]
        self.table.move_cursor(row=row, column=column)
        self._update_status()

    def action_next_change(self) -> None:
        self._step_change(1)

    def action_previous_change(self) -> None:
        self._step_change(-1)

    def _step_change(self, step: int) -> None:
        page, result = self.page, self.result
        if page is None or result is None or not page.changes:
            self.notify("No changes to move to", timeout=2)
            return
        here = (self.table.cursor_coordinate.row, self.table.cursor_coordinate.column)
        if step > 0:
            later = [i for i, cell in enumerate(page.changes) if cell > here]
            if later:
                self._go_to(later[0])
            elif page.start + len(page.rows) < result.differing:
                self._fetch(self._token, result, page.start + len(page.rows), False)
            else:
                self.notify("The last change", timeout=2)
        else:
            earlier = [i for i, cell in enumerate(page.changes) if cell < here]
            if earlier:
                self._go_to(earlier[-1])
            elif page.start > 0:
                self._fetch(self._token, result, max(0, page.start - PAGE_ROWS), True)
            else:
                self.notify("The first change", timeout=2)

    def action_next_page(self) -> None:
        page, result = self.page, self.result
        if page is not None and result is not None and page.start + len(page.rows) < result.differing:
            self._fetch(self._token, result, page.start + len(page.rows), False)

    def action_previous_page(self) -> None:
        page, result = self.page, self.result
        if page is not None and result is not None and page.start > 0:
            self._fetch(self._token, result, max(0, page.start - PAGE_ROWS), False)

    @on(DataTable.CellSelected)
    def _open_row(self, event: DataTable.CellSelected) -> None:
        """Enter: the row in full (a changed cell as its A and B values), in the row view."""
        event.stop()
        page, result = self.page, self.result
        if page is None or result is None or page.source is None:
            return
        i = event.coordinate.row
        status = page.source.status[i]
        title = f"{status} row {vf.count(page.start + i + 1)} of {vf.count(result.differing)} differing"
        self.app.push_screen(RowViewScreen(row_fields(result, page.source, i), title=title))

    @on(DataTable.CellHighlighted)
    def _moved(self, event: DataTable.CellHighlighted) -> None:
        if self.page is not None:
            cell = (event.coordinate.row, event.coordinate.column)
            self.change_index = self.page.changes.index(cell) if cell in self.page.changes else None
        self._update_status()

    # -- lines ----------------------------------------------------------------------------------------
    def _update_title(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"What changed · {self.step_id}", style="bold")
        found = self.comparisons or []
        if len(found) > 1:
            text.append(f" · comparison {self.index % len(found) + 1}/{len(found)} (i next)", style="dim")
        result = self.result
        if result is not None:
            text.append(" · by key " + ", ".join(result.keys) if result.keys else " · whole rows (no key)",
                        style="cyan")
        self.title_line.update(text)

    def status_text(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.computing:
            text.append("comparing…", style="bold yellow")
            text.append(" Esc cancels", style="dim")
            return text
        page, result = self.page, self.result
        if result is None or page is None:
            return text
        if not result.differing:
            text.append("no differing rows", style="dim")
            return text
        stop = page.start + len(page.rows)
        text.append(f"rows {vf.count(page.start + 1)} to {vf.count(stop)} of {vf.count(result.differing)} differing")
        if self.change_index is not None:
            text.append(f" · change {self.change_index + 1} of {len(page.changes)} on this page",
                        style="bold cyan")
        coordinate = self.table.cursor_coordinate
        if 0 < coordinate.column <= len(page.columns):
            text.append(" · col ")
            text.append(page.columns[coordinate.column - 1], style="bold")
        return text

    def _update_status(self) -> None:
        self.status.update(self.status_text())

    # -- actions --------------------------------------------------------------------------------------
    def action_close(self) -> None:
        if self.computing:
            self._cancel()
            self._token = next(self._tokens)
            self.computing = False
            self.notify("Comparison cancelled", timeout=2)
        self.dismiss(None)

    def action_next_comparison(self) -> None:
        found = self.comparisons
        if not found or len(found) < 2:
            self.notify("No other comparison for this step", timeout=2)
            return
        self.index = (self.index + 1) % len(found)
        self.result, self.page = None, None
        self._start(self._keys_chosen.get(self.index))

    def action_pick_keys(self) -> None:
        found = self.comparisons
        if not found:
            return
        comparison = found[self.index % len(found)]
        names = [n for n in comparison.b.column_names if n in set(comparison.a.column_names)]

        def chosen(keys: tuple[str, ...] | None) -> None:
            if keys is not None:
                self._keys_chosen[self.index] = keys
                self.result, self.page = None, None
                self._start(keys)

        self.app.push_screen(KeyPicker(names, self.keys if self.result is None else self.result.keys), chosen)


def open_diff(app: Any, session: DebugSession, step_id: str | None) -> bool:
    """`D`: the diff screen for the step (False, with a notice, when it has no output to compare)."""
    if step_id is None:
        app.notify("Select a step first", severity="warning")
        return False
    if session.status(step_id).state is not StepState.DONE:
        app.notify(f"{step_id} has no output yet: run it, then D shows what changed", timeout=3)
        return False
    app.push_screen(DiffScreen(session, step_id))
    return True


def diff_hint() -> Text:
    """What the Data tab's frame line offers when a step has a previous output."""
    return Text.assemble(("D", "bold cyan"), (" what changed since the last run", "dim"))
