"""ConfigView: a step's config as its driver receives it (masked), and where it came from.

SQL (`query`, `sql`) is shown as SQL, with line numbers and the failed step's error place marked; the other
fields as a tree; an OML pipeline's parameters with their values and origins. `v` opens the inline editor
on the query as its file has it (reading and saving run off the UI thread).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from osiris_tui.authoring import locate, parameters
from osiris_tui.authoring.errors import EditRefused
from osiris_tui.authoring.files import Saved
from osiris_tui.runtime.records import StepState
from osiris_tui.secrets import mask_text
from osiris_tui.tui.screen_guard import screen_text
from osiris_tui.tui.widgets.config_render import config_tree, params_table, sql_view
from osiris_tui.tui.widgets.sql_editor import SqlEditor


def config_json(config: Any) -> str:
    """Pretty JSON of a config (`DebugSession.config` masks it; the screen guard masks it again)."""
    return json.dumps(config, indent=2, default=str, ensure_ascii=False)


class ConfigView(VerticalScroll):
    """The selected step's config: origin, driver/component, needs; its SQL, its fields, the parameters."""

    DEFAULT_CSS = """
    ConfigView {
        height: 1fr;
        padding: 0 1;
    }
    ConfigView > #config-header {
        margin-bottom: 1;
    }
    ConfigView > .config-empty {
        color: $text-muted;
        padding: 1 0;
    }
    ConfigView > .config-error {
        color: $error;
    }
    ConfigView > #config-params {
        margin-top: 1;
    }
    ConfigView.editing > Static {
        display: none;
    }
    """

    def __init__(self, session: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self._ready = False
        self.step_id: str | None = None
        self.editor: SqlEditor | None = None
        self._editing: tuple[locate.Current, str] | None = None  # what the editor was opened on
        self.last_save: Saved | None = None
        self.edited_params: set[str] = set()
        self._usage: parameters.Usage | None = None
        self._usage_for: Path | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="config-header")
        yield Static("", id="config-body")
        yield Static("", id="config-params")

    def on_mount(self) -> None:
        self._ready = True
        self.show_step(self.step_id)

    @property
    def editing(self) -> bool:
        return self.editor is not None

    def show_step(self, step_id: str | None) -> None:
        if self.editing and step_id == self.step_id:
            return  # the editor stays on its step; the display catches up when it closes
        self.step_id = step_id
        if not self._ready or self.editing:
            return
        header = self.query_one("#config-header", Static)
        body = self.query_one("#config-body", Static)
        header.set_class(False, "config-empty")
        body.set_class(False, "config-error")
        self._show_params()
        if step_id is None:
            header.update(Text("Select a step to see its config."))
            header.set_class(True, "config-empty")
            body.update("")
            return
        try:
            step = self.session.pipeline.step(step_id)
        except KeyError:
            header.update(Text(f"Unknown step '{step_id}'."))
            body.update("")
            return
        header.update(self._header(step))
        try:
            config = self.session.config(step_id)
        except Exception as exc:  # the view must never take the app down
            body.set_class(True, "config-error")
            body.update(Text(f"Cannot build the config: {exc}"))
            return
        body.update(self._body(config, self._error(step_id)))

    def _error(self, step_id: str) -> str | None:
        status = self.session.status(step_id)
        return status.error if status.state is StepState.FAILED else None

    @property
    def text(self) -> str:
        """The JSON shown (for tests and copy)."""
        if self.step_id is None:
            return ""
        try:
            return config_json(self.session.config(self.step_id))
        except Exception:
            return ""

    def _header(self, step: Any) -> RenderableType:
        base = getattr(self.session.pipeline, "base_dir", None)
        source = step.source.describe(relative_to=base) if step.source is not None else "(unknown)"
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        grid.add_row("Step", Text(step.id, style="bold"))
        grid.add_row("Config from", Text(source))
        grid.add_row("Driver", Text(step.driver))
        if step.component and step.component != step.driver:
            grid.add_row("Component", Text(step.component))
        needs = ", ".join(step.upstream) if step.upstream else "(none)"
        grid.add_row("Needs", Text(needs))
        reference = step.config.get("connection")
        if reference:
            grid.add_row("Connection", Text(screen_text(reference)))
        note = Text("As the driver receives it: component/connection removed, resolved_connection added, "
                    "secrets masked.", style="dim italic")
        return Group(grid, note)

    @staticmethod
    def _body(config: dict[str, Any], error: str | None = None) -> RenderableType:
        parts: list[RenderableType] = []
        sql = locate.sql_keys(config)
        for i, key in enumerate(sql):
            parts.append(Text.assemble((key, "bold"), (" — SQL · v edit · o open the file", "dim")))
            parts.append(sql_view(config[key], error if i == 0 else None))
            parts.append(Text(""))
        if error and not sql:
            parts.append(Text(f"✗ {error.splitlines()[0] if error.strip() else error}", style="red"))
        parts.append(config_tree(config, skip=sql))
        return Group(*parts)

    # -- parameters (OML) ---------------------------------------------------------------------------
    def _show_params(self) -> None:
        target = self.query_one("#config-params", Static)
        pipeline = self.session.pipeline
        if pipeline.kind != "oml":
            target.update("")
            return
        if self._usage is None or self._usage_for != pipeline.path:
            target.update(Text("Parameters: reading the pipeline…", style="dim"))
            self._load_usage(pipeline.path)
            return
        rows = self.param_rows
        if not rows:
            target.update(Text("Parameters: (none)", style="dim"))
            return
        target.update(Group(params_table(rows), Text("P set a parameter (the steps that use it run again)",
                                                     style="dim")))

    @property
    def param_rows(self) -> list[parameters.ParamRow]:
        """The parameters as shown (empty until the OML has been read, or for other kinds)."""
        pipeline = self.session.pipeline
        if pipeline.kind != "oml" or self._usage is None:
            return []
        return parameters.rows(pipeline, self._usage, self.edited_params)

    @property
    def usage(self) -> parameters.Usage | None:
        return self._usage

    def _load_usage(self, path: Path) -> None:
        def work() -> None:
            try:
                found = parameters.usage(path)
            except EditRefused:
                found = parameters.Usage()
            self.app.call_from_thread(self._usage_loaded, path, found)

        self.run_worker(work, thread=True, group="config-usage", exclusive=True)

    def _usage_loaded(self, path: Path, found: parameters.Usage) -> None:
        self._usage, self._usage_for = found, path
        if self._ready and not self.editing:
            self._show_params()

    # -- the inline editor --------------------------------------------------------------------------
    def open_editor(self) -> str | None:
        """Open the editor on the selected step's SQL; None, or why it cannot be opened."""
        if self.editing:
            return None
        if self.step_id is None:
            return "Select a step first"
        step = self.session.pipeline.step(self.step_id)
        keys = locate.sql_keys(step.config)
        if not keys:
            return f"Step '{step.id}' has no query to edit (o opens its file in $EDITOR)"
        key = keys[0]

        def work() -> None:
            try:
                current = locate.read_value(locate.value_site(step, key))
            except EditRefused as exc:
                self.app.call_from_thread(self._refused, exc)
                return
            self.app.call_from_thread(self._mount_editor, current)

        self.run_worker(work, thread=True, group="config-edit", exclusive=True)
        return None

    def _refused(self, exc: EditRefused) -> None:
        self.app.notify(exc.render(), title="Cannot edit", severity="error", timeout=8)

    def _mount_editor(self, current: locate.Current) -> None:
        if self.editing or current.site.step_id != self.step_id:
            return
        if mask_text(current.value) != current.value:
            self.app.notify("The query holds a secret value; edit it in $EDITOR (o)", severity="error")
            return
        name = self._relative(current.site.file)
        title = f"Editing {current.site.key} of {current.site.step_id} — {name}:{current.line}"
        if "${params." in current.value:
            title += " (as written: parameters unresolved)"
        self.editor = SqlEditor(current.value, title, id="sql-editor")
        self._editing = (current, name)
        self.add_class("editing")
        self.mount(self.editor)

    def _relative(self, file: Path) -> str:
        try:
            return str(file.relative_to(self.session.pipeline.base_dir))
        except ValueError:
            return str(file)

    def close_editor(self) -> None:
        if self.editor is not None:
            self.editor.remove()
        self.editor, self._editing = None, None
        self.remove_class("editing")
        self.show_step(self.step_id)

    def on_sql_editor_closed(self, message: SqlEditor.Closed) -> None:
        message.stop()
        self.close_editor()
        self.app.set_focus(None)

    def on_sql_editor_save(self, message: SqlEditor.Save) -> None:
        message.stop()
        if self._editing is None:
            return
        current, name = self._editing
        text = message.text

        def work() -> None:
            try:
                saved = locate.save_value(current.site, text, expected=current.text.raw)
            except EditRefused as exc:
                self.app.call_from_thread(self._refused, exc)
                return
            self.app.call_from_thread(self._saved, saved, name)

        self.run_worker(work, thread=True, group="config-save", exclusive=True)

    def _saved(self, saved: Saved, name: str) -> None:
        self.last_save = saved
        self.session.reprepare()  # the configs are read again from disk; nothing runs
        self.close_editor()
        self.app.notify(f"Saved the {saved.what} to {name} — r re-runs it, u undoes the save", timeout=6)
