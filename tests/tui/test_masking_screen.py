"""The debugger never shows a secret: the Config, Connection and Events tabs and the error panel of a step
whose connection and driver carry canaries in every form."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from textual.app import App

from osiris_tui.drivers.registry import default_registry
from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime.connections import Connections
from osiris_tui.runtime.session import DebugSession, RunState
from osiris_tui.secrets import MASK
from osiris_tui.tui.app import DebuggerApp

try:
    from tests.tui.app_support import settle, wait_session
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from app_support import settle, wait_session  # type: ignore[no-redef]
from tests.unit.test_masking_sources import CANARIES, LeakyDriver, forms, write_project

SIZE = (160, 50)


def screen_text(app: App) -> str:
    """What the terminal shows: the screenshot's text, and the same with the SVG markup removed (a value
    split over several styled spans is joined again)."""
    svg = html.unescape(app.export_screenshot()).replace("\xa0", " ")
    return svg + "\n" + re.sub(r"<[^>]+>", "", svg)


def assert_no_canary(text: str, where: str) -> None:
    for canary in CANARIES:
        for form in forms(canary):
            assert form not in text, f"{canary!r} (as {form!r}) on the {where}"


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CANARY_TOKEN", "canary-env-Qw3e5r")
    monkeypatch.delenv("UNSET_CANARY_VAR", raising=False)
    monkeypatch.chdir(tmp_path)
    manifest, conn_file = write_project(tmp_path)
    registry = default_registry()
    registry.register("mysql.extractor", LeakyDriver)
    s = DebugSession(load_pipeline(manifest, drivers=registry.names()), registry=registry,
                     connections=Connections.discover(tmp_path, explicit=conn_file), run_dir=tmp_path / "run")
    yield s
    s.close()


async def test_config_connection_and_events_tabs_show_no_canary(session: DebugSession) -> None:
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.selected_step_id == "load"

        await pilot.press("2")
        await settle(pilot)
        text = screen_text(app)
        assert "resolved_connection" in text and MASK in text
        assert_no_canary(text, "Config tab")
        assert_no_canary(app.config_view.text, "Config tab's JSON")

        await pilot.press("3")
        await settle(pilot)
        assert app.connection_view.state == "resolved"
        text = screen_text(app)
        assert "accessToken" in text and "UNSET_CANARY_VAR" in text and MASK in text
        assert_no_canary(text, "Connection tab")

        await pilot.press("c")
        await wait_session(pilot, lambda s: s.run_state is RunState.FAILED)
        await pilot.press("4")
        await settle(pilot)
        text = screen_text(app)
        assert "auth_attempt" in text and "step_error" in text and "login failed" in text
        assert_no_canary(text, "Events tab and error panel")
        assert_no_canary("\n".join(e.text for e in app.event_log.lines.entries), "event log's lines")
        assert_no_canary(app.error_panel.message_text, "error panel")

        await pilot.press("2")  # after the run, with the driver's secrets registered too
        await settle(pilot)
        assert_no_canary(screen_text(app), "Config tab after the run")
