"""The step list with checkpoints: opening shows which steps are cached and how old; continuing takes
them (snapshot at 100x30, ages fixed); the reuse key turns reuse off and on for a step."""

from __future__ import annotations

from pathlib import Path

import pytest

from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime.checkpoints import CheckpointStore, SessionCheckpoints
from osiris_tui.runtime.session import DebugSession, RunState
from osiris_tui.tui import format as fmt
from osiris_tui.tui.app import DebuggerApp
from osiris_tui.tui.commands import KEYS

REUSE_KEY = next(k.keys.split(",")[0] for k in KEYS if k.id == "osiris.reuse")

try:
    from tests.tui.app_support import copy_quickstart, settle, wait_session
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from app_support import copy_quickstart, settle, wait_session  # type: ignore[no-redef]


def resumed_session(root: Path) -> DebugSession:
    """A session over a quickstart copy whose steps all ran once before (their checkpoints are there)."""
    manifest = copy_quickstart(root)
    store = CheckpointStore(root / "ck")

    def make(name: str) -> DebugSession:
        return DebugSession(load_pipeline(manifest), run_dir=root / name, reload=lambda: load_pipeline(manifest),
                            checkpoints=SessionCheckpoints(store))

    first = make("run0").start()
    first.continue_()
    assert first.wait_until(lambda s: s.run_state is RunState.FINISHED and s.idle, 60)
    first.close()
    return make("run1")


@pytest.fixture
def fixed_ages(fixed_times: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fmt, "age", lambda seconds: "" if seconds is None else "3h ago")


def test_opening_shows_the_cached_steps_at_100x30(snap_compare, tmp_path: Path, fixed_ages: None) -> None:
    app = DebuggerApp(resumed_session(tmp_path))

    async def run_before(pilot) -> None:
        await settle(pilot)
        assert set(app.session.cached_steps()) == {"extract-orders", "extract-customers", "revenue"}

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


async def test_the_reuse_key_turns_reuse_off_for_a_step(tmp_path: Path, fixed_ages: None) -> None:
    app = DebuggerApp(resumed_session(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(REUSE_KEY)  # on the first step: it will run
        await settle(pilot)
        cached = app.session.cached_steps()
        assert not cached["extract-orders"].reuse and cached["revenue"].reuse
        line = "".join(seg.text for seg in app.step_list.render_line(0)._segments)
        assert "off · 3h ago" in line
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        assert app.session.status("extract-orders").cached_age is None  # it ran
        assert app.session.status("extract-customers").cached_age is not None
        # extract-orders read the same file again: the same output, so revenue's checkpoint still holds
        assert app.session.status("revenue").cached_age is not None
        line = "".join(seg.text for seg in app.step_list.render_line(3)._segments)
        assert "stomers" in line and "cached 3h ago" in line  # extract-customers (lines 3-5)
