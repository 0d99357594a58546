"""Resuming a pipeline whose first step takes 5 s: `run --resume`, then the app, then `run --resume`
again take it from its checkpoint (in a tenth of the time, same outputs); editing its config or
`--fresh` runs it. (The one slow test: the step really takes 5 s once.)"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from osiris_tui.cli import _session_plan, app_parser
from osiris_tui.runtime.session import RunState
from osiris_tui.tui.app import DebuggerApp
from tests.support.plugins import install_plugin

try:
    from tests.tui.app_support import settle, wait_session
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from app_support import settle, wait_session  # type: ignore[no-redef]

PLUGIN = '''
import decimal, time
import pandas as pd

class Slow:
    """Takes `seconds` (checking for a cancel), then returns a frame of exotic dtypes."""
    cancellable = True

    def run(self, *, step_id, config, inputs, ctx):
        deadline = time.monotonic() + float(config["seconds"])
        while time.monotonic() < deadline:
            ctx.check_cancelled()
            time.sleep(0.02)
        n = int(config["rows"])
        return {"df": pd.DataFrame({
            "id": pd.array([i if i % 3 else None for i in range(n)], dtype="Int64"),
            "amount": [decimal.Decimal(i) / 100 for i in range(n)],
            "ts": pd.Series(pd.date_range("2024-01-01", periods=n, freq="37ms")).astype("datetime64[ms]"),
            "word": [config["word"]] * n,
        })}
'''

MANIFEST = """\
steps:
  - {id: slow, driver: acme.slow, config: {seconds: 5, rows: 1000, word: hello}}
  - id: total
    driver: duckdb.processor
    needs: [slow]
    config: {query: "SELECT word, count(id) AS n, sum(amount) AS amount, max(ts) AS last_ts FROM df_slow GROUP BY word"}
  - {id: save, driver: filesystem.csv_writer, needs: [total], config: {path: out/total.csv}}
"""


def make_plugin(root: Path) -> Path:
    return install_plugin(root / "site", "acme_slow", PLUGIN, {"acme.slow": "acme_slow:Slow"})


def run_cli(root: Path, site: Path, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p)}
    result = subprocess.run([sys.executable, "-m", "osiris_tui", "run", str(root / "manifest.yaml"), "--json",
                             "--run-dir", str(root / "run"), *args], capture_output=True, text=True, env=env,
                            cwd=root, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    summary = lines[-1]
    summary["events"] = [x for x in lines if "event" in x]
    return summary


def step(summary: dict, step_id: str) -> dict:
    return next(s for s in summary["steps"] if s["step_id"] == step_id)


def ran(summary: dict) -> list[str]:
    return [e["step_id"] for e in summary["events"] if e["event"] == "step_complete"]


def outputs(directory: Path) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p) for p in sorted(directory.glob("*.parquet"))}


async def test_a_slow_step_is_resumed_from_its_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OSIRIS_TUI_CACHE_DIR")  # the default place: next to the manifest
    (tmp_path / "manifest.yaml").write_text(MANIFEST)
    site = make_plugin(tmp_path)
    first = run_cli(tmp_path, site, "--resume", "--save-outputs", str(tmp_path / "out1"))
    slow_seconds = step(first, "slow")["duration"]
    assert slow_seconds >= 5 and ran(first) == ["slow", "total", "save"]
    assert (tmp_path / ".osiris-tui" / "checkpoints" / "key").is_file()
    expected = outputs(tmp_path / "out1")
    assert set(expected) == {"slow", "total"}

    # The app: opening shows the checkpoints; continuing takes them.
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    monkeypatch.chdir(tmp_path)
    args = app_parser().parse_args([str(tmp_path / "manifest.yaml"), "--run-dir", str(tmp_path / "app-run")])
    app = DebuggerApp(_session_plan(args))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        cached = app.session.cached_steps()
        assert set(cached) == {"slow", "total"} and all(c.reuse for c in cached.values())
        assert app.step_list.cached_text(app.session.status("slow"), cached["slow"])[0].startswith("cached ")
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        status = app.session.status("slow")
        assert status.cached_age is not None and status.rows == 1000
        assert status.duration is not None and status.duration <= 0.1 * slow_seconds
        for step_id, frame in expected.items():
            pd.testing.assert_frame_equal(app.session.output(step_id), frame, check_exact=True)
        assert [e["step_id"] for e in app.session.events if e["event"] == "cached"] == ["slow", "total"]
        line = "".join(seg.text for seg in app.step_list.render_line(0)._segments)
        assert "cached" in line

    # Headless again: the same, and the same outputs.
    second = run_cli(tmp_path, site, "--resume", "--save-outputs", str(tmp_path / "out2"))
    assert step(second, "slow")["state"] == "done" and step(second, "slow")["cached_age"] >= 0
    assert step(second, "slow")["duration"] <= 0.1 * slow_seconds
    assert ran(second) == ["save"]  # the writer always runs
    for step_id, frame in outputs(tmp_path / "out2").items():
        pd.testing.assert_frame_equal(frame, expected[step_id], check_exact=True)

    # Its config edited: it runs again (quickly now), and so does what reads it.
    (tmp_path / "manifest.yaml").write_text(MANIFEST.replace("seconds: 5", "seconds: 0.1").replace("hello", "hi"))
    third = run_cli(tmp_path, site, "--resume")
    assert ran(third) == ["slow", "total", "save"] and "cached_age" not in step(third, "slow")
    # --fresh: runs it although its checkpoint matches now.
    fourth = run_cli(tmp_path, site, "--fresh")
    assert ran(fourth) == ["slow", "total", "save"]
