"""EventLog: live records from a real run, filters, following the tail, and a 100k-record flood."""

from __future__ import annotations

import asyncio
import html
import itertools
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.widgets import Checkbox, Input, Select

try:
    from tests.tui.test_inspectors_support import CANARY, HostApp, make_session, run_to_end
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from test_inspectors_support import CANARY, HostApp, make_session, run_to_end

from osiris_tui.runtime.records import EventRecord
from osiris_tui.runtime.session import RunState
from osiris_tui.tui import format as fmt
from osiris_tui.tui.app import DebuggerApp
from osiris_tui.tui.widgets import event_log as event_log_module
from osiris_tui.tui.widgets.event_log import TYPE_ERRORS, TYPE_EVENTS, TYPE_METRICS, EventLines, EventLog
from tests.support.records import as_records
from tests.tui.app_support import settle, wait_loaded

SIZE = (120, 36)


def screen_text(app: App) -> str:
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


def shown(log: EventLog) -> list[str]:
    return [e.text for e in log.lines.entries]


@pytest.fixture
def recorded(tmp_path: Path):
    """A finished run of the seed pipeline and its records in the order subscribers saw them."""
    session = make_session(tmp_path)
    records: list[Any] = []
    session.subscribe(records.append, replay=True)  # what was logged before subscribing comes first
    run_to_end(session)
    yield session, records
    session.close()


@pytest.fixture
def stable_times(monkeypatch):
    """Fixed times and durations so snapshots do not depend on the clock."""
    counter = itertools.count()
    monkeypatch.setattr(event_log_module, "format_time",
                        lambda ts: f"10:00:{next(counter) // 1000:02d}.{next(counter) % 1000:03d}")
    monkeypatch.setattr(fmt, "duration", lambda seconds: "" if seconds is None else "12ms")
    monkeypatch.setattr(fmt, "seconds", lambda value: "" if value is None else "0.012s")


def synthetic(n: int, start: int = 0) -> list[Any]:
    """`n` records shaped like a run's: events and metrics over seven steps, some errors, some noise."""
    names = ["step_start", "inputs_resolved", "connection_resolve_start", "write.progress", "step_complete"]
    out = []
    for i in range(start, start + n):
        step = f"s{i % 7}"
        ts = f"2025-11-01T10:{(i // 60000) % 60:02d}:{(i // 1000) % 60:02d}.{i % 1000:03d}Z"
        if i % 4 == 3:
            out.append({"kind": "metric", "ts": ts, "session": "x", "metric": "rows_read", "value": i,
                        "step_id": step})
        elif i % 997 == 0:
            out.append({"kind": "event", "ts": ts, "session": "x", "event": "step_error", "step_id": step,
                        "error": f"boom {i}"})
        else:
            out.append({"kind": "event", "ts": ts, "session": "x", "event": names[i % 5], "step_id": step,
                        "rows": i})
        if i % 50 == 0:
            out.append({"kind": "state", "step_id": step, "state": "running", "run_state": "running"})
    return as_records(out)


# -- a real run -------------------------------------------------------------------------------------
async def test_history_loads_on_mount_and_batches_are_not_duplicated(recorded) -> None:
    session, records = recorded
    log = EventLog(session)
    app = HostApp(log)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        expected = len(session.events) + len(session.metrics)
        assert len(log.records) == expected
        assert log.lines.line_count == expected
        log.add_records(records)  # the app's first flush overlaps what the session had already logged
        assert len(log.records) == expected
        late = {"kind": "event", "ts": "2999-01-01T00:00:00.000Z", "event": "late", "step_id": "write"}
        log.add_records(as_records([late]))
        assert len(log.records) == expected + 1
        text = screen_text(app)
        assert "step_complete" in text and "rows_written" in text


async def test_lines_show_time_name_step_and_key_fields(recorded) -> None:
    session, records = recorded
    log = EventLog(session, load_history=False)
    app = HostApp(log)
    async with app.run_test(size=SIZE) as pilot:
        log.add_records(records)
        await pilot.pause()
        complete = next(t for t in shown(log) if "step_complete" in t and "transform" in t)
        time = complete[:12]
        assert time[2] == ":" and time[8] == "." and len(time.strip()) == 12
        assert "rows=3" in complete and "duration=" in complete
        assert "output_dir=run/artifacts/transform" in complete  # paths relative to the manifest
        metric = next(t for t in shown(log) if "rows_written" in t and "transform" in t)
        assert "◆ rows_written" in metric and "= 3" in metric
        assert not any(t.split()[1] == "state" for t in shown(log))  # state records ignored
        assert log.lines.entries[-1].text.split()[1] == "run_end"  # following the tail
        assert log.lines.scroll_offset.y == log.lines.max_scroll_y


