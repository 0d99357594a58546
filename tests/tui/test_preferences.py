"""Settings in the running app: a keymap file rebinds keys (the new key does the action, the old one no
longer does), and the theme is the one the file names."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from textual.color import Color
from textual.theme import BUILTIN_THEMES
from textual.widgets import Static

from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime.session import DebugSession, RunState, StepState
from osiris_tui.settings import PROJECT_FILE, load_settings
from osiris_tui.tui.app import DebuggerApp, KeyBar
from osiris_tui.tui.preferences import apply_settings, check_settings
from osiris_tui.tui.screens.help import HelpScreen

try:
    from tests.tui.app_support import copy_quickstart, settle, wait_session
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from app_support import copy_quickstart, settle, wait_session  # type: ignore[no-redef]

SIZE = (120, 36)


def configured_app(root: Path, text: str) -> tuple[DebuggerApp, DebugSession]:
    manifest = copy_quickstart(root)
    (manifest.parent / PROJECT_FILE).write_text(text)
    settings = load_settings(manifest, user_file=root / "no-user-config.toml")
    check_settings(settings)
    session = DebugSession(load_pipeline(manifest), run_dir=root / "run", reload=lambda: load_pipeline(manifest))
    app = DebuggerApp(session)
    apply_settings(app, settings)
    return app, session


async def test_keymap_file_rebinds_keys(tmp_path: Path) -> None:
    # step moves to j; continue takes n, which step had
    app, session = configured_app(tmp_path, '[keymap]\nosiris.step = "j"\n"osiris.continue" = "n,f5"\n')
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # the key bar and the help screen show the keys as remapped
        bar = str(app.query_one(KeyBar).render())
        assert " j Step" in bar and " n Continue" in bar and " c Continue" not in bar, bar
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(app.screen.query_one("#help-table", Static).content)
        help_lines = console.export_text().splitlines()
        assert any(" j " in line and "Step: run the next step" in line for line in help_lines)
        assert any(" n / F5 " in line and "Continue: run to the next" in line for line in help_lines)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("c")  # continue's old key: nothing runs
        await settle(pilot)
        assert session.run_state is RunState.READY
        await pilot.press("j")  # the new step key runs one step
        await wait_session(pilot, lambda s: s.status("extract-orders").state is StepState.DONE
                           and s.run_state is RunState.PAUSED)
        assert session.status("extract-customers").state is not StepState.DONE
        await pilot.press("n")  # n is continue now: to the end
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        assert all(session.status(i).state is StepState.DONE for i in session.pipeline.step_ids)


async def test_theme_from_the_settings_file_is_applied(tmp_path: Path) -> None:
    app, _ = configured_app(tmp_path, 'theme = "nord"\n')
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == "nord" and app.current_theme.name == "nord"
        nord = BUILTIN_THEMES["nord"]
        assert nord.background is not None
        assert app.screen.styles.background == Color.parse(nord.background)
