"""The app's authoring keys: edit the query inline (`v`), open the step's file in $EDITOR (`o`), undo the
last save (`u`), set an OML parameter (`P`). File work runs in thread workers; the session reloads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from osiris_tui.authoring.errors import EditRefused
from osiris_tui.secrets import mask_text

# (the authoring modules are imported when a key needs them: none of them is needed to paint the app)
if TYPE_CHECKING:
    from textual.app import App

    from osiris_tui.authoring.overrides import ParamOverrides
    from osiris_tui.runtime.session import DebugSession
    from osiris_tui.tui.widgets.config_view import ConfigView

    _Base = App[None]
else:
    _Base = object


class AuthoringActions(_Base):
    """Mixed into `DebuggerApp` (which has the session, the Config tab and the selection)."""

    _param_overrides: ParamOverrides | None = None
    EDIT_ACTIONS: ClassVar[frozenset[str]] = frozenset({"edit_sql", "open_in_editor", "undo_save", "set_param"})

    if TYPE_CHECKING:
        @property
        def session(self) -> DebugSession: ...

        @property
        def config_view(self) -> ConfigView: ...
        def _require_selection(self) -> str | None: ...
        def _mounted(self, name: str) -> Any: ...
        def action_switch_tab(self, tab: str) -> None: ...
        async def _ensure_tab(self, tab: str) -> None: ...

    async def _config_tab(self) -> None:
        self.action_switch_tab("config")
        await self._ensure_tab("config")

    async def action_edit_sql(self) -> None:
        await self._config_tab()
        problem = self.config_view.open_editor()
        if problem:
            self.notify(problem, severity="warning")

    def action_open_in_editor(self) -> None:
        step_id = self._require_selection()
        if step_id is None:
            return
        import subprocess

        from textual.app import SuspendNotSupported

        from osiris_tui.authoring import locate
        from osiris_tui.authoring.external import editor_command

        step = self.session.pipeline.step(step_id)
        keys = locate.sql_keys(step.config)
        try:
            file, line = locate.editor_target(step, keys[0] if keys else None)
            command = editor_command(file, line)
        except EditRefused as exc:
            self.notify(exc.render(), title="Cannot open the editor", severity="error")
            return
        try:
            with self.suspend():
                subprocess.run(command, check=False)
        except SuspendNotSupported:
            self.notify(f"This terminal cannot hand over to an editor: open {file}:{line} yourself",
                        severity="warning", timeout=8)
            return
        except OSError as exc:
            self.notify(f"Cannot start the editor {command[0]!r}: {exc.strerror or exc}", severity="error",
                        timeout=8)
            return
        self.session.reprepare()  # the config is read again from disk; r re-runs the step
        self.notify(f"Reloaded {file.name} — r re-runs {step_id}", timeout=4)

    def action_undo_save(self) -> None:
        saved = self.config_view.last_save
        if saved is None:
            self.notify("Nothing to undo: no query was saved in this session", severity="warning")
            return

        def work() -> None:
            try:
                saved.undo()
            except EditRefused as exc:
                self.call_from_thread(self.notify, exc.render(), title="Cannot undo", severity="error", timeout=8)
                return
            self.call_from_thread(self._undone, saved)

        self.run_worker(work, thread=True, group="config-save", exclusive=True)

    def _undone(self, saved: Any) -> None:
        self.config_view.last_save = None
        self.session.reprepare()
        self.notify(f"Undid the save of the {saved.what} — r re-runs it", timeout=5)

    async def action_set_param(self) -> None:
        pipeline = self.session.pipeline
        if pipeline.kind != "oml":
            self.notify("Only OML pipelines have parameters", severity="warning")
            return
        from osiris_tui.authoring import parameters
        from osiris_tui.tui.screens.param_dialog import ParamDialog

        await self._config_tab()
        usage = self.config_view.usage
        if usage is None:
            self.notify("Reading the pipeline's parameters… press P again", timeout=2)
            return
        rows = parameters.rows(pipeline, usage, self.config_view.edited_params)
        if not rows:
            self.notify("This pipeline has no parameters", severity="warning")
            return

        def answered(result: tuple[str, str] | None) -> None:
            if result is not None:
                self._apply_param(*result)

        self.push_screen(ParamDialog(rows), answered)

    def _apply_param(self, name: str, text: str) -> None:
        from osiris_tui.authoring import parameters
        from osiris_tui.authoring.overrides import ParamOverrides

        pipeline = self.session.pipeline
        usage = self.config_view.usage or parameters.Usage()
        try:
            value = parameters.convert(name, text, usage, file=pipeline.path)
        except EditRefused as exc:
            self.notify(exc.render(), title=f"Parameter {name}", severity="error", timeout=10)
            return
        if self._param_overrides is None:
            self._param_overrides = ParamOverrides.of(pipeline)
        self._param_overrides.set(name, value, text)
        self.config_view.edited_params.add(name)
        affected = sorted(usage.steps.get(name, ()))
        reload = self._param_overrides.loader(pipeline, self.session.registry.names())
        self.session.reprepare(reload, affected)
        steps = ", ".join(affected) or "no step"
        self.notify(mask_text(f"{name} = {text}") + f" — {steps} will run again", timeout=5)

    def reprepared(self, error: str | None) -> None:
        """The session read the pipeline again (a save, $EDITOR, undo, a parameter): show the new config."""
        if error:
            self.notify(f"Cannot load the pipeline again: {error}", severity="error", timeout=10)
        view = self._mounted("config_view")
        if view is not None:
            view.show_step(view.step_id)
