"""Checkpoints: exact Parquet round trips, fingerprints (secrets only keyed), the store's budget, the
background writer, resuming a session, database extractors, and the memory budget."""

from __future__ import annotations

import datetime
import decimal
import os
import stat
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from osiris_tui.cli import main
from osiris_tui.drivers.registry import default_registry
from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime import frame_files
from osiris_tui.runtime.cache import DataFrameCache
from osiris_tui.runtime.checkpoints import CheckpointStore, CheckpointWriter, SessionCheckpoints, _Job, cache_root
from osiris_tui.runtime.connections import Connections
from osiris_tui.runtime.session import DebugSession, RunState, StepState

RUNS: list[str] = []  # step ids, each time a counting driver really runs


class Counted:
    """`config: {n: N}` → a frame of N rows; notes each real run in RUNS."""

    def run(self, *, step_id: str, config: dict[str, Any], inputs: dict | None, ctx: Any) -> dict:
        RUNS.append(step_id)
        n = int(config.get("n", 3))
        base = int(inputs["df"].iloc[:, 0].sum()) if inputs else 0
        return {"df": pd.DataFrame({"v": np.arange(n, dtype=np.int64) + base})}


class FakeTable:
    """A 'database extractor': what it returns depends on TABLE, not on its config."""

    rows = 2

    def run(self, *, step_id: str, config: dict[str, Any], inputs: dict | None, ctx: Any) -> dict:
        RUNS.append(step_id)
        return {"df": pd.DataFrame({"v": np.arange(FakeTable.rows, dtype=np.int64)})}


class Sink:
    def run(self, *, step_id: str, config: dict[str, Any], inputs: dict | None, ctx: Any) -> dict:
        RUNS.append(step_id)
        ctx.log_metric("rows_written", len(inputs["df"]))
        return {}


def exotic_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "i": pd.array([1, None, 3], dtype="Int64"),
        "d": [decimal.Decimal("1.10"), None, decimal.Decimal("12345678901234.123456")],
        "ms": pd.Series(pd.to_datetime(["2024-01-01 00:00:00.123", "2024-02-29 00:00:00.000", None])
                        ).astype("datetime64[ms]"),
        "tz": pd.Series(pd.to_datetime(["2024-01-01", "2024-02-29", None])).dt.tz_localize("Europe/Prague"),
        "b": [b"x", None, b"\x00\xff"],
        "td": pd.to_timedelta(["1s", "2ms", None]),
        "s": pd.array(["a", None, "c"], dtype="string"),
        "text": pd.Series(["a", None, "ž"], dtype=object),
        "f": [1.5, np.nan, 3.0],
        "cat": pd.Categorical(["x", "y", "x"]),
        "ok": pd.array([True, None, False], dtype="boolean"),
        "day": [datetime.date(2024, 1, 1), None, datetime.date(2024, 1, 3)],
    })


