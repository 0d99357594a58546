"""The run directory and the disk fail too: an unusable --run-dir, a disk that fills up mid-run, a reused
run directory, and a stdout that goes away."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from osiris_tui.cli import main
from osiris_tui.runtime import context as context_module
from osiris_tui.runtime.context import ExecutionContext

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "sample_manifests" / "quickstart" / "manifest.yaml"


def events(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]


def writer_manifest(tmp_path: Path, target: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(
        "steps:\n"
        "  - {id: make, driver: duckdb.processor, config: {query: 'SELECT 1 AS a UNION ALL SELECT 2'}}\n"
        f"  - {{id: save, driver: filesystem.csv_writer, needs: [make], config: {{path: '{target}'}}}}\n")
    return path


# -- an unusable --run-dir is bad input, found before anything runs --------------------------------------
def test_run_dir_that_is_a_file(tmp_path: Path, capsys) -> None:
    (tmp_path / "taken").write_text("not a directory")
    out = tmp_path / "out.csv"
    assert main(["run", str(writer_manifest(tmp_path, str(out))), "--run-dir", str(tmp_path / "taken")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"the run directory {tmp_path / 'taken'} exists and is not a directory" in err
    assert "hint: pass --run-dir a directory you can write to" in err
    assert not out.exists()  # nothing ran


def test_run_dir_under_a_file(tmp_path: Path, capsys) -> None:
    """What root sees as "read-only": a parent that is a regular file (root ignores permission bits)."""
    (tmp_path / "file").write_text("x")
    run_dir = tmp_path / "file" / "run"
    out = tmp_path / "out.csv"
    assert main(["run", str(writer_manifest(tmp_path, str(out))), "--run-dir", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert f"cannot create the run directory {run_dir}: a part of the path is a file, not a directory" in err
    assert "hint:" in err and "Traceback" not in err and not out.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permission bits")
def test_read_only_run_dir(tmp_path: Path, capsys) -> None:
    run_dir = tmp_path / "ro"
    run_dir.mkdir()
    run_dir.chmod(0o500)
    try:
        assert main(["run", str(writer_manifest(tmp_path, str(tmp_path / "o.csv"))), "--run-dir", str(run_dir)]) == 2
    finally:
        run_dir.chmod(0o700)
    assert f"the run directory {run_dir} is not writable: permission denied" in capsys.readouterr().err


def test_full_run_dir(tmp_path: Path, capsys, monkeypatch) -> None:
    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(context_module.os, "write", full)
    out = tmp_path / "out.csv"
    assert main(["run", str(writer_manifest(tmp_path, str(out))), "--run-dir", str(tmp_path / "run")]) == 2
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert f"the run directory {tmp_path / 'run'} is not writable: no space left on device" in err
    assert "free some space" in err and not out.exists()
    assert [p.name for p in (tmp_path / "run").iterdir()] == []  # the probe file is gone


# -- a reused run directory starts clean ------------------------------------------------------------------
def test_reused_run_dir_starts_clean(tmp_path: Path, capsys) -> None:
    run_dir = tmp_path / "run"
    first = writer_manifest(tmp_path, str(tmp_path / "o.csv"))
    assert main(["run", str(first), "--run-dir", str(run_dir)]) == 0
    (run_dir / "artifacts" / "stale-step").mkdir()
    (run_dir / "artifacts" / "stale-step" / "ddl_plan.sql").write_text("old")
    (run_dir / "working").mkdir()
    (run_dir / "working" / "left.parquet").write_text("old")
    (run_dir / "cfg" / "gone.json").write_text("{}")
    (run_dir / ".status.json.tmp").write_text("half")
    (run_dir / "notes.txt").write_text("mine")  # not something a run writes: kept
    second = tmp_path / "second.yaml"
    second.write_text("steps:\n  - {id: only, driver: duckdb.processor, config: {query: 'SELECT 1'}}\n")
    assert main(["run", str(second), "--run-dir", str(run_dir)]) == 0
    assert sorted(p.name for p in (run_dir / "artifacts").iterdir()) == ["only"]
    assert sorted(p.name for p in (run_dir / "cfg").iterdir()) == ["only.json"]
    assert not (run_dir / "working").exists() and not (run_dir / ".status.json.tmp").exists()
    assert (run_dir / "notes.txt").read_text() == "mine"
    assert "second.yaml" in (run_dir / "manifest.yaml").read_text() or "only" in (run_dir / "manifest.yaml").read_text()
    assert {e["step_id"] for e in events(run_dir) if "step_id" in e} == {"only"}
    assert json.loads((run_dir / "status.json").read_text())["steps_total"] == 1


# -- the disk fills up mid-run ----------------------------------------------------------------------------
class FullAfter:
    """A file whose writes fail with ENOSPC after `n` lines."""

    def __init__(self, real: Any, n: int) -> None:
        self.real, self.n = real, n

    def write(self, text: str) -> int:
        if self.n <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.n -= 1
        return self.real.write(text)

    def flush(self) -> None:
        self.real.flush()

    def close(self) -> None:
        self.real.close()


def test_events_file_filling_up_does_not_stop_the_run(tmp_path: Path, capsys, monkeypatch) -> None:
    real_open = open

    def opener(path: Any, *args: Any, **kwargs: Any) -> Any:
        fh = real_open(path, *args, **kwargs)
        return FullAfter(fh, 5) if str(path).endswith("events.jsonl") else fh

    monkeypatch.setattr(context_module, "open", opener, raising=False)
    run_dir = tmp_path / "run"
    assert main(["run", str(QUICKSTART), "--run-dir", str(run_dir), "--json"]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "subscriber failed" not in captured.err
    warnings = [x for x in captured.err.splitlines() if "events.jsonl" in x]
    assert len(warnings) == 1 and f"no space left on device writing {run_dir / 'events.jsonl'}" in warnings[0]
    assert len(events(run_dir)) == 5  # what fit; the rest is on stdout and in memory
    printed = [json.loads(x) for x in captured.out.splitlines()]
    assert [e["file"] for e in printed if e.get("event") == "log_write_failed"] == ["events.jsonl"]
    assert printed[-1]["type"] == "summary" and printed[-1]["status"] == "success"
    assert json.loads((run_dir / "status.json").read_text())["ok"] is True
    assert (run_dir / "metrics.jsonl").read_text()  # the other file is unaffected


def test_context_keeps_records_when_its_file_cannot_be_written(tmp_path: Path, capsys, monkeypatch) -> None:
    ctx = ExecutionContext(tmp_path / "run")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(context_module, "open", broken, raising=False)
    seen: list[Any] = []
    ctx.subscribe(seen.append)
    for i in range(3):
        ctx.log_event("tick", i=i)
        ctx.log_metric("m", i)
    ctx.close()
    assert [e["event"] for e in ctx.events] == ["tick", "log_write_failed", "log_write_failed", "tick", "tick"]
    assert [e["file"] for e in ctx.events if e["event"] == "log_write_failed"] == ["events.jsonl", "metrics.jsonl"]
    assert [m["value"] for m in ctx.metrics if m["metric"] == "m"] == [0, 1, 2]
    assert len(seen) == 8  # 3 events, 3 metrics and a log_write_failed per file
    assert set(ctx.write_failures) == {"events.jsonl", "metrics.jsonl"}
    err = capsys.readouterr().err
    assert err.count("read-only file system writing") == 2


def test_status_json_that_cannot_be_written_is_reported(tmp_path: Path, capsys, monkeypatch) -> None:
    def full(self: ExecutionContext, relative: str, data: Any) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ExecutionContext, "write_json", full)
    run_dir = tmp_path / "run"
    assert main(["run", str(QUICKSTART), "--run-dir", str(run_dir)]) == 0
    err = capsys.readouterr().err
    assert f"could not write status.json: no space left on device writing {run_dir / 'status.json'}" in err
    assert "Traceback" not in err
    assert [e["error"] for e in events(run_dir) if e["event"] == "status_write_failed"]


def test_a_step_writing_to_a_full_disk_fails_clearly(tmp_path: Path) -> None:
    """A real full device: the step fails with the reason and the file, the run ends, no traceback."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run_dir = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "osiris_tui", "run", str(writer_manifest(tmp_path, "/dev/full")),
                           "--run-dir", str(run_dir)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "step 'save' failed: Execution failed: no space left on device writing /dev/full" in proc.stderr
    assert Path("/dev/full").is_char_device()  # written to, not replaced
    status = json.loads((run_dir / "status.json").read_text())
    assert status["status"] == "failed" and "no space left on device writing /dev/full" in status["error"]


