"""Snapshots of the Config tab at 100x30: a failed step's SQL with the error's place marked, and the inline
editor. Update with `--snapshot-update`, then look at them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime.session import DebugSession, StepState
from osiris_tui.tui import format as fmt
from osiris_tui.tui.app import DebuggerApp

try:
    from tests.tui.app_support import REPO, settle, wait_session
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from app_support import REPO, settle, wait_session  # type: ignore[no-redef]

SIZE = (100, 30)


@pytest.fixture(autouse=True)
def _fixed_text(fixed_times: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fmt, "traceback", lambda text: "Traceback (fixed for the snapshot)" if text else "")


def failing_app(root: Path) -> DebuggerApp:
    for name in ("quickstart", "failing"):
        shutil.copytree(REPO / "sample_manifests" / name, root / name,
                        ignore=shutil.ignore_patterns("out", ".osiris-tui"))
    manifest = root / "failing" / "manifest.yaml"
    return DebuggerApp(DebugSession(load_pipeline(manifest), run_dir=root / "run",
                                    reload=lambda: load_pipeline(manifest)))


async def _failed_on_config_tab(pilot) -> None:
    await settle(pilot)
    await pilot.press("c")
    await wait_session(pilot, lambda s: s.status("enrich").state is StepState.FAILED)
    await pilot.press("2")
    await settle(pilot)


def test_sql_with_the_error_marked(snap_compare, tmp_path: Path) -> None:
    app = failing_app(tmp_path)

    async def run_before(pilot) -> None:
        await _failed_on_config_tab(pilot)
        assert "LINE 1:" in (app.session.status("enrich").error or "")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_inline_sql_editor(snap_compare, tmp_path: Path) -> None:
    app = failing_app(tmp_path)

    async def run_before(pilot) -> None:
        await _failed_on_config_tab(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert app.config_view.editor is not None
        app.config_view.editor.area.move_cursor((0, 15))
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
