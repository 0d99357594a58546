"""ConfigView: a step's config exactly as its driver receives it (masked), and where it came from."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from osiris_tui.tui.screen_guard import screen_text


def config_json(config: Any) -> str:
    """Pretty JSON of a config (`DebugSession.config` masks it; the screen guard masks it again)."""
    return json.dumps(config, indent=2, default=str, ensure_ascii=False)


class ConfigView(VerticalScroll):
    """The selected step's config: origin, driver/component, needs, then the JSON the driver gets."""

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
    """

    def __init__(self, session: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self._ready = False
        self.step_id: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="config-header")
        yield Static("", id="config-body")

    def on_mount(self) -> None:
        self._ready = True
        self.show_step(self.step_id)

    def show_step(self, step_id: str | None) -> None:
        self.step_id = step_id
        if not self._ready:
            return
        header = self.query_one("#config-header", Static)
        body = self.query_one("#config-body", Static)
        header.set_class(False, "config-empty")
        body.set_class(False, "config-error")
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
        body.update(self._body(config))

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
    def _body(config: dict[str, Any]) -> RenderableType:
        return Syntax(config_json(config), "json", theme="ansi_dark", word_wrap=True,
                      background_color="default")
