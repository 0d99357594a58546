"""Cancelling a running step, whatever its driver does: the order of what is logged, what is left behind,
and that finished steps keep their frames. Waits are on state, bounded generously; the latencies
themselves are measured by bench/cancel_latency.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from osiris_tui.drivers.base import StepCancelled
from osiris_tui.drivers.filesystem import CsvExtractor, CsvWriter
from osiris_tui.drivers.registry import default_registry
from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime.connections import Connections
from osiris_tui.runtime.context import ExecutionContext
from osiris_tui.runtime.records import EventRecord, Record
from osiris_tui.runtime.session import DebugSession, RunState, StepState
from tests.support.records import FAILED_END, STOPPED_TAIL

ENTERED = threading.Event()
SLOW_SQL = "SELECT sum(a.x * b.range) AS s FROM df_make a, range(100000000000) b"


class Stubborn:
    """Never checks for cancellation and ignores everything: only a kill stops it."""

    def run(self, *, step_id: str, config: dict, inputs: dict | None, ctx: Any) -> dict:
        ctx.log_event("stubborn_started")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(0.01)
        return {}


class StubbornInProcess:
    """The same, run in this process: the executor must abandon it."""

    def run(self, *, step_id: str, config: dict, inputs: dict | None, ctx: Any) -> dict:
        ENTERED.set()
        time.sleep(5)
        ctx.log_event("late_event_from_an_abandoned_step")
        return {"df": pd.DataFrame({"late": [1]})}


class Exits:
    """Calls sys.exit from inside a step."""

    def run(self, *, step_id: str, config: dict, inputs: dict | None, ctx: Any) -> dict:
        raise SystemExit(3)


class Dies:
    """Ends the worker process from inside a step (as a crash in C would)."""

    def run(self, *, step_id: str, config: dict, inputs: dict | None, ctx: Any) -> dict:
        os._exit(9)


MANIFEST = f"""\
name: c
steps:
  - {{id: make, driver: duckdb.processor, config: {{query: "SELECT range AS x FROM range(1000)"}}}}
  - {{id: slow, driver: __DRIVER__, needs: [make], config: {{query: "{SLOW_SQL}"}}}}
  - {{id: after, driver: duckdb.processor, needs: [make], config: {{query: "SELECT count(*) AS n FROM df_make"}}}}
