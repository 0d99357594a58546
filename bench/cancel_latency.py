"""How long a stop takes, per kind of step: Ctrl+C / SIGTERM on `osiris-tui run`, and `q` `y` in the app.

    .venv/bin/python bench/cancel_latency.py [--rows 10000000] [--repeat 3]

Each case starts a real process, waits until the slow step's driver is at work (its events show in
events.jsonl, then 0.3 s more), stops it and measures the time until the process has exited. The
baseline, measured in the same run, is the same stop sent to a Python process that has imported the
same modules and is only sleeping: what exiting costs with nothing to cancel. Every case also checks
what a stop must leave: exit code, `step_error` (cancelled) → `execution_interrupted` → … → `run_end` last,
status.json `interrupted`, no working/ dir and no temp file next to the CSV target.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PY = sys.executable
PLUGIN = '''
import time
import pandas as pd

class Stubborn:
    """Never checks for cancellation: runs in the worker process, which a stop kills."""
    def run(self, *, step_id, config, inputs, ctx):
        ctx.log_event("stubborn_started")
        end = time.monotonic() + 120
        while time.monotonic() < end:
            sum(range(10000))
        return {}

class Liar(Stubborn):
    """Says it stops cooperatively but never checks: runs in process and is abandoned."""
    cancellable = True
'''
SLOW_SQL = "SELECT sum(a.range * b.range) AS s FROM range(1000) a, range(100000000000) b"


def make_plugin(root: Path) -> Path:
    site = root / "site"
    (site / "bench_plugin").mkdir(parents=True)
    (site / "bench_plugin" / "__init__.py").write_text(PLUGIN)
    dist = site / "bench_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: bench-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[osiris_tui.drivers]\nbench.stubborn = bench_plugin:Stubborn\nbench.liar = bench_plugin:Liar\n")
    return site


def manifests(root: Path, csv: Path) -> dict[str, tuple[Path, str]]:
    """case → (manifest, the step to stop in)."""
    cases = {
        "duckdb query": (f"  - {{id: slow, driver: duckdb.processor, config: {{query: '{SLOW_SQL}'}}}}\n", "slow"),
        "csv read": (f"  - {{id: slow, driver: filesystem.csv_extractor, config: {{path: '{csv}'}}}}\n", "slow"),
        "csv write": (f"  - {{id: read, driver: filesystem.csv_extractor, config: {{path: '{csv}'}}}}\n"
                      f"  - {{id: slow, driver: filesystem.csv_writer, needs: [read], "
                      f"config: {{path: '{root / 'out.csv'}'}}}}\n", "slow"),
        "plugin, never checks (worker process)": ("  - {id: slow, driver: bench.stubborn, config: {}}\n", "slow"),
        "plugin, never checks (in process, abandoned)": ("  - {id: slow, driver: bench.liar, config: {}}\n",
                                                         "slow"),
    }
    out = {}
    for i, (name, (steps, step)) in enumerate(cases.items()):
        path = root / f"case{i}.yaml"
        path.write_text("name: bench\nsteps:\n" + steps)
        out[name] = (path, step)
    return out


def wait_for_step(run_dir: Path, step: str, pause: Callable[[float], None] = time.sleep, timeout: float = 60) -> None:
    """Until the step's driver is at work (then 0.3 s more); `pause(seconds)` is how to wait meanwhile."""
    events = run_dir / "events.jsonl"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if events.exists():
            for line in events.read_text().splitlines():
                e = json.loads(line)
                if e.get("step_id") == step and e["event"] in ("inputs_resolved", "artifact_created"):
                    pause(0.3)
                    return
        pause(0.02)
    raise SystemExit(f"step {step} never started ({run_dir})")


def check(run_dir: Path, code: int, expected: int, root: Path) -> str:
    problems = []
    if code != expected:
        problems.append(f"exit {code}")
    names = [json.loads(x)["event"] for x in (run_dir / "events.jsonl").read_text().splitlines()]
    stop = [n for n in names if n in ("step_error", "execution_interrupted", "run_end")][-3:]
    if stop != ["step_error", "execution_interrupted", "run_end"] or names[-1] != "run_end":
        problems.append(f"events end {names[-4:]}")
    status = json.loads((run_dir / "status.json").read_text())["status"]
    if status != "interrupted":
        problems.append(f"status {status}")
    if (run_dir / "working").exists():
        problems.append("working/ left")
    if list(root.glob(".out.csv.*")):
        problems.append("temp file left")
    return "ok" if not problems else "; ".join(problems)


