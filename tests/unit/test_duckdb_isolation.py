"""duckdb.processor steps share one in-memory database for speed, yet nothing one step makes or sets is
seen by another: tables, views, registered inputs, settings (SET / PRAGMA), temp tables, macros."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from osiris_tui.drivers import duckdb_processor
from osiris_tui.drivers.duckdb_processor import DuckDBProcessor, read_only
from osiris_tui.manifest.model import Pipeline, Step
from osiris_tui.runtime.session import DebugSession, StepState


def run_steps(tmp_path: Path, *queries: str, needs: dict[int, list[int]] | None = None) -> DebugSession:
    """A pipeline of duckdb.processor steps s0, s1, … (each needing the ones `needs` says), run to the end."""
    steps = [Step(f"s{i}", "duckdb.processor", {"query": q},
                  needs=[f"s{j}" for j in (needs or {}).get(i, [])], position=i)
             for i, q in enumerate(queries)]
    session = DebugSession(Pipeline("iso", tmp_path / "manifest.yaml", "seed", steps), run_dir=tmp_path / "run")
    session.start().continue_()
    assert session.wait_until(lambda s: (s.idle and s.next_step_id() is None)
                              or any(st.state is StepState.FAILED for st in s.statuses()), 60)
    return session


def outcome(session: DebugSession, step_id: str) -> str:
    """`ok` or the step's error."""
    status = session.status(step_id)
    return "ok" if status.state is StepState.DONE else str(status.error)


def value(session: DebugSession, step_id: str):
    df = session.output(step_id)
    assert df is not None, outcome(session, step_id)
    return df.iloc[0, 0]


@pytest.mark.parametrize(("make", "probe"), [
    ("CREATE TABLE leaked AS SELECT 1 AS x; SELECT 1 AS done", "SELECT * FROM leaked"),
    ("CREATE VIEW leaked AS SELECT 1 AS x; SELECT 1 AS done", "SELECT * FROM leaked"),
    ("CREATE TEMP TABLE leaked AS SELECT 1 AS x; SELECT 1 AS done", "SELECT * FROM leaked"),
    ("CREATE SCHEMA leaked; CREATE TABLE leaked.t AS SELECT 1 AS x; SELECT 1 AS done", "SELECT * FROM leaked.t"),
    ("CREATE MACRO leaked(a) AS a + 1; SELECT 1 AS done", "SELECT leaked(1)"),
    ("CREATE TEMP MACRO leaked(a) AS a + 1; SELECT 1 AS done", "SELECT leaked(1)"),
    ("CREATE SEQUENCE leaked; SELECT 1 AS done", "SELECT nextval('leaked')"),
    ("CREATE TYPE leaked AS ENUM ('a'); SELECT 1 AS done", "SELECT 'a'::leaked"),
    ("ATTACH ':memory:' AS leaked; CREATE TABLE leaked.t AS SELECT 1 AS x; SELECT 1 AS done",
     "SELECT * FROM leaked.t"),
], ids=["table", "view", "temp-table", "schema", "macro", "temp-macro", "sequence", "enum", "attach"])
def test_what_a_step_creates_is_not_seen_by_the_next(tmp_path: Path, make: str, probe: str) -> None:
    session = run_steps(tmp_path, make, probe, "SELECT 42 AS after")
    try:
        assert outcome(session, "s0") == "ok"
        assert "leaked" in outcome(session, "s1")  # "… leaked does not exist"
    finally:
        session.close()


@pytest.mark.parametrize(("setting", "statement", "changed"), [
    ("threads", "SET threads = 1", "1"),
    ("threads", "PRAGMA threads = 1", "1"),
    ("threads", "SET GLOBAL threads = 1", "1"),
    ("memory_limit", "SET memory_limit = '123MB'", "117.3 MiB"),
    ("default_order", "SET default_order = 'DESC'", "DESC"),
    ("TimeZone", "SET TimeZone = 'Asia/Kathmandu'", "Asia/Kathmandu"),
], ids=["set-threads", "pragma-threads", "set-global", "memory-limit", "default-order", "timezone"])
def test_settings_a_step_makes_are_not_seen_by_the_next(tmp_path: Path, setting: str, statement: str,
                                                          changed: str) -> None:
    read = f"SELECT current_setting('{setting}')::VARCHAR AS v"
    session = run_steps(tmp_path, read, f"{statement}; {read}", read, read)
    try:
        before, during, after, later = (value(session, f"s{i}") for i in range(4))
        assert during == changed and before != changed
        assert after == before and later == before
    finally:
        session.close()


