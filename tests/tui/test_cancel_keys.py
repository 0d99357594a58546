"""Stopping a running step from the app: `x` cancels it, `R` asks then restarts, `q` `y` quits at once —
whatever the driver does, including a DuckDB query and a driver that never checks for cancellation."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

from osiris_tui.manifest.model import Step
from osiris_tui.runtime.records import RunState
from osiris_tui.runtime.session import DebugSession, StepState
from osiris_tui.tui.app import DebuggerApp
from osiris_tui.tui.screens.confirm_stop import ConfirmRestart
from tests.support.records import STOPPED_TAIL
from tests.tui.app_support import Gate, pipeline, registry, session_for, settle, wait_running, wait_session

SIZE = (120, 36)
SLOW_SQL = "SELECT sum(a.i * b.range) AS s FROM (SELECT range AS i FROM range(1000)) a, range(100000000000) b"
ENTERED = threading.Event()


class NeverChecks:
    """Ignores cancellation entirely (sleeps in C): the executor has to abandon it."""

    def run(self, *, step_id: str, config: dict, inputs: dict | None, ctx: Any) -> dict:
        ENTERED.set()
        time.sleep(3)
        return {}


def gated_steps() -> list[Step]:
    return [Step("slow", "test.blocking", {}), Step("after", "test.range", {"rows": 5}, needs=["slow"])]


async def test_x_cancels_the_running_step_and_the_run_pauses_before_it(tmp_path: Path) -> None:
    gate = Gate()
    session = session_for(tmp_path, gated_steps(), gate)
    app = DebuggerApp(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("c")
            await wait_running(pilot, gate, "slow")
            await pilot.press("x")
            await wait_session(pilot, lambda s: s.status("slow").state is StepState.PAUSED)
            status = session.status("slow")
            assert status.cancelled and session.run_state is RunState.PAUSED
            errors = [e for e in session.events if e["event"] == "step_error"]
            assert errors and errors[-1]["cancelled"] is True
            assert app.is_running
            await pilot.press("x")  # nothing runs now: a notice, no error
            await settle(pilot)
            gate.release.set()
            await pilot.press("c")  # the cancelled step runs again
            await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
            assert session.status("slow").state is StepState.DONE and not session.status("slow").cancelled
    finally:
        gate.release.set()


async def test_x_stops_a_driver_that_never_checks(tmp_path: Path) -> None:
    reg = registry()
    reg.register("test.never_checks", NeverChecks)
    session = DebugSession(pipeline(tmp_path, [Step("stuck", "test.never_checks", {})]), registry=reg,
                           run_dir=tmp_path / "run")
    app = DebuggerApp(session)
    ENTERED.clear()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        assert await asyncio.to_thread(ENTERED.wait, 30)
        await pilot.press("x")
        await wait_session(pilot, lambda s: s.status("stuck").state is StepState.PAUSED)
        assert session.status("stuck").cancelled
        await pilot.press("2")  # still answering keys
        assert app.tabs.active == "config"


async def test_restart_while_a_step_runs_asks_then_cancels_and_restarts(tmp_path: Path) -> None:
    gate = Gate()
    session = session_for(tmp_path, gated_steps(), gate)
    app = DebuggerApp(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("n")
            await wait_running(pilot, gate, "slow")
            first_run = session.context
            await pilot.press("R")
            assert isinstance(app.screen, ConfirmRestart)
            await pilot.press("n")  # stay: the step keeps running
            assert not isinstance(app.screen, ConfirmRestart)
            assert session.status("slow").state is StepState.RUNNING
            await pilot.press("R")
            await pilot.press("y")
            await wait_session(pilot, lambda s: s.context is not first_run)
            assert session.run_state is RunState.READY
            ended = [e["event"] for e in first_run.events]
            assert ended[-1] == "run_end" and "cleanup_complete" in ended  # the replaced run ended properly
            assert any(e["event"] == "step_error" and e.get("cancelled") for e in first_run.events)
            assert {st.state for st in session.statuses()} <= {StepState.PAUSED, StepState.PENDING}
    finally:
        gate.release.set()


async def test_quit_during_a_duckdb_query_leaves_at_once_and_records_the_interrupt(tmp_path: Path) -> None:
    session = session_for(tmp_path, [Step("crunch", "duckdb.processor", {"query": SLOW_SQL})])
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await asyncio.to_thread(
            session.wait_until, lambda s: any(e["event"] == "artifact_created" for e in s.events), 30)
        await pilot.press("q")
        await pilot.press("y")
        await pilot.pause()
    assert not app.is_running
    assert session.run_state is RunState.CLOSED
    names = [e["event"] for e in session.events]
    assert names[-len(STOPPED_TAIL):] == STOPPED_TAIL
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    assert status["status"] == "interrupted"
