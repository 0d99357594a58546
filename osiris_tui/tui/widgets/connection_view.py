"""ConnectionView: a step's resolved connection with every secret masked, or why it did not resolve."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from osiris_tui.errors import InputError
from osiris_tui.secrets import MASK
from osiris_tui.tui.screen_guard import screen_text

NO_CONNECTION = "This step uses no connection."


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _relative(path: Path | str | None, base: Path | None) -> str:
    if path is None:
        return "(none)"
    p = Path(path)
    if base is not None:
        try:
            return str(p.relative_to(base))
        except ValueError:
            pass
    return str(p)


class ConnectionView(VerticalScroll):
    """The selected step's connection: family, alias, reference, file, masked fields, env variables."""

    DEFAULT_CSS = """
    ConnectionView {
        height: 1fr;
        padding: 0 1;
    }
    ConnectionView > #connection-body.connection-none {
        color: $text-muted;
        padding: 1 0;
    }
    ConnectionView > #connection-body.connection-error {
        border: round $error;
        padding: 0 1;
    }
    """

    def __init__(self, session: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self._ready = False
        self.step_id: str | None = None
        self.state: str = "empty"  # empty | none | resolved | error

    def compose(self) -> ComposeResult:
        yield Static("", id="connection-body")

    def on_mount(self) -> None:
        self._ready = True
        self.show_step(self.step_id)

    def show_step(self, step_id: str | None) -> None:
        self.step_id = step_id
        if not self._ready:
            return
        body = self.query_one("#connection-body", Static)
        renderable, state = self._render_step(step_id)
        self.state = state
        body.set_class(state == "none" or state == "empty", "connection-none")
        body.set_class(state == "error", "connection-error")
        body.update(renderable)

    # -- rendering -------------------------------------------------------------------------------
    def _render_step(self, step_id: str | None) -> tuple[RenderableType, str]:
        if step_id is None:
            return Text("Select a step to see its connection."), "empty"
        try:
            step = self.session.pipeline.step(step_id)
            result = self.session.connection(step_id)
        except KeyError:
            return Text(f"Unknown step '{step_id}'."), "empty"
        except InputError as exc:  # the session returns these, but be safe
            result = exc
        except Exception as exc:  # a view must never take the app down
            result = InputError(f"{type(exc).__name__}: {exc}")
        if result is None:
            return self._none(step), "none"
        if isinstance(result, InputError):
            return self._error(step, result), "error"
        return self._resolved(result), "resolved"

    @staticmethod
    def _none(step: Any) -> RenderableType:
        return Group(
            Text(NO_CONNECTION, style="bold"),
            Text(f"Family '{step.family}' ({step.driver}) resolves no connection unless the step's config names "
                 "one with connection: '@family.alias'."),
        )

    def _error(self, step: Any, exc: InputError) -> RenderableType:
        lines: list[RenderableType] = [Text("✗ The connection cannot be resolved", style="bold red"), Text("")]
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        grid.add_row("Step", Text(step.id))
        reference = step.config.get("connection")
        grid.add_row("Reference", Text(screen_text(reference) if reference else f"(default alias of '{step.family}')"))
        grid.add_row("Problem", Text(exc.message, style="red"))
        if exc.location:
            base = getattr(self.session.pipeline, "base_dir", None)
            where = _relative(exc.file, base) + (f":{exc.line}" if exc.line else "")
            grid.add_row("Where", Text(where))
        if exc.key:
            grid.add_row("Key", Text(exc.key))
        if exc.hint:
            grid.add_row("Fix", Text(exc.hint, style="yellow"))
        lines.append(grid)
        return Group(*lines)

    def _resolved(self, conn: Any) -> RenderableType:
        base = getattr(self.session.pipeline, "base_dir", None)
        head = Table.grid(padding=(0, 2))
        head.add_column(style="bold", no_wrap=True)
        head.add_column()
        head.add_row("Connection", Text(conn.label, style="bold cyan"))
        head.add_row("Family", Text(conn.family))
        head.add_row("Alias", Text(f"{conn.alias} (default)" if conn.is_default else conn.alias))
        head.add_row("Reference", Text(conn.reference or "(none: the family's default alias)"))
        head.add_row("File", Text(_relative(conn.file, base)))

        env_uses = conn.masked_env()
        by_field: dict[str, list[Any]] = {}
        for use in env_uses:
            by_field.setdefault(use.field, []).append(use)
        fields = Table(title="Fields", title_justify="left", title_style="bold", expand=False,
                       show_edge=False, header_style="bold dim", box=box.SIMPLE_HEAD, pad_edge=False)
        fields.add_column("field", no_wrap=True)
        fields.add_column("value", overflow="fold")
        fields.add_column("from", style="dim")
        for key, value in conn.masked().items():
            shown = _show(value)
            style = "magenta" if shown == MASK or MASK in shown else ""
            env_names = ", ".join(f"${{{u.name}}}" for u in by_field.get(key, []))
            fields.add_row(key, Text(shown, style=style), env_names)

        parts: list[RenderableType] = [head, Text(""), fields]
        if env_uses:
            env = Table(title="Environment variables", title_justify="left", title_style="bold",
                        show_edge=False, header_style="bold dim", box=box.SIMPLE_HEAD, pad_edge=False)
            env.add_column("variable", no_wrap=True)
            env.add_column("field")
            env.add_column("status", no_wrap=True)
            env.add_column("default")
            for use in env_uses:
                status = Text("set", style="green") if use.is_set else Text("NOT SET", style="bold red")
                default = use.default or ""
                if not use.is_set and use.default is not None:
                    status = Text("NOT SET (default used)", style="yellow")
                env.add_row(use.name, use.field, status, default)
            parts += [Text(""), env]
        else:
            parts += [Text(""), Text("No environment variables used.", style="dim")]
        return Group(*parts)