def assert_identical(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert list(a.dtypes) == list(b.dtypes)
    for column in a.columns:
        if a[column].dtype == object:
            assert [type(v) for v in a[column]] == [type(v) for v in b[column]], column


# -- exact round trip -------------------------------------------------------------------------------
def test_frames_come_back_exactly(tmp_path: Path) -> None:
    df = exotic_frame()
    shifted = pd.DataFrame({"a": [1]}, index=pd.RangeIndex(5, 6))
    for frame in (df, df.set_index("f"), df.drop(columns="cat").iloc[:0], shifted):
        path = tmp_path / "x.parquet"
        frame_files.write_frame(frame, path)
        assert_identical(frame, frame_files.read_frame(path))


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"a": [1, "x"]}),
    pd.DataFrame({"a": [1, 1.5]}, dtype=object),
    pd.DataFrame({"a": [[1], [2]]}),
    pd.DataFrame([[1, 2]], columns=["a", "a"]),
], ids=["mixed", "int-and-float", "lists", "repeated-names"])
def test_frames_that_would_come_back_changed_are_refused(frame: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(frame_files.NotExact):
        frame_files.write_frame(frame, tmp_path / "x.parquet")
    assert list(tmp_path.iterdir()) == []


# -- the store --------------------------------------------------------------------------------------
def test_store_writes_looks_up_and_keeps_to_its_budget(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "ck", budget_bytes=10**9)
    frame = pd.DataFrame({"v": np.arange(50_000, dtype=np.int64)})
    a = store.write("a", "a" * 64, "a" * 64, frame)
    b = store.write("b", "b" * 64, "b" * 64, frame)
    assert store.lookup("a" * 64) is not None and a.rows == 50_000 and a.bytes > 0
    assert a.schema == [["v", "int64"]] and a.step_id == "a"
    store.touch(a)  # a is now the most recently used: b goes first
    store.budget_bytes = a.bytes + b.bytes // 2
    assert [c.step_id for c in store.evict()] == ["b"]
    assert store.lookup("b" * 64) is None and store.lookup("a" * 64) is not None
    assert store.evict(protect={"a" * 64}) == []  # over budget alone, but protected
    assert store.clear() == (1, a.bytes)
    assert [p.name for p in store.root.iterdir()] == []  # no key yet: nothing asked for one
    key = store.key()
    assert len(key) == 32 and stat.S_IMODE((store.root / "key").stat().st_mode) == 0o600
    assert CheckpointStore(store.root).key() == key


def test_the_cache_lives_next_to_the_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OSIRIS_TUI_CACHE_DIR")
    assert cache_root(tmp_path / "m.yaml") == tmp_path.resolve() / ".osiris-tui" / "checkpoints"
    monkeypatch.setenv("OSIRIS_TUI_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert cache_root(tmp_path / "m.yaml").parent == tmp_path / "elsewhere"


def test_a_stopped_write_leaves_nothing(tmp_path: Path) -> None:
    sys.setswitchinterval(1e-6)
    try:
        store = CheckpointStore(tmp_path / "ck")
        writer = CheckpointWriter(store)
        frame = pd.DataFrame({"v": np.arange(3_000_000, dtype=np.int64)})
        outcome: list[str | None] = []
        started = threading.Event()
        real = frame_files.write_table

        def slow_start(table, path, stop):  # type: ignore[no-untyped-def]
            started.set()
            return real(table, path, stop)

        frame_files.write_table = slow_start  # type: ignore[assignment]
        try:
            writer.submit(_Job("a", "c" * 64, "c" * 64, frame, "x", lambda c, e: outcome.append(e)))
            writer.submit(_Job("b", "d" * 64, "d" * 64, frame, "x", lambda c, e: outcome.append(e)))
            assert started.wait(10)
            writer.close(cancel=True)
        finally:
            frame_files.write_table = real  # type: ignore[assignment]
        assert writer.wait(10)
        assert outcome[-1] == "stopped"
        left = sorted(p.name for p in store.root.iterdir())
        assert not [n for n in left if n.endswith(".tmp")]
        assert store.lookup("d" * 64) is None  # the queued one was dropped
    finally:
        sys.setswitchinterval(0.005)


# -- sessions ---------------------------------------------------------------------------------------
MANIFEST = """\
name: resume
steps:
  - {id: a, driver: test.counted, config: {n: 3}}
  - {id: b, driver: test.counted, needs: [a], config: {n: 2}}
  - {id: save, driver: test.sink, needs: [b], config: {}}
  - {id: other, driver: test.counted, config: {n: 4}}
"""


@pytest.fixture
def run(tmp_path: Path):
    """run(text, **checkpoint options) → a finished session over `tmp_path/m.yaml` (a new one each call)."""
    sessions: list[DebugSession] = []
    store = CheckpointStore(tmp_path / "ck")

    def _run(text: str = MANIFEST, *, finish: bool = True, budget: int | None = None, **options: Any) -> DebugSession:
        RUNS.clear()
        path = tmp_path / "m.yaml"
        path.write_text(text)
        connections = tmp_path / "osiris_connections.yaml"
        connections.write_text("version: 1\nconnections:\n  mysql:\n    db: {host: h, user: u, password: pw-1234}\n")
        registry = default_registry()
        registry.register("test.counted", Counted)
        registry.register("test.sink", Sink)
        registry.register("mysql.extractor", FakeTable)  # a database extractor by its name
        session = DebugSession(load_pipeline(path, drivers=registry.names()), registry=registry,
                               connections=Connections(connections, {}),
                               run_dir=tmp_path / f"run{len(sessions)}", memory_budget=budget,
                               checkpoints=SessionCheckpoints(store, **options))
        sessions.append(session.start())
        if finish:
            session.continue_()
            assert session.wait_until(lambda s: s.run_state is RunState.FINISHED and s.idle, 30), session.statuses()
            session.checkpoints.writer.wait(30)  # type: ignore[union-attr]
        return session

    yield _run
    for s in sessions:
        s.close()


def test_resume_reuses_unchanged_steps_and_reruns_what_changed(run) -> None:
    first = run()
    assert RUNS == ["a", "b", "save", "other"]
    outputs = {sid: first.output(sid) for sid in ("a", "b", "other")}
    first.close()
    second = run(finish=False)
    assert set(second.cached_steps()) == {"a", "b", "other"}  # shown before anything runs
    assert second.cached_steps()["a"].rows == 3 and second.cached_steps()["a"].reuse
    second.continue_()
    assert second.wait_until(lambda s: s.run_state is RunState.FINISHED and s.idle, 30)
    assert RUNS == ["save"]  # the writer always runs
    for sid, df in outputs.items():
        assert_identical(df, second.output(sid))
        assert second.status(sid).cached_age is not None and second.status(sid).rows == len(df)
    cached = [e for e in second.events if e["event"] == "cached"]
    assert [e["step_id"] for e in cached] == ["a", "b", "other"]
    assert cached[0]["rows"] == 3 and cached[0]["age_seconds"] >= 0
    assert second.summary is not None and second.summary["status"] == "success"
    second.close()
    third = run(MANIFEST.replace("{n: 3}", "{n: 5}"))  # a's config changed: a and everything below run
    assert RUNS == ["a", "b", "save"]
    assert len(third.output("a")) == 5
    third.close()
    run(fresh := MANIFEST, reuse=False)  # --fresh
    assert RUNS == ["a", "b", "save", "other"] and fresh


def test_a_changed_input_file_makes_its_extractor_run_again(run, tmp_path: Path) -> None:
    csv = tmp_path / "in.csv"
    csv.write_text("x\n1\n2\n")
    text = f"steps:\n  - {{id: load, driver: filesystem.csv_extractor, config: {{path: '{csv}'}}}}\n" \
           "  - {id: b, driver: test.counted, needs: [load], config: {n: 1}}\n"
    run(text).close()
    assert RUNS == ["b"]
    again = run(text)
    assert RUNS == [] and again.status("load").cached_age is not None
    again.close()
    csv.write_text("x\n1\n2\n3\n")
    os.utime(csv, ns=(1, 1))
    third = run(text)
    assert RUNS == ["b"] and third.status("load").cached_age is None and third.status("load").rows == 3


def test_database_extractors_are_reused_only_when_asked(run) -> None:
    text = "steps:\n  - {id: ex, driver: mysql.extractor, config: {connection: '@mysql.db', table: t}}\n" \
           "  - {id: b, driver: test.counted, needs: [ex], config: {n: 1}}\n"
    FakeTable.rows = 2
    run(text).close()
    second = run(text, finish=False)
    cached = second.cached_steps()
    assert set(cached) == {"ex"} and not cached["ex"].reuse and cached["ex"].database  # shown, not used
    FakeTable.rows = 5
    second.continue_()
    assert second.wait_until(lambda s: s.run_state is RunState.FINISHED and s.idle, 30)
    assert RUNS == ["ex", "b"]  # re-extracted, so b runs again on the new rows
    assert len(second.output("ex")) == 5 and second.output("b")["v"].tolist() == [10]
    second.checkpoints.writer.wait(30)  # type: ignore[union-attr]
    second.close()
    third = run(text, reuse_extracts=True)  # --reuse-extracts: both from the last run's checkpoints
    assert RUNS == [] and len(third.output("ex")) == 5
    third.close()
    fourth = run(text, finish=False)
    assert fourth.toggle_reuse("ex") is True  # `u` on the step
    assert fourth.cached_steps()["ex"].reuse and set(fourth.cached_steps()) == {"ex", "b"}
    fourth.continue_()
    assert fourth.wait_until(lambda s: s.run_state is RunState.FINISHED and s.idle, 30)
    assert RUNS == []


def test_rerunning_a_step_runs_it_and_its_downstream(run) -> None:
    run().close()
    session = run(finish=False)
    session.step()
    assert session.wait_until(lambda s: s.status("a").state is StepState.DONE and s.idle, 30)
    assert RUNS == []
    session.rerun("a")  # r: always runs
    assert session.wait_until(lambda s: s.idle and s.status("a").runs == 2, 30)
    assert RUNS == ["a"] and session.status("a").cached_age is None
    session.continue_()
    assert session.wait_until(lambda s: s.run_state is RunState.FINISHED and s.idle, 30)
    assert RUNS == ["a", "save"]  # b's inputs are what they were: its checkpoint still matches


def test_secrets_enter_the_cache_only_keyed(run, tmp_path: Path) -> None:
    secret = "Sup3r-Secret-pw!"
    text = ("steps:\n  - {id: ex, driver: mysql.extractor, config: {connection: '@mysql.db', table: t}}\n"
            "  - {id: b, driver: test.counted, needs: [ex], config: {n: 1, "
            f"dsn: 'mysql://u:{secret}@h/db', api_key: '{secret}'}}}}\n")
    first = run(text)
    first.close()
    store = CheckpointStore(tmp_path / "ck")
    assert {c.step_id for c in store.entries()} == {"ex", "b"}
    for path in store.root.rglob("*"):
        data = path.read_bytes()
        assert secret.encode() not in data and secret.replace("!", "%21").encode() not in data, path
    for run_file in (tmp_path / "run0").rglob("*.jsonl"):
        assert secret not in run_file.read_text()
    changed = run(text.replace(secret, "another-secret-value"), reuse_extracts=True)
    assert RUNS == ["b"]  # the secret is in the fingerprint (keyed): a new one means a new checkpoint
    changed.close()


def test_memory_budget_moves_frames_out_of_memory_once_on_disk(run) -> None:
    needs = [""] + [f"needs: [s{i}], " for i in range(3)]
    text = "steps:\n" + "".join(
        f"  - {{id: s{i}, driver: test.counted, {needs[i]}config: {{n: 200000}}}}\n" for i in range(4))
    session = run(text, budget=1)
    cache = session.prepared.cache
    assert [cache.is_spilled(f"s{i}") for i in range(4)] == [True, True, True, True]
    assert cache.total_bytes == 0
    again = session.output("s1")  # read back on demand
    assert again is not None and len(again) == 200_000 and int(again["v"].iloc[0]) == sum(range(200_000))
    session.show_frames(["s1"])
    session.prepared.cache.set_needed(set())
    assert not cache.is_spilled("s1")  # on screen: it stays


def test_cache_keeps_needed_and_pinned_frames_longest(tmp_path: Path) -> None:
    cache = DataFrameCache(budget_bytes=1, spill_dir=tmp_path / "spill")
    frames = {k: pd.DataFrame({"v": np.arange(1000, dtype=np.int64)}) for k in "abc"}
    for k, df in frames.items():
        path = tmp_path / f"{k}.parquet"
        frame_files.write_frame(df, path)
        cache.put(k, df, backing_soon=True)
        assert not cache.is_spilled(k)  # its checkpoint is on the way: not spilled twice
    cache.pin({"c"})
    cache.set_needed({"b"})
    cache.back("a", tmp_path / "a.parquet")
    cache.back("b", tmp_path / "b.parquet")
    cache.back("c", tmp_path / "c.parquet")
    assert [cache.is_spilled(k) for k in "abc"] == [True, True, False]
    assert not (tmp_path / "spill").exists()  # the checkpoints hold them: nothing spilled
    assert_identical(cache.get("a"), frames["a"])


# -- the command line -------------------------------------------------------------------------------
def test_cache_list_and_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text("steps:\n  - {id: a, driver: duckdb.processor, config: {query: 'SELECT 42 AS x'}}\n"
                        "  - {id: b, driver: duckdb.processor, needs: [a], config: {query: 'SELECT x FROM df_a'}}\n")
    assert main(["run", str(manifest), "--resume", "--run-dir", str(tmp_path / "r")]) == 0
    capsys.readouterr()
    assert main(["cache", "list", str(manifest)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["step", "fingerprint", "rows", "size", "age", "used", "current"]
    assert [line.split()[0] for line in lines[2:4]] == ["a", "b"] and all("yes" in x for x in lines[2:4])
    assert "2 checkpoints" in lines[-1]
    manifest.write_text(manifest.read_text().replace("42", "43"))
    assert main(["cache", "list", str(manifest)]) == 0
    assert [x.split()[-1] for x in capsys.readouterr().out.splitlines()[2:4]] == ["no", "no"]
    assert main(["cache", "clear", str(manifest), "--step", "a"]) == 0
    assert "removed 1 checkpoint" in capsys.readouterr().out
    assert main(["cache", "clear", str(manifest)]) == 0
    assert "removed 1 checkpoint" in capsys.readouterr().out
    assert main(["cache", "list", str(manifest)]) == 0
    assert "no checkpoints" in capsys.readouterr().out
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OSIRIS_TUI_CACHE_DIR")
    assert main(["cache", "list"]) == 2  # no cache in the working directory: say what is needed
    assert "give the MANIFEST" in capsys.readouterr().err


@pytest.mark.parametrize("args", [
    ["--memory-budget", "lots"], ["--cache-size", "2XB"], ["--reuse-extracts"], ["--resume", "--fresh"],
])
def test_bad_checkpoint_options_exit_2(args: list[str], tmp_path: Path, capsys) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text("steps:\n  - {id: a, driver: duckdb.processor, config: {query: 'SELECT 1 AS x'}}\n")
    with pytest.raises(SystemExit) if args == ["--resume", "--fresh"] else _no_raise() as _:
        assert main(["run", str(manifest), *args]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and ("--" in err)


class _no_raise:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


def test_an_unwritable_cache_directory_only_turns_checkpoints_off(run, tmp_path: Path) -> None:
    (tmp_path / "ck").write_text("a file where the cache directory should be")
    session = run()
    assert RUNS == ["a", "b", "save", "other"] and session.summary is not None and session.summary["ok"]
    unavailable = [e for e in session.events if e["event"] == "checkpoints_unavailable"]
    assert len(unavailable) == 1 and str(tmp_path / "ck") in unavailable[0]["directory"]


def test_resuming_under_thread_stress(run) -> None:
    sys.setswitchinterval(1e-6)
    try:
        first = run()
        expected = {sid: first.output(sid) for sid in ("a", "b", "other")}
        first.close()
        for _ in range(3):
            again = run(budget=1)
            assert RUNS == ["save"]
            for sid, df in expected.items():
                assert_identical(again.output(sid), df)
            again.close()
    finally:
        sys.setswitchinterval(0.005)


def test_a_frame_whose_file_was_removed_fails_loudly(tmp_path: Path) -> None:
    cache = DataFrameCache(budget_bytes=1)
    frame_files.write_frame(pd.DataFrame({"v": [1, 2]}), tmp_path / "a.parquet")
    cache.put("a", pd.DataFrame({"v": [1, 2]}), backing=tmp_path / "a.parquet")
    cache.set_needed(set())
    assert cache.is_spilled("a")
    (tmp_path / "a.parquet").unlink()
    with pytest.raises(FileNotFoundError, match="re-run 'a'"):
        cache.get("a")


def test_a_plugin_can_declare_an_external_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from osiris_tui import cache_cli
    from osiris_tui.manifest.model import Step

    class Api:
        external_source = True

        def run(self, **kwargs: Any) -> dict:
            return {}

    def registry():  # type: ignore[no-untyped-def]
        reg = default_registry()
        reg.register("acme.api", Api, isolated=None)
        reg.register("acme.pure", Counted, isolated=None)
        return reg

    monkeypatch.setattr("osiris_tui.drivers.registry.default_registry", registry)
    args = argparse.Namespace(cache_size=None, resume=True, fresh=False, reuse_extracts=False)
    checkpoints = cache_cli.checkpoints_for(args, tmp_path / "m.yaml", headless=True)
    assert checkpoints is not None
    api = Step("a", "acme.api", {})
    assert checkpoints.is_database(api) and not checkpoints.wants_reuse(api)
    assert not checkpoints.is_database(Step("b", "acme.pure", {}))
    assert checkpoints.is_database(Step("c", "mysql.extractor", {}))
    plain = argparse.Namespace(cache_size=None, resume=False, fresh=False, reuse_extracts=False)
    assert cache_cli.checkpoints_for(plain, tmp_path / "m.yaml", headless=True) is None  # a plain `run`
