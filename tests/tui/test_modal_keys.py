"""While a dialog (a ModalScreen) is up, the debugger's keys do nothing behind it (Textual stops app bindings
at a modal screen); only Textual's priority ctrl+q still reaches the app."""

from __future__ import annotations

from pathlib import Path

from osiris_tui.manifest.model import Step
from osiris_tui.tui.app import DebuggerApp
from osiris_tui.tui.screens.confirm_stop import ConfirmQuit
from osiris_tui.tui.screens.help import HelpScreen

try:
    from tests.tui.app_support import Gate, quickstart_session, session_for, settle, wait_running
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from app_support import Gate, quickstart_session, session_for, settle, wait_running  # type: ignore[no-redef]

SIZE = (120, 36)
RUN_KEYS = ("n", "f10", "c", "f5", "t", "p", "b", "f9", "r", "R", "x", "e", "E", "2", "4", "slash")


async def test_run_keys_do_nothing_behind_the_help_screen(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = [(s.step_id, s.state, s.runs) for s in session.statuses()]
        tab, selected, run_dir = app.tabs.active, app.selected_step_id, session.context.run_dir
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        for key in RUN_KEYS:
            await pilot.press(key)
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert [(s.step_id, s.state, s.runs) for s in session.statuses()] == before
        assert session.breakpoints == set()
        assert session.context.run_dir == run_dir  # not restarted
        assert (app.tabs.active, app.selected_step_id) == (tab, selected)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_ctrl_q_does_not_stack_a_second_quit_dialog(tmp_path: Path) -> None:
    gate = Gate()
    session = session_for(tmp_path, [Step("slow", "test.blocking", {})], gate)
    app = DebuggerApp(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("n")
            await wait_running(pilot, gate, "slow")
            await pilot.press("ctrl+q")
            assert isinstance(app.screen, ConfirmQuit)
            await pilot.press("ctrl+q")
            assert isinstance(app.screen, ConfirmQuit)
            await pilot.press("n")  # stay: the dialog goes, and no other one is left behind it
            assert not isinstance(app.screen, ConfirmQuit)
            assert app.is_running
    finally:
        gate.release.set()


def test_no_two_app_keys_share_a_key() -> None:
    """Every key reaches one action; only `/` is shared, told apart by the tab it is pressed on."""
    from collections import Counter

    from osiris_tui.tui.commands import KEYS

    counts = Counter(key for k in KEYS for key in k.keys.split(","))
    assert {key for key, n in counts.items() if n > 1} == {"slash"}
    displays = Counter(part for k in KEYS for part in k.display.split(" / "))
    assert {d for d, n in displays.items() if n > 1} == {"/"}