def test_inputs_registered_for_one_step_are_not_seen_by_another(tmp_path: Path) -> None:
    # s1 reads s0 (registered as df_s0); s2 needs nothing and must not find df_s0.
    session = run_steps(tmp_path, "SELECT 7 AS x", "SELECT x FROM df_s0", "SELECT x FROM df_s0",
                        needs={1: [0]})
    try:
        assert value(session, "s1") == 7
        assert "df_s0" in outcome(session, "s2")
    finally:
        session.close()


def test_select_only_steps_share_the_database_and_leave_it_empty(tmp_path: Path) -> None:
    session = run_steps(tmp_path, "SELECT 1 AS x", "SELECT x + 1 AS y FROM df_s0", "SELECT y * 10 AS z FROM df_s1",
                        needs={1: [0], 2: [1]})
    try:
        assert value(session, "s2") == 20
        shared = duckdb_processor.shared_database()
        with duckdb_processor._shared_lock:
            probe = shared.cursor()
        try:
            assert probe.execute("SELECT count(*) FROM duckdb_tables()").fetchone() == (0,)
            assert probe.execute("SELECT count(*) FROM duckdb_views() WHERE NOT internal").fetchone() == (0,)
        finally:
            probe.close()
    finally:
        session.close()


def test_queries_are_parsed_by_the_shared_database(tmp_path: Path, monkeypatch) -> None:
    """No second database just to parse with (DuckDB's module functions would make its default one)."""
    import duckdb

    def default_connection(*args, **kwargs):
        raise AssertionError("DuckDB's default connection was used")

    for name in ("extract_statements", "get_table_names", "default_connection"):
        monkeypatch.setattr(duckdb, name, default_connection)
    session = run_steps(tmp_path, "SELECT 1 AS x", "SELECT x + 1 AS y FROM df_s0", "CREATE TABLE t AS SELECT 5 AS v; "
                        "SELECT v FROM t", needs={1: [0]})
    try:
        assert value(session, "s1") == 2 and value(session, "s2") == 5
        assert duckdb_processor.read_only("SELECT 1") and not duckdb_processor.read_only("SELEKT")
        assert duckdb_processor.referenced("SELECT * FROM Df_A, df_b") == {"df_a", "df_b"}
    finally:
        session.close()


def test_inputs_are_registered_not_copied(monkeypatch) -> None:
    df = pd.DataFrame({"x": range(5)})
    seen: list[object] = []

    class Spy:
        def __init__(self, con):
            self.con = con

        def register(self, name, obj):
            seen.append(obj)
            return self.con.register(name, obj)

        def __getattr__(self, name):
            return getattr(self.con, name)

    real = duckdb_processor.open_connection
    monkeypatch.setattr(duckdb_processor, "open_connection", lambda shared: Spy(real(shared)))

    class Ctx:
        cancelled = False

        def on_cancel(self, hook):
            return lambda: None

        def check_cancelled(self):
            pass

        def log_metric(self, *a, **k):
            pass

    out = DuckDBProcessor().run(step_id="s", config={"query": "SELECT sum(x) AS s FROM df_up"},
                                inputs={"df_up": df, "df": df, "input_df": df}, ctx=Ctx())["df"]
    assert out["s"].iloc[0] == 10
    assert seen == [df]  # the one name the query reads, the frame itself
    seen.clear()
    out = DuckDBProcessor().run(step_id="s", config={"query": "SELECT count(*) AS n FROM query_table('input_df')"},
                                inputs={"df_up": df, "input_df": df}, ctx=Ctx())["df"]
    assert out["n"].iloc[0] == 5  # a name built at run time: found on the second try, with every input
    assert seen and all(obj is df for obj in seen)


@pytest.mark.parametrize(("query", "shared"), [
    ("SELECT 1", True),
    ("WITH a AS (SELECT 1 AS x) SELECT * FROM a; SELECT 2", True),
    ("FROM df_a", True),
    ("DESCRIBE SELECT 1", True),
    ("CREATE TEMP TABLE t AS SELECT 1; SELECT * FROM t", False),
    ("SET threads = 1; SELECT 1", False),
    ("PRAGMA threads = 1", False),
    ("INSTALL json", False),
    ("COPY (SELECT 1) TO 'x.csv'", False),
    ("SELEC 1", False),
    ("", False),
])
def test_which_queries_run_on_the_shared_database(query: str, shared: bool) -> None:
    assert read_only(query) is shared


def test_cursors_made_from_many_threads_at_once(tmp_path: Path) -> None:
    sys.setswitchinterval(1e-6)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(20):
                con = duckdb_processor.open_connection(True)
                try:
                    con.register("df_in", pd.DataFrame({"x": [i]}))
                    assert con.execute("SELECT x FROM df_in").fetchone() == (i,)
                finally:
                    con.close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        sys.setswitchinterval(0.005)
    assert not errors