def headless_stop(manifest: Path, step: str, sig: int, root: Path, env: dict[str, str]) -> tuple[float, str]:
    run_dir = Path(tempfile.mkdtemp(prefix=f"run-{manifest.stem}-{sig}-", dir=root))  # fresh: no old events
    proc = subprocess.Popen([PY, "-m", "osiris_tui", "run", str(manifest), "--run-dir", str(run_dir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wait_for_step(run_dir, step)
    start = time.perf_counter()
    proc.send_signal(sig)
    code = proc.wait(60)
    took = time.perf_counter() - start
    return took, check(run_dir, code, 130 if sig == signal.SIGINT else 143, root)


def app_quit(manifest: Path, step: str, root: Path, env: dict[str, str]) -> tuple[float, str]:
    """The app in a real pseudo-terminal: `c`, then `q` `y` while the step runs; time until the process exits."""
    run_dir = Path(tempfile.mkdtemp(prefix="run-app-", dir=root))
    pid, fd = pty.fork()
    if pid == 0:  # the child: the app on the terminal
        os.execve(PY, [PY, "-m", "osiris_tui", str(manifest), "--run-dir", str(run_dir), "--run"],
                  {**env, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "36"})

    def drain(seconds: float) -> None:
        """Read what the app paints (a full terminal buffer would block it) for `seconds`."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.01)
            if ready:
                try:
                    os.read(fd, 65536)
                except OSError:
                    return

    wait_for_step(run_dir, step, drain)
    os.write(fd, b"q")
    drain(0.2)
    start = time.perf_counter()
    os.write(fd, b"y")
    while True:
        drain(0.01)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
    took = time.perf_counter() - start
    os.close(fd)
    code = os.waitstatus_to_exitcode(status)
    return took, check(run_dir, code, 0, root)


def baseline(sig: int, env: dict[str, str]) -> float:
    code = "import osiris_tui.headless, osiris_tui.drivers.duckdb_processor, time\nprint('ready', flush=True)\n" \
           "time.sleep(100)"
    proc = subprocess.Popen([PY, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    assert proc.stdout is not None
    proc.stdout.readline()
    time.sleep(0.3)
    start = time.perf_counter()
    proc.send_signal(sig)
    proc.wait(30)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="osiris-cancel-") as tmp:
        root = Path(tmp)
        csv = root / "big.csv"
        print(f"writing {args.rows:,} CSV rows…", flush=True)
        import numpy as np
        import pandas as pd

        n = args.rows
        pd.DataFrame({"id": np.arange(n), "amount": np.random.default_rng(1).random(n).round(2),
                      "status": np.where(np.arange(n) % 3 == 0, "paid", "open")}).to_csv(csv, index=False)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(make_plugin(root)), os.environ.get("PYTHONPATH", "")])}
        cases = manifests(root, csv)
        base = statistics.median(baseline(signal.SIGINT, env) for _ in range(args.repeat))
        print(f"baseline: SIGINT to a sleeping python with the same imports exits in {base * 1000:.0f} ms\n")
        print(f"{'case':<48} {'signal':<8} {'median ms':>10} {'max ms':>8} {'vs baseline':>11}  checks")
        for name, (manifest, step) in cases.items():
            for sig in (signal.SIGINT, signal.SIGTERM):
                runs = [headless_stop(manifest, step, sig, root, env) for _ in range(args.repeat)]
                times = [t for t, _ in runs]
                verdict = next((c for _, c in runs if c != "ok"), "ok")
                med = statistics.median(times)
                print(f"{name:<48} {signal.Signals(sig).name:<8} {med * 1000:>10.0f} {max(times) * 1000:>8.0f} "
                      f"{med / base:>11.1f}  {verdict}", flush=True)
        manifest, step = cases["duckdb query"]
        runs = [app_quit(manifest, step, root, env) for _ in range(args.repeat)]
        times = [t for t, _ in runs]
        verdict = next((c for _, c in runs if c != "ok"), "ok")
        med = statistics.median(times)
        print(f"{'app: q y during a duckdb query (pty)':<48} {'keys':<8} {med * 1000:>10.0f} "
              f"{max(times) * 1000:>8.0f} {med / base:>11.1f}  {verdict}")


if __name__ == "__main__":
    main()