def test_write_failure_is_reported_after_the_record_in_stream_order(tmp_path: Path, capsys, monkeypatch) -> None:
    ctx = ExecutionContext(tmp_path / "run")
    ctx.log_event("before")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    ctx.close()  # the next line opens the file again, and fails
    monkeypatch.setattr(context_module, "open", broken, raising=False)
    seen: list[Any] = []
    ctx.subscribe(seen.append)
    ctx.log_event("after")
    assert [(r.name, r.seq) for r in seen] == [("after", seen[0].seq), ("log_write_failed", seen[0].seq + 1)]
    assert (tmp_path / "run/events.jsonl").read_text().count("\n") == 1


# -- stdout goes away -----------------------------------------------------------------------------------
def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "osiris_tui", "run", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _assert_recorded(run_dir: Path, status: str) -> None:
    names = [e["event"] for e in events(run_dir)]
    assert names[0] == "run_start" and names[-1] == "run_end"
    assert json.loads((run_dir / "status.json").read_text())["status"] == status


@pytest.mark.parametrize(("as_json", "manifest", "code", "status"), [
    (False, QUICKSTART, 0, "success"), (True, QUICKSTART, 0, "success"),
    (False, ROOT / "sample_manifests/failing/manifest.yaml", 1, "failed"),
    (True, ROOT / "sample_manifests/failing/manifest.yaml", 1, "failed")])
def test_stdout_closed_after_one_line(tmp_path: Path, as_json: bool, manifest: Path, code: int, status: str) -> None:
    """`osiris-tui run m.yaml | head -1`: the reader goes away after one line; the run carries on."""
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(_cli(str(manifest), "--run-dir", str(run_dir), *(["--json"] if as_json else [])),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(120) == code, err
    assert "Traceback" not in err and "Exception ignored" not in err and "subscriber failed" not in err
    assert "BrokenPipeError" not in err
    _assert_recorded(run_dir, status)


@pytest.mark.parametrize("as_json", [False, True])
def test_stdout_on_a_full_device(tmp_path: Path, as_json: bool) -> None:
    run_dir = tmp_path / "run"
    with open("/dev/full", "w") as full:
        proc = subprocess.run(_cli(str(QUICKSTART), "--run-dir", str(run_dir), *(["--json"] if as_json else [])),
                              stdout=full, stderr=subprocess.PIPE, text=True, env=_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    assert "subscriber failed" not in proc.stderr
    _assert_recorded(run_dir, "success")
