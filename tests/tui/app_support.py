"""Helpers for the app tests: sessions over real pipelines, test drivers, and waits on state (no sleeps)."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from textual.pilot import Pilot

from osiris_tui.drivers.registry import DriverRegistry, default_registry
from osiris_tui.manifest import load_pipeline
from osiris_tui.manifest.model import Pipeline, Step
from osiris_tui.runtime.session import DebugSession, StepState
from osiris_tui.tui.app import DebuggerApp

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "sample_manifests" / "quickstart"


# -- test drivers -----------------------------------------------------------------------------------
class Gate:
    """A step that blocks until the test opens the gate (never a sleep)."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()


class BlockingDriver:
    gate: Gate  # set per registry

    def run(self, *, step_id: str, config: dict[str, Any], inputs: dict | None, ctx: Any) -> dict:
        self.gate.started.set()
        while not self.gate.release.wait(0.05):
            ctx.check_cancelled()
        return {"df": pd.DataFrame({"n": [1, 2, 3]})}


class RangeDriver:
    """`config: {rows: N}` → a frame with N rows (built with numpy, fast)."""

    def run(self, *, step_id: str, config: dict[str, Any], inputs: dict | None, ctx: Any) -> dict:
        n = int(config.get("rows", 10))
        idx = np.arange(n, dtype=np.int64)
        df = pd.DataFrame({
            "id": idx,
            "value": (idx * 7919) % 1000 / 10.0,
            "label": pd.Series(np.where(idx % 3 == 0, "alpha", "beta"), dtype="string"),
        })
        ctx.log_metric("rows_read", n)
        return {"df": df}


class NoFrameDriver:
    def run(self, *, step_id: str, config: dict[str, Any], inputs: dict | None, ctx: Any) -> dict:
        ctx.log_event("side_effect_done", step_id=step_id)
        return {}


class FloodDriver:
    """Logs `config.events` events in a tight loop."""

    def run(self, *, step_id: str, config: dict[str, Any], inputs: dict | None, ctx: Any) -> dict:
        for i in range(int(config.get("events", 1000))):
            ctx.log_event("tick", step_id=step_id, i=i)
        return {"df": pd.DataFrame({"i": [0]})}


def registry(gate: Gate | None = None) -> DriverRegistry:
    reg = default_registry()
    gate = gate or Gate()

    class _Blocking(BlockingDriver):
        pass

    _Blocking.gate = gate
    reg.register("test.blocking", _Blocking)
    reg.register("test.range", RangeDriver)
    reg.register("test.noframe", NoFrameDriver)
    reg.register("test.flood", FloodDriver)
    return reg


# -- pipelines and sessions -------------------------------------------------------------------------
def copy_quickstart(root: Path) -> Path:
    """A private copy of the quickstart sample (its CSV writer writes under `root`)."""
    target = root / "quickstart"
    shutil.copytree(QUICKSTART, target, ignore=shutil.ignore_patterns("out", ".osiris-tui"))
    return target / "manifest.yaml"


def quickstart_session(root: Path, **kwargs: Any) -> DebugSession:
    manifest = copy_quickstart(root)
    return DebugSession(load_pipeline(manifest), run_dir=root / "run", reload=lambda: load_pipeline(manifest),
                        **kwargs)


def pipeline(root: Path, steps: list[Step], name: str = "test-pipeline") -> Pipeline:
    return Pipeline(name, root / "manifest.yaml", "seed", steps)


def session_for(root: Path, steps: list[Step], gate: Gate | None = None, **kwargs: Any) -> DebugSession:
    return DebugSession(pipeline(root, steps), registry=registry(gate), run_dir=root / "run", **kwargs)


# -- waiting (on state, never on time) -----------------------------------------------------------------
async def settle(pilot: Pilot) -> None:
    """Let the app apply everything the session reported, and finish any data loading."""
    app = pilot.app
    assert isinstance(app, DebuggerApp)
    await wait_loaded(pilot)
    for _ in range(3):
        app.drain_session_updates(budget=float("inf"))
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


async def wait_loaded(pilot: Pilot, timeout: float = 60) -> None:
    """Wait until the app has loaded what it loads after the first paint (tui/warmup.py) and applied it."""
    app = pilot.app
    assert isinstance(app, DebuggerApp)
    assert await asyncio.to_thread(app.warmup.wait, timeout), "the warm-up did not finish"
    for _ in range(1000):
        if app.warmed_up:
            return
        await pilot.pause()
    raise AssertionError("the app did not apply the warm-up")


async def wait_session(pilot: Pilot, predicate: Callable[[DebugSession], bool], timeout: float = 30) -> None:
    """Wait (in a thread, on the session's condition) until `predicate` holds and the session is idle."""
    app = pilot.app
    assert isinstance(app, DebuggerApp)
    session = app.session

    def done(s: DebugSession) -> bool:
        return predicate(s) and s.idle

    ok = await asyncio.to_thread(session.wait_until, done, timeout)
    assert ok, f"timed out; statuses={session.statuses()} run_state={session.run_state}"
    await settle(pilot)


async def wait_running(pilot: Pilot, gate: Gate, step_id: str) -> None:
    """Wait until the blocking step is running (its driver entered the gate)."""
    app = pilot.app
    assert isinstance(app, DebuggerApp)
    assert await asyncio.to_thread(gate.started.wait, 30)
    assert await asyncio.to_thread(
        app.session.wait_until, lambda s: s.status(step_id).state is StepState.RUNNING, 30)
    await settle(pilot)


def states(session: DebugSession) -> dict[str, str]:
    return {s.step_id: str(s.state) for s in session.statuses()}