"""


@pytest.fixture
def make(tmp_path: Path):
    sessions: list[DebugSession] = []

    def _make(driver: str = "duckdb.processor") -> DebugSession:
        path = tmp_path / "m.yaml"
        path.write_text(MANIFEST.replace("__DRIVER__", driver))
        registry = default_registry()
        registry.register("test.stubborn", Stubborn, isolated=True)
        registry.register("test.stubborn_here", StubbornInProcess)
        registry.register("test.exits", Exits)
        registry.register("test.dies", Dies, isolated=True)
        session = DebugSession(load_pipeline(path, drivers=registry.names()), registry=registry,
                               connections=Connections(None, {}), run_dir=tmp_path / "run")
        sessions.append(session.start())
        return session

    yield _make
    for s in sessions:
        s.close()


# How a run that failed or was interrupted ends, after `cleanup_complete` (Osiris's order, compat §5.3).


def names(session: DebugSession) -> list[str]:
    return [e["event"] for e in session.events]


def run_until_running(session: DebugSession, step_id: str = "slow") -> None:
    session.continue_()
    assert session.wait_until(lambda s: s.status(step_id).state is StepState.RUNNING, 30)
    # the driver is in its call once its step's inputs are wired
    assert session.wait_until(lambda s: "inputs_resolved" in names(s) and names(s)[-1] != "step_start", 30)


@pytest.mark.parametrize("driver", ["duckdb.processor", "test.stubborn", "test.stubborn_here"])
def test_cancel_step_pauses_before_it_and_keeps_finished_frames(make, driver: str) -> None:
    s = make(driver)
    run_until_running(s)
    if driver == "test.stubborn_here":
        assert ENTERED.wait(30)
    assert s.cancel_step()
    assert s.wait_idle(30)
    status = s.status("slow")
    assert status.state is StepState.PAUSED and status.cancelled
    assert s.run_state is RunState.PAUSED
    error = [e for e in s.events if e["event"] == "step_error"][-1]
    assert error["step_id"] == "slow" and error["cancelled"] is True
    frame = s.output("make")
    assert frame is not None and len(frame) == 1000  # finished steps keep their output
    # the run goes on from there: the cancelled step is next again
    assert s.next_step_id() == "slow"


def test_an_abandoned_step_adds_nothing_later(make) -> None:
    ENTERED.clear()
    s = make("test.stubborn_here")
    run_until_running(s)
    assert ENTERED.wait(30)
    s.cancel_step()
    assert s.wait_idle(30)
    count = len(s.events)
    s.interrupt()
    assert "late_event_from_an_abandoned_step" not in names(s)
    assert s.output("slow") is None
    assert len(s.events) > count  # the interrupt's own records, nothing from the step


@pytest.mark.parametrize("driver", ["duckdb.processor", "test.stubborn", "test.stubborn_here"])
def test_interrupt_ends_the_run_in_order(make, driver: str, tmp_path: Path) -> None:
    s = make(driver)
    run_until_running(s)
    if driver == "test.stubborn_here":
        assert ENTERED.wait(30)
    s.interrupt()
    tail = names(s)[-(3 + len(FAILED_END)):]
    assert tail == STOPPED_TAIL
    assert s.events[-(3 + len(FAILED_END))]["cancelled"] is True
    status = json.loads((tmp_path / "run/status.json").read_text())
    assert status["status"] == "interrupted" and status["ok"] is False
    assert not (tmp_path / "run/working").exists() or not any((tmp_path / "run/working").iterdir())
    s.close()
    assert not (tmp_path / "run/working").exists()


def test_interrupt_between_steps_is_still_interrupted(make, tmp_path: Path) -> None:
    s = make()
    s.step()
    assert s.wait_idle(30)
    s.interrupt()
    assert names(s)[-(2 + len(FAILED_END)):] == ["execution_interrupted", "cleanup_complete", *FAILED_END]
    assert json.loads((tmp_path / "run/status.json").read_text())["status"] == "interrupted"


def test_a_worker_that_dies_fails_the_step_not_the_session(make) -> None:
    s = make("test.dies")
    s.continue_()
    assert s.wait_until(lambda s: s.run_state is RunState.FAILED and s.idle, 60)
    assert "died" in (s.status("slow").error or "")
    assert s.output("make") is not None


def test_sys_exit_in_a_driver_fails_the_step(make) -> None:
    s = make("test.exits")
    s.continue_()
    assert s.wait_until(lambda s: s.run_state is RunState.FAILED and s.idle, 30)
    assert s.status("slow").state is StepState.FAILED
    assert "SystemExit" in (s.status("slow").traceback or "") or "3" in (s.status("slow").error or "")


def test_restart_while_running_cancels_and_starts_over(make) -> None:
    s = make()
    run_until_running(s)
    first = s.context
    s.restart()
    assert s.wait_until(lambda s: s.context is not first and s.idle, 30)
    assert s.run_state is RunState.READY
    first_names = [e["event"] for e in first.events]
    assert first_names[-(3 + len(FAILED_END)):] == ["step_error", "run_error", "cleanup_complete", *FAILED_END] \
        or first_names[-(2 + len(FAILED_END)):] == ["step_error", "cleanup_complete", *FAILED_END]
    assert all(st.state in (StepState.PAUSED, StepState.PENDING) for st in s.statuses())


# -- drivers stop at once -----------------------------------------------------------------------------
def _ctx(tmp_path: Path) -> Any:
    return ExecutionContext(tmp_path / "run").for_step("s")


def test_csv_read_stops_mid_parse(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("a,b\n" + "1,x\n" * 300_000)
    ctx = _ctx(tmp_path)
    reads = {"n": 0}
    original = ctx.check_cancelled

    def check() -> None:  # cancel after the first block was parsed
        reads["n"] += 1
        if reads["n"] == 2:
            ctx.cancellation.cancel()
        original()

    ctx.check_cancelled = check
    with pytest.raises(StepCancelled):
        CsvExtractor().run(step_id="s", config={"path": str(path)}, inputs=None, ctx=ctx)
    assert reads["n"] == 2  # stopped at the block after the cancel, not at the end of the file


def test_csv_write_stopped_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old,content\n1,2\n")
    ctx = _ctx(tmp_path)
    writes = {"n": 0}
    original = ctx.check_cancelled

    def check() -> None:
        writes["n"] += 1
        if writes["n"] == 3:
            ctx.cancellation.cancel()
        original()

    ctx.check_cancelled = check
    df = pd.DataFrame({"a": range(500_000), "b": ["x"] * 500_000})
    with pytest.raises(StepCancelled):
        CsvWriter().run(step_id="s", config={"path": str(target)}, inputs={"df": df}, ctx=ctx)
    assert target.read_text() == "old,content\n1,2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "run"]


# -- headless: signals ----------------------------------------------------------------------------------
def _headless(tmp_path: Path) -> subprocess.Popen[str]:
    (tmp_path / "m.yaml").write_text(MANIFEST.replace("__DRIVER__", "duckdb.processor"))
    return subprocess.Popen([sys.executable, "-m", "osiris_tui", "run", str(tmp_path / "m.yaml"), "--json",
                             "--run-dir", str(tmp_path / "run")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _wait_for_slow_query(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if '"inputs_resolved"' in line and '"slow"' in line:
            return
    raise AssertionError("the slow step never started")


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_a_query_ends_the_run_in_order(tmp_path: Path, sig: int, code: int) -> None:
    proc = _headless(tmp_path)
    _wait_for_slow_query(proc)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    events = [json.loads(x)["event"] for x in (tmp_path / "run/events.jsonl").read_text().splitlines()]
    assert events[-len(STOPPED_TAIL):] == STOPPED_TAIL
    status = json.loads((tmp_path / "run/status.json").read_text())
    assert status["status"] == "interrupted"
    assert not (tmp_path / "run/working").exists()
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["type"] == "summary" and summary["status"] == "interrupted"
    assert summary["run_dir"] == str(tmp_path / "run")


def test_a_second_ctrl_c_still_leaves_a_valid_status(tmp_path: Path) -> None:
    proc = _headless(tmp_path)
    _wait_for_slow_query(proc)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert json.loads((tmp_path / "run/status.json").read_text())["status"] == "interrupted"


def test_headless_prints_what_prepare_logged(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        "steps:\n  - {id: a, driver: duckdb.processor, config: {query: 'SELECT 1 AS x'}}\n")
    result = subprocess.run([sys.executable, "-m", "osiris_tui", "run", str(tmp_path / "m.yaml"), "--json",
                             "--run-dir", str(tmp_path / "run")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    written = [json.loads(x) for x in (tmp_path / "run/events.jsonl").read_text().splitlines()]
    printed = [x["event"] for x in lines[:-1] if "event" in x]
    assert printed == [x["event"] for x in written]  # every event, prepare's first
    assert [x["event"] for x in lines[:3]] == ["run_start", "adapter_selected", "adapter_prepare_start"]
    assert lines[-1]["type"] == "summary" and lines[-1]["ok"] is True


# -- records: ordered under forced thread switches --------------------------------------------------------
def test_records_stay_ordered_under_forced_thread_switches(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("steps:\n"
                    "  - {id: a, driver: duckdb.processor, config: {query: 'SELECT 1 AS x'}}\n"
                    "  - {id: b, driver: duckdb.processor, needs: [a],"
                    " config: {query: 'SELECT x + 1 AS y FROM df_a'}}\n")
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for i in range(100):
            session = DebugSession(load_pipeline(path), connections=Connections(None, {}),
                                   run_dir=tmp_path / f"run{i}")
            seen: list[Record] = []
            session.subscribe(seen.append, replay=True)
            toggler = threading.Thread(target=lambda s=session: [s.toggle_breakpoint("b") for _ in range(6)])
            toggler.start()
            session.step()
            assert not session.idle  # queued counts as not idle, at once
            toggler.join()
            assert session.wait_idle(30)
            assert session.breakpoints == set()  # six toggles, each atomic
            session.continue_()
            assert session.wait_until(lambda s: s.run_state is RunState.FINISHED and s.idle, 30)
            session.close()
            seqs = [r.seq for r in seen]
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), f"iteration {i}"
            logged = [r.name for r in seen if isinstance(r, EventRecord)]
            assert logged == [e["event"] for e in session.events], f"iteration {i}"
    finally:
        sys.setswitchinterval(previous)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # it dies on purpose
def test_a_dead_worker_thread_fails_the_headless_run_instead_of_hanging(tmp_path: Path, monkeypatch) -> None:
    import io

    from osiris_tui.headless import run_headless

    path = tmp_path / "m.yaml"
    path.write_text("steps:\n  - {id: a, driver: duckdb.processor, config: {query: 'SELECT 1 AS x'}}\n")
    session = DebugSession(load_pipeline(path), connections=Connections(None, {}), run_dir=tmp_path / "run")

    def dies() -> None:
        raise RuntimeError("the worker thread broke")

    monkeypatch.setattr(session, "_worker", dies)
    err = io.StringIO()
    assert run_headless(session, out=io.StringIO(), err=err) == 1
    assert "did not finish" in err.getvalue()
    assert (tmp_path / "run" / "status.json").exists()


def _step_ctx(tmp_path: Path, step_id: str = "s"):
    return ExecutionContext(tmp_path / "run").for_step(step_id)


def test_steps_reuse_their_threads_each_in_a_fresh_context(tmp_path: Path) -> None:
    import contextvars

    from osiris_tui.runtime.executor import run_cancellable

    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")

    def step() -> tuple[int | None, str, str]:
        seen = var.get()
        var.set("set by a step")
        return threading.get_ident(), threading.current_thread().name, seen

    first = run_cancellable(step, _step_ctx(tmp_path), name="step 'a'")
    second = run_cancellable(step, _step_ctx(tmp_path), name="step 'b'")
    assert first[0] == second[0] != threading.get_ident()  # the one thread, again
    assert (first[1], second[1]) == ("osiris-tui-step 'a'", "osiris-tui-step 'b'")
    assert first[2] == second[2] == "unset"  # nothing a step set in its context is seen by the next


def test_an_abandoned_thread_is_not_reused_while_its_call_runs(tmp_path: Path) -> None:
    from osiris_tui.runtime.executor import run_cancellable

    release = threading.Event()
    started = threading.Event()
    stuck_in: list[int] = []
    ctx = _step_ctx(tmp_path)

    def stuck() -> None:
        stuck_in.append(threading.get_ident())
        started.set()
        release.wait(30)

    threading.Thread(target=lambda: (started.wait(30), ctx.cancellation.cancel("cancelled")), daemon=True).start()
    with pytest.raises(StepCancelled, match="abandoned"):
        run_cancellable(stuck, ctx, abandon_after=0.05)
    try:
        other = run_cancellable(threading.get_ident, _step_ctx(tmp_path))
        assert other not in (*stuck_in, threading.get_ident())  # a thread of its own: the stuck one is busy
    finally:
        release.set()
