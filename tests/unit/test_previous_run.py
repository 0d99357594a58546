"""A reused run directory: the new run writes its step directories, cleaned configs and cfg files over the
previous run's (same files, same contents and events as a run in a new directory), never through a
symlink or into a file linked elsewhere, and leaves nothing of the previous run behind."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from osiris_tui.cli import main
from osiris_tui.runtime.previous_run import PreviousRun, set_aside, write_over

MANIFEST = """\
steps:
  - {id: a, driver: duckdb.processor, config: {query: 'SELECT 1 AS x'}}
  - {id: b, driver: duckdb.processor, needs: [a], config: {query: 'SELECT x + 1 AS x FROM df_a'}}
"""


def run(tmp_path: Path, run_dir: Path, text: str = MANIFEST) -> int:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(text)
    return main(["run", str(manifest), "--run-dir", str(run_dir)])


def files(run_dir: Path) -> dict[str, str]:
    """Every file of the run (not the ones whose contents change from run to run), with its contents."""
    varying = {"events.jsonl", "metrics.jsonl", "status.json"}
    return {p.relative_to(run_dir).as_posix(): p.read_text() for p in sorted(run_dir.rglob("*"))
            if p.is_file() and p.name not in varying}


def event_names(run_dir: Path) -> list[str]:
    return [json.loads(line)["event"] for line in (run_dir / "events.jsonl").read_text().splitlines()]


def test_a_reused_run_dir_gets_what_a_new_one_gets_written_over_the_old_files(tmp_path: Path, capsys) -> None:
    assert run(tmp_path, tmp_path / "new") == 0
    reused = tmp_path / "reused"
    assert run(tmp_path, reused) == 0
    before = {p: os.stat(reused / p).st_ino for p in ("cfg/a.json", "artifacts/a/cleaned_config.json")}
    assert run(tmp_path, reused) == 0
    assert files(reused) == files(tmp_path / "new")
    assert event_names(reused) == event_names(tmp_path / "new")  # artifact_created included
    assert {p: os.stat(reused / p).st_ino for p in before} == before  # the same files, written over
    assert not [p for p in reused.iterdir() if p.name.startswith(".osiris-tui-previous")]


def test_files_linked_elsewhere_or_symlinked_are_replaced_not_written_through(tmp_path: Path, capsys) -> None:
    run_dir = tmp_path / "run"
    assert run(tmp_path, run_dir) == 0
    kept = tmp_path / "kept.json"
    os.link(run_dir / "cfg" / "a.json", kept)
    target = tmp_path / "target.txt"
    target.write_text("not yours")
    (run_dir / "artifacts" / "b" / "cleaned_config.json").unlink()
    (run_dir / "artifacts" / "b" / "cleaned_config.json").symlink_to(target)
    (run_dir / "cfg" / "b.json").unlink()
    (run_dir / "cfg" / "b.json").symlink_to(target)
    old = kept.read_text()
    assert run(tmp_path, run_dir, MANIFEST.replace("SELECT 1 AS x", "SELECT 2 AS x")) == 0
    assert kept.read_text() == old and target.read_text() == "not yours"
    assert "SELECT 2" in (run_dir / "cfg" / "a.json").read_text()
    assert not (run_dir / "cfg" / "b.json").is_symlink()
    assert not (run_dir / "artifacts" / "b" / "cleaned_config.json").is_symlink()


def test_nothing_of_the_previous_run_is_left(tmp_path: Path, capsys) -> None:
    run_dir = tmp_path / "run"
    assert run(tmp_path, run_dir) == 0
    (run_dir / "artifacts" / "a" / "driver-output.txt").write_text("old")  # a step directory holding more
    (run_dir / ".osiris-tui-previous-artifacts").mkdir()  # left by a run that was killed
    (run_dir / ".osiris-tui-previous-artifacts" / "x").write_text("old")
    assert run(tmp_path, run_dir, MANIFEST.split("  - {id: b")[0]) == 0
    assert sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file()) == [
        "artifacts/a/cleaned_config.json", "cfg/a.json", "events.jsonl", "manifest.yaml", "metrics.jsonl",
        "status.json"]


def test_a_previous_file_this_run_does_not_write_over_is_removed(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    (run_dir / "artifacts" / "s").mkdir(parents=True)
    (run_dir / "artifacts" / "s" / "cleaned_config.json").write_text("old")
    set_aside(run_dir)
    previous = PreviousRun(run_dir)
    (run_dir / "artifacts").mkdir()
    assert previous.take_step_dir(run_dir / "artifacts" / "s")  # (the step is then stopped before it writes)
    assert previous.is_new(run_dir / "artifacts" / "s" / "cleaned_config.json")
    previous.close()
    assert sorted(p.name for p in run_dir.rglob("*")) == ["artifacts", "s"]


def test_write_over(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    write_over(path, "a much longer first text")
    write_over(path, "short")
    assert path.read_text() == "short"
    path.chmod(0o444)
    write_over(path, "again")  # a file we may not write to is made afresh
    assert path.read_text() == "again"
    target = tmp_path / "target.txt"
    target.write_text("not yours")
    path.unlink()
    path.symlink_to(target)
    write_over(path, "through?")
    assert target.read_text() == "not yours" and not path.is_symlink() and path.read_text() == "through?"
    os.link(target, tmp_path / "second-link")
    write_over(tmp_path / "second-link", "changed")
    assert target.read_text() == "not yours" and (tmp_path / "second-link").read_text() == "changed"


def test_write_over_a_file_it_may_not_open_makes_it_afresh(tmp_path: Path, monkeypatch) -> None:
    from osiris_tui.runtime import previous_run

    path = tmp_path / "f.json"
    path.write_text("old")
    real = os.open
    calls: list[int] = []

    def refuse_once(file, flags, mode=0o777):
        calls.append(flags)
        if len(calls) == 1:
            raise PermissionError(13, "Permission denied", str(file))
        return real(file, flags, mode)

    monkeypatch.setattr(previous_run.os, "open", refuse_once)
    write_over(path, "new")
    assert path.read_text() == "new" and calls[1] & os.O_EXCL
    with pytest.raises(FileNotFoundError):  # nothing there to replace: the error is the caller's
        write_over(tmp_path / "missing" / "f.json", "x")
