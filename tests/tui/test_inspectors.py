"""ConfigView, ConnectionView and MetricsView over a real DebugSession (Pilot + one SVG snapshot)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from textual.app import App

try:
    from tests.tui.test_inspectors_support import CANARY, SUPABASE_KEY, HostApp, make_session, run_to_end
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from test_inspectors_support import CANARY, SUPABASE_KEY, HostApp, make_session, run_to_end

from osiris_tui.secrets import MASK
from osiris_tui.tui.app import DebuggerApp
from osiris_tui.tui.widgets.config_view import ConfigView
from osiris_tui.tui.widgets.connection_view import NO_CONNECTION, ConnectionView
from osiris_tui.tui.widgets.metrics_view import TOTAL_KEY, MetricsView

SIZE = (120, 36)


def screen_text(app: App) -> str:
    """Everything on screen as plain text (from the SVG screenshot)."""
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


@pytest.fixture
def session(tmp_path: Path):
    s = make_session(tmp_path, with_connections=True)
    yield s
    s.close()


@pytest.fixture
def seed_session(tmp_path: Path):
    s = make_session(tmp_path)
    yield s
    s.close()


# -- ConfigView -------------------------------------------------------------------------------------
async def test_config_view_shows_driver_config_source_and_masks(session) -> None:
    view = ConfigView(session, id="config")
    app = HostApp(view)
    async with app.run_test(size=SIZE) as pilot:
        view.show_step("extract")
        await pilot.pause()
        text = screen_text(app)
        assert "inline in manifest.yaml:7" in text
        assert "filesystem.csv_extractor" in text
        assert "movies.csv" in view.text

        view.show_step("transform")
        await pilot.pause()
        text = screen_text(app)
        assert "Needs" in text and "extract" in text
        # highlighted SQL is one SVG text element per token (spaces are gaps between them): join them
        assert "SELECTtitle,yearFROMdf_extract" in re.sub(r"<[^>]+>|\s", "", text)

        view.show_step("publish")  # supabase: resolved_connection with a key and a DSN
        await pilot.pause()
        text = screen_text(app)
        assert "compiled from OML pipeline.yaml:30" in text
        assert '"resolved_connection"' in view.text
        assert '"service_role_key": "***"' in view.text
        assert '"pg_dsn": "***"' in view.text
        assert "component" not in view.text.split('"resolved_connection"')[0]  # stripped like the runner does
        for secret in (CANARY, SUPABASE_KEY):
            assert secret not in text and secret not in view.text

        view.show_step("customers")
        await pilot.pause()
        assert "cfg/customers.json" in screen_text(app)
        assert '"password": "***"' in view.text

        view.show_step(None)
        await pilot.pause()
        assert "Select a step" in screen_text(app)


# -- ConnectionView ---------------------------------------------------------------------------------
async def test_connection_view_resolved_masked_with_env(session) -> None:
    view = ConnectionView(session)
    app = HostApp(view)
    async with app.run_test(size=SIZE) as pilot:
        view.show_step("customers")
        await pilot.pause()
        assert view.state == "resolved"
        text = screen_text(app)
        assert "@mysql.shop" in text and "db.internal" in text and "osiris_connections.yaml" in text
        assert "password" in text and MASK in text
        assert "CANARY_PW" in text and "set" in text
        assert CANARY not in text

        view.show_step("publish")  # default alias, key + DSN, a variable with a default
        await pilot.pause()
        text = screen_text(app)
        assert "main (default)" in text
        assert "service_role_key" in text and "pg_dsn" in text
        assert "SB_SCHEMA" in text and "NOT SET (default used)" in text
        assert CANARY not in text and SUPABASE_KEY not in text
        assert "u:canary" not in text


async def test_connection_view_no_connection(session) -> None:
    view = ConnectionView(session)
    app = HostApp(view)
    async with app.run_test(size=SIZE) as pilot:
        view.show_step("transform")
        await pilot.pause()
        assert view.state == "none"
        text = screen_text(app)
        assert NO_CONNECTION in text and "duckdb" in text
        view.show_step(None)
        await pilot.pause()
        assert view.state == "empty"


async def test_connection_view_resolution_error_shows_message_and_fix(session) -> None:
    session.connections.env.pop("CANARY_PW")  # the variable is unset after the session started
    view = ConnectionView(session)
    app = HostApp(view)
    async with app.run_test(size=SIZE) as pilot:
        view.show_step("customers")
        await pilot.pause()
        assert view.state == "error"
        body = view.query_one("#connection-body")
        assert body.has_class("connection-error")
        text = screen_text(app)
        assert "cannot be resolved" in text
        assert "Environment variable 'CANARY_PW' not set" in text
        assert "osiris_connections.yaml:10" in text
        assert "export CANARY_PW=" in text  # the fix
        view.show_step("extract")
        await pilot.pause()
        assert not body.has_class("connection-error")


def test_connection_tab_snapshot_masks_secrets(session, snap_compare) -> None:
    shots: list[str] = []

    async def run_before(pilot) -> None:
        pilot.app.query_one(ConnectionView).show_step("publish")
        await pilot.pause()
        shots.append(pilot.app.export_screenshot())

    assert snap_compare(HostApp(ConnectionView(session)), terminal_size=SIZE, run_before=run_before)
    svg = html.unescape(shots[0])
    assert CANARY not in svg and SUPABASE_KEY not in svg
    assert "service_role_key" in svg.replace("\xa0", " ")
    stored = Path(__file__).parent / "__snapshots__" / Path(__file__).stem
    for file in stored.glob("*connection_tab*.svg"):
        assert CANARY not in file.read_text() and SUPABASE_KEY not in file.read_text()


def test_app_connection_tab_snapshot_masks_secrets(tmp_path: Path, fixed_times, snap_compare) -> None:
    """The full debugger on the Connection tab (key 3) of a supabase step: key and DSN masked."""
    session = make_session(tmp_path, with_connections=True)
    shots: list[str] = []

    async def run_before(pilot) -> None:
        app = pilot.app
        await pilot.pause()
        await pilot.press("down", "down", "down", "down", "3")  # extract → … → publish
        app.drain_session_updates()
        await pilot.pause()
        assert app.selected_step_id == "publish"
        assert app.connection_view.state == "resolved"
        shots.append(app.export_screenshot())

    try:
        assert snap_compare(DebuggerApp(session), terminal_size=SIZE, run_before=run_before)
    finally:
        session.close()
    svg = html.unescape(shots[0]).replace("\xa0", " ")
    assert CANARY not in svg and SUPABASE_KEY not in svg
    assert "service_role_key" in svg and "pg_dsn" in svg


# -- MetricsView ------------------------------------------------------------------------------------
async def test_metrics_view_rows_duration_memory_totals(seed_session) -> None:
    view = MetricsView(seed_session)
    app = HostApp(view)
    async with app.run_test(size=SIZE) as pilot:
        assert view.row_count == 4  # three steps + totals
        assert str(view.get_cell("extract", "read")) == "—"
        run_to_end(seed_session)
        view.refresh_metrics()
        await pilot.pause()
        assert str(view.get_cell("extract", "read")) == "5"
        assert str(view.get_cell("transform", "read")) == "5"
        assert str(view.get_cell("transform", "written")) == "3"
        assert str(view.get_cell("write", "written")) == "3"
        # the totals: rows into the pipeline (its source) and out of it (its sink), each counted once
        assert str(view.get_cell(TOTAL_KEY, "read")) == "5"
        assert str(view.get_cell(TOTAL_KEY, "written")) == "3"
        assert str(view.get_cell("extract", "state")) == "done"
        assert str(view.get_cell(TOTAL_KEY, "state")) == "3/3 done"
        assert str(view.get_cell("extract", "duration")) not in ("", "—")
        assert str(view.get_cell("extract", "memory")).endswith("B")  # a cached frame has a size
        assert str(view.get_cell("write", "memory")) == "—"  # writers cache nothing

        view.show_step("transform")
        await pilot.pause()
        assert view.cursor_row == 1
        view.show_step("write")
        await pilot.pause()
        assert view.cursor_row == 2

        # a refresh with nothing new keeps the sums (incremental, no double counting)
        view.refresh_metrics()
        view.refresh_metrics()
        assert str(view.get_cell(TOTAL_KEY, "read")) == "5"
