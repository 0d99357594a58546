"""SVG snapshot of the diff view at 100x30: the compiled sample's join after its query was edited and re-run.
Update with `--snapshot-update` (this file only), then look at it."""

from __future__ import annotations

from pathlib import Path

from osiris_tui.tui.app import DebuggerApp
from osiris_tui.tui.widgets.data.diff_view import DiffScreen

try:
    from tests.tui.app_support import settle
    from tests.tui.test_diff_view import SIZE, compiled_session, rerun_edited
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from app_support import settle  # type: ignore[no-redef]
    from test_diff_view import SIZE, compiled_session, rerun_edited  # type: ignore[no-redef]


def test_diff_view(snap_compare, fixed_times: None, tmp_path: Path) -> None:
    session, cfg = compiled_session(tmp_path)
    app = DebuggerApp(session)

    async def run_before(pilot) -> None:
        await rerun_edited(pilot, app, cfg)
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, DiffScreen) and app.screen.result is not None
        await pilot.press("right_square_bracket")
        await settle(pilot)
        app.clear_notifications()  # a toast about the edited file is not what this picture is of
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