async def test_step_toggle_type_and_text_filters(recorded) -> None:
    session, records = recorded
    log = EventLog(session, load_history=False)
    app = HostApp(log)
    async with app.run_test(size=SIZE) as pilot:
        log.add_records(records)
        total = log.lines.line_count
        log.show_step("transform")
        assert log.lines.line_count == total  # all steps until the toggle is on
        log.lines.focus()
        await pilot.press("a")  # only the selected step
        assert log.only_selected and log.query_one(Checkbox).value
        assert shown(log) and all(" transform " in t for t in shown(log))
        log.show_step("write")  # the selection follows the step list
        assert shown(log) and all(" write " in t for t in shown(log))
        await pilot.press("a")
        assert log.lines.line_count == total

        await pilot.press("k")  # events only
        assert log.type_filter == TYPE_EVENTS and log.query_one(Select).value == TYPE_EVENTS
        assert all("◆" not in t for t in shown(log))
        await pilot.press("k")
        assert log.type_filter == TYPE_METRICS
        assert shown(log) and all("◆" in t for t in shown(log))
        log.type_filter = "all"

        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"rows_read", "enter")  # enter applies at once (no waiting for the debounce)
        assert shown(log) and all("rows_read" in t for t in shown(log))
        assert log.lines.has_focus

        log.set_step_filter("extract")  # the app's API
        assert shown(log) and all("rows_read" in t and " extract " in t for t in shown(log))
        log.set_step_filter(None)
        assert not log.only_selected
        status = screen_text(app)
        assert "rows_read" in status and "records" in status


async def test_records_are_masked_on_their_way_to_the_screen(tmp_path: Path) -> None:
    """A record that reaches the session's stream unmasked (a source that forgot) is masked by the app's
    screen guard before the event log shows it."""
    session = make_session(tmp_path, with_connections=True)  # registers the canary as a secret
    try:
        app = DebuggerApp(session)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("4")
            await pilot.pause()
            line = {"ts": "2099-11-01T10:00:00.000Z", "session": "x", "event": "step_error",
                    "step_id": "customers", "error": f"login failed for etl:{CANARY}"}
            session.stream.emit(lambda seq: EventRecord(seq, "step_error", line))  # unmasked, past the source
            app.drain_session_updates(budget=float("inf"))
            await pilot.pause()
            assert "login failed" in screen_text(app)
            assert CANARY not in screen_text(app)
            assert any(e.is_error and "login failed" in e.text for e in app.event_log.lines.entries)
    finally:
        session.close()


def test_events_tab_snapshot_after_a_run(recorded, stable_times, snap_compare) -> None:
    session, records = recorded

    async def run_before(pilot) -> None:
        pilot.app.query_one(EventLog).add_records(records)
        await pilot.pause()

    app = HostApp(EventLog(session, load_history=False))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_app_events_tab_snapshot_after_a_run(tmp_path: Path, fixed_times, stable_times, snap_compare) -> None:
    """The full debugger on the Events tab (key 4) after continuing (c) to the end of the run."""
    session = make_session(tmp_path)

    async def run_before(pilot) -> None:
        app = pilot.app
        await wait_loaded(pilot)  # the Events tab's view is mounted once the warm-up is done
        await pilot.press("4", "c")
        done = await asyncio.to_thread(
            session.wait_until, lambda s: s.run_state is RunState.FINISHED and not s.busy, 60)
        assert done
        await settle(pilot)  # the app drains on a timer; do it now
        assert any("run_end" in t for t in shown(app.event_log))
        lines = app.event_log.query_one(EventLines)
        for _ in range(100):  # following the tail: at its end once the scrollbars are laid out
            if lines.max_scroll_y and lines.scroll_offset.y == lines.max_scroll_y:
                break
            await pilot.pause()

    try:
        # tall enough for every event of the run: no scrollbar, whose thumb may be drawn before or after
        # the log's last follow-the-tail scroll
        assert snap_compare(DebuggerApp(session), terminal_size=(120, 60), run_before=run_before)
    finally:
        session.close()


# -- a flood ----------------------------------------------------------------------------------------
async def test_100k_records_stay_bounded_and_filter(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    try:
        log = EventLog(session, max_lines=2_000, load_history=False)
        app = HostApp(log)
        async with app.run_test(size=SIZE) as pilot:
            records = synthetic(100_000)
            for i in range(0, len(records), 1_000):
                log.add_records(records[i:i + 1_000])
                assert log.lines.line_count <= 2_000 + 2_000 // 10
            await pilot.pause()
            lines: EventLines = log.lines
            assert len(log.records) == 100_000  # every record kept for re-filtering (state ones dropped)
            assert lines.line_count <= 2_200
            assert len(lines._cache) <= lines.size.height + 1  # only the visible rows were rendered
            assert lines.scroll_offset.y == lines.max_scroll_y  # following the tail
            assert "99999" in shown(log)[-1] or "99998" in shown(log)[-1]

            log.type_filter = TYPE_ERRORS
            errors = [r for r in records if r.kind == "event" and r.name == "step_error"]
            assert log.lines.line_count == len(errors) > 50
            assert all("step_error" in t for t in shown(log))

            log.type_filter = "all"
            log.query_one(Input).value = "s3 connection_resolve_start"
            log.refilter()
            matches = [r for r in records
                       if r.step_id == "s3" and r.kind == "event" and r.name == "connection_resolve_start"]
            assert len(matches) > 2_000
            assert log.lines.line_count == 2_000  # the matches' tail
            assert all(" s3 " in t and "connection_resolve_start" in t for t in shown(log))

            # new records are filtered incrementally, without a re-scan
            log.add_records(synthetic(20, start=100_003))
            assert all(" s3 " in t and "connection_resolve_start" in t for t in shown(log))
            assert log.lines.line_count <= 2_200

            # a user who scrolled up is not dragged to the tail
            log.query_one(Input).value = ""
            log.refilter()
            lines.scroll_to(y=100, animate=False, immediate=True)
            log.add_records(synthetic(10, start=200_000))
            assert lines.scroll_offset.y == 100
    finally:
        session.close()
