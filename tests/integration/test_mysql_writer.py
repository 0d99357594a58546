"""mysql.writer against the real MariaDB test server (no mocks): modes, DDL, atomicity, errors."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from osiris_tui.drivers.base import StepCancelled
from osiris_tui.drivers.mysql import MySQLExtractor, MySQLWriter
from osiris_tui.runtime.context import ExecutionContext

pytestmark = pytest.mark.mysql

METHODS = ["load_data", "insert"]


@pytest.fixture
def ctx(tmp_path):
    parent = ExecutionContext(tmp_path / "run")
    yield parent.for_step("w1")
    parent.close()


@pytest.fixture
def table(mysql_server):
    name = f"t_wr_{secrets.token_hex(4)}"
    yield name
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute("SHOW TABLES LIKE %s", (name + "%",))
        for (t,) in cur.fetchall():
            cur.execute(f"DROP TABLE IF EXISTS `{t}`")


def _write(mysql_server, ctx, df, **cfg):
    config = {**cfg, "resolved_connection": mysql_server.connection()}
    inputs = {"df_up": df}
    return MySQLWriter().run(step_id="w1", config=config, inputs=inputs, ctx=ctx)


def _rows(mysql_server, table, order="id"):
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT * FROM `{table}` ORDER BY {order}")
        return cur.fetchall()


def _tables_like(mysql_server, prefix):
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute("SHOW TABLES LIKE %s", (prefix + "%",))
        return sorted(t for (t,) in cur.fetchall())


def _create(mysql_server, table, ddl_cols):
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` ({ddl_cols}) DEFAULT CHARSET=utf8mb4")


def _typed_frame():
    return pd.DataFrame(
        {
            "id": pd.array([1, 2, 3], dtype="Int64"),
            "n": pd.array([None, 7, -5], dtype="Int64"),
            "amount": [Decimal("12345678901234.56"), None, Decimal("-0.01")],
            "ratio": [0.1, np.nan, 1e-300],
            "flag": [True, False, True],
            "d": [dt.date(2024, 2, 29), None, dt.date(1000, 1, 1)],
            "ts": pd.to_datetime(["2024-01-02 03:04:05.123456", None, "2030-01-01 00:00:00.000000"]),
            "name": ['héllo 😀, "quoted"\nnew line\\', None, "NULL"],
            "blob_col": [b'\x00\xff,"\n\\', None, b""],
        }
    )


@pytest.mark.parametrize("method", METHODS)
def test_create_if_missing_and_round_trip(mysql_server, ctx, table, method):
    df = _typed_frame()
    assert (
        _write(mysql_server, ctx, df, table=table, create_if_missing=True, primary_key="id", load_method=method) == {}
    )
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"SHOW CREATE TABLE `{table}`")
        ddl = cur.fetchone()[1]
    assert "`id` bigint(20) NOT NULL" in ddl and "PRIMARY KEY (`id`)" in ddl
    assert "`amount` decimal(16,2)" in ddl and "`ratio` double" in ddl and "`flag` tinyint(1)" in ddl
    assert "`d` date" in ddl and "`ts` datetime(6)" in ddl and "`name` text" in ddl and "longblob" in ddl
    rows = _rows(mysql_server, table)
    assert rows[0] == (
        1,
        None,
        Decimal("12345678901234.56"),
        0.1,
        1,
        dt.date(2024, 2, 29),
        dt.datetime(2024, 1, 2, 3, 4, 5, 123456),
        'héllo 😀, "quoted"\nnew line\\',
        b'\x00\xff,"\n\\',
    )
    assert rows[1] == (2, 7, None, None, 0, None, None, None, None)
    assert rows[2][3] == 1e-300 and rows[2][7] == "NULL" and rows[2][8] == b""
    # and back through the extractor
    back = MySQLExtractor().run(
        step_id="s1", config={"table": table, "resolved_connection": mysql_server.connection()}, inputs=None, ctx=ctx
    )["df"]
    assert back["amount"].iloc[0] == Decimal("12345678901234.56") and back["name"].iloc[2] == "NULL"
    metrics = [m for m in ctx.parent.metrics if m["metric"] == "rows_written"]
    assert metrics == [dict(metrics[0], value=3, step_id="w1")]
    names = [e["event"] for e in ctx.parent.events]
    assert names[0] == "write.start" and "write.progress" in names and names[-1] == "write.complete"
    start = ctx.parent.events[0]
    assert (start["table"], start["mode"], start["rows"], start["batch_size"]) == (table, "append", 3, 1000)
    assert ctx.parent.events[-1]["rows_written"] == 3 and "duration_ms" in ctx.parent.events[-1]
    assert _tables_like(mysql_server, table) == [table]


def test_missing_table_without_create_if_missing(mysql_server, ctx, table):
    with pytest.raises(ValueError) as info:
        _write(mysql_server, ctx, _typed_frame(), table=table)
    assert table in str(info.value) and "create_if_missing" in str(info.value)
    assert _tables_like(mysql_server, table) == []


@pytest.mark.parametrize("method", METHODS)
def test_append(mysql_server, ctx, table, method):
    _create(mysql_server, table, "id INT PRIMARY KEY, v VARCHAR(10)")
    _write(mysql_server, ctx, pd.DataFrame({"id": [1, 2], "v": ["a", "b"]}), table=table, load_method=method)
    _write(mysql_server, ctx, pd.DataFrame({"id": [3], "v": [None]}), table=table, mode="write", load_method=method)
    assert _rows(mysql_server, table) == ((1, "a"), (2, "b"), (3, None))


@pytest.mark.parametrize("method", METHODS)
def test_replace(mysql_server, ctx, table, method):
    _create(mysql_server, table, "id INT PRIMARY KEY, v VARCHAR(10) NOT NULL")
    _write(mysql_server, ctx, pd.DataFrame({"id": [1, 2], "v": ["a", "b"]}), table=table)
    _write(
        mysql_server,
        ctx,
        pd.DataFrame({"id": [5], "v": ["z"]}),
        table=table,
        write_mode="replace",
        primary_key=["id"],
        load_method=method,
    )
    assert _rows(mysql_server, table) == ((5, "z"),)
    assert _tables_like(mysql_server, table) == [table]
    with mysql_server.connect() as conn, conn.cursor() as cur:  # the target's definition is kept
        cur.execute(f"SHOW CREATE TABLE `{table}`")
        assert "`v` varchar(10) NOT NULL" in cur.fetchone()[1]


@pytest.mark.parametrize("method", METHODS)
def test_upsert(mysql_server, ctx, table, method):
    _create(mysql_server, table, "a INT, b VARCHAR(5), v DECIMAL(8,2), PRIMARY KEY (a, b)")
    _write(
        mysql_server,
        ctx,
        pd.DataFrame({"a": [1, 1, 2], "b": ["x", "y", "x"], "v": [Decimal("1.00"), Decimal("2.00"), Decimal("3.00")]}),
        table=table,
    )
    _write(
        mysql_server,
        ctx,
        pd.DataFrame({"a": [1, 3], "b": ["y", "z"], "v": [Decimal("9.99"), None]}),
        table=table,
        mode="upsert",
        upsert_keys=["a", "b"],
        load_method=method,
    )
    assert _rows(mysql_server, table, order="a, b") == (
        (1, "x", Decimal("1.00")),
        (1, "y", Decimal("9.99")),
        (2, "x", Decimal("3.00")),
        (3, "z", None),
    )


def test_upsert_needs_keys_before_writing(mysql_server, ctx, table):
    with pytest.raises(ValueError, match="primary_key"):
        _write(mysql_server, ctx, pd.DataFrame({"id": [1]}), table=table, write_mode="upsert", create_if_missing=True)
    assert _tables_like(mysql_server, table) == []
    assert ctx.parent.events == []


def _bad_frame(n=3000, bad_at=1500):
    names = [f"name{i}" for i in range(n)]
    names[bad_at - 1] = None  # the 1500th row violates NOT NULL
    return pd.DataFrame({"id": np.arange(100_000, 100_000 + n), "name": names})


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode", ["append", "replace", "upsert"])
def test_failure_mid_write_leaves_target_unchanged(mysql_server, ctx, table, method, mode):
    _create(mysql_server, table, "id INT PRIMARY KEY, name VARCHAR(20) NOT NULL")
    _write(mysql_server, ctx, pd.DataFrame({"id": [1, 2], "name": ["keep", "me"]}), table=table)
    before = _rows(mysql_server, table)
    with pytest.raises(RuntimeError) as info:
        _write(
            mysql_server,
            ctx,
            _bad_frame(),
            table=table,
            write_mode=mode,
            primary_key="id",
            batch_size=500,
            load_method=method,
        )
    msg = str(info.value)
    assert "MySQL write failed for step 'w1'" in msg and "name" in msg
    assert f"{mysql_server.host}:{mysql_server.port}/{mysql_server.database}" in msg
    assert _rows(mysql_server, table) == before
    assert _tables_like(mysql_server, table) == [table]  # no staging table left behind
    # progress got past the first batches before the failure
    assert any(e["event"] == "write.progress" or e["event"] == "write.error" for e in ctx.parent.events)


@pytest.mark.parametrize("method", METHODS)
def test_too_long_and_duplicate_values_fail_strictly(mysql_server, ctx, table, method):
    _create(mysql_server, table, "id INT PRIMARY KEY, code VARCHAR(3)")
    with pytest.raises(RuntimeError):
        _write(
            mysql_server, ctx, pd.DataFrame({"id": [1, 2], "code": ["abc", "abcdef"]}), table=table, load_method=method
        )
    with pytest.raises(RuntimeError):
        _write(mysql_server, ctx, pd.DataFrame({"id": [1, 1], "code": ["a", "b"]}), table=table, load_method=method)
    assert _rows(mysql_server, table) == ()


def test_failure_creating_missing_table_leaves_nothing(mysql_server, ctx, table):
    df = pd.DataFrame({"id": [1, 1], "v": ["a", "b"]})  # duplicate primary key
    with pytest.raises(RuntimeError):
        _write(mysql_server, ctx, df, table=table, create_if_missing=True, primary_key="id")
    assert _tables_like(mysql_server, table) == []


@pytest.mark.parametrize("method", METHODS)
def test_cancel_rolls_back(mysql_server, ctx, table, method):
    _create(mysql_server, table, "id INT PRIMARY KEY, name VARCHAR(20)")
    df = pd.DataFrame({"id": range(3000), "name": ["x"] * 3000})
    unsubscribe = ctx.parent.subscribe(
        lambda r: ctx.parent.cancel_event.set() if getattr(r, "name", None) == "write.progress" else None
    )
    with pytest.raises(StepCancelled):
        _write(mysql_server, ctx, df, table=table, batch_size=100, load_method=method)
    unsubscribe()
    assert _rows(mysql_server, table) == ()


def test_wrong_password_never_leaks(mysql_server, ctx, table):
    bad = "wrong-" + secrets.token_hex(8)
    config = {"table": table, "resolved_connection": {**mysql_server.connection(), "password": bad}}
    with pytest.raises(RuntimeError) as info:
        MySQLWriter().run(step_id="w1", config=config, inputs={"df": pd.DataFrame({"a": [1]})}, ctx=ctx)
    msg = str(info.value)
    assert "MySQL connection failed for step 'w1'" in msg and "osiris_connections.yaml" in msg
    assert f"{mysql_server.host}:{mysql_server.port}/{mysql_server.database}" in msg
    assert bad not in msg and bad not in json.dumps(ctx.parent.events + ctx.parent.metrics)


def test_inputs_are_not_mutated(mysql_server, ctx, table):
    df = _typed_frame()
    copy = df.copy(deep=True)
    _write(mysql_server, ctx, df, table=table, create_if_missing=True, primary_key="id")
    pd.testing.assert_frame_equal(df, copy)


def test_no_input(mysql_server, ctx, table):
    with pytest.raises(ValueError, match="input"):
        MySQLWriter().run(
            step_id="w1", config={"table": table, "resolved_connection": mysql_server.connection()}, inputs={}, ctx=ctx
        )


# -- a cut connection leaves no staging table for long; engines that cannot roll back --------------------
def _wait_lock_free(mysql_server, lock, timeout=15.0):
    import time

    deadline = time.monotonic() + timeout
    with mysql_server.connect() as conn, conn.cursor() as cur:
        while time.monotonic() < deadline:
            cur.execute("SELECT IS_USED_LOCK(%s)", (lock,))
            if cur.fetchone()[0] is None:
                return
            time.sleep(0.1)
    raise AssertionError(f"lock {lock} still held")


@pytest.mark.parametrize("create", [False, True])
def test_cut_connection_mid_load_leaves_no_staging_table(mysql_server, tmp_path, table, create):
    """replace (and create_if_missing): the proxy is cut mid-load; the next write drops the left staging table."""
    from osiris_tui.drivers.mysql_write import STAGE_MARK, stage_lock_name
    from tests.support.tcp_proxy import TcpProxy

    if not create:
        _create(mysql_server, table, "id INT PRIMARY KEY, name VARCHAR(20) NOT NULL")
        with mysql_server.connect() as conn, conn.cursor() as cur:
            cur.execute(f"INSERT INTO `{table}` VALUES (1, 'keep'), (2, 'me')")
    before = _rows(mysql_server, table) if not create else None
    proxy = TcpProxy(mysql_server.host, mysql_server.port).start()
    parent = ExecutionContext(tmp_path / "run")
    ctx = parent.for_step("w1")
    parent.subscribe(lambda r: proxy.stop() if getattr(r, "name", "") == "write.progress" else None)
    df = pd.DataFrame({"id": np.arange(1, 20_001), "name": [f"n{i}" for i in range(20_000)]})
    config = {"table": table, "write_mode": "replace", "primary_key": "id", "batch_size": 200,
              "load_method": "insert", "create_if_missing": create,
              "resolved_connection": {**mysql_server.connection(), "host": "127.0.0.1", "port": proxy.port}}
    try:
        with pytest.raises(RuntimeError):
            MySQLWriter().run(step_id="w1", config=config, inputs={"df_up": df}, ctx=ctx)
    finally:
        proxy.stop()
    left = [t for t in _tables_like(mysql_server, table) if STAGE_MARK in t]
    assert len(left) == 1  # the cut took the fresh connection that would have dropped it too
    if create:
        assert table not in _tables_like(mysql_server, table)
    else:
        assert _rows(mysql_server, table) == before
    _wait_lock_free(mysql_server, stage_lock_name(mysql_server.database, left[0].split(STAGE_MARK)[1]))

    again = ExecutionContext(tmp_path / "run2")
    small = pd.DataFrame({"id": [7, 8], "name": ["new", "rows"]})
    MySQLWriter().run(step_id="w1", config={**config, "resolved_connection": mysql_server.connection()},
                      inputs={"df_up": small}, ctx=again.for_step("w1"))
    assert _tables_like(mysql_server, table) == [table]
    assert _rows(mysql_server, table) == ((7, "new"), (8, "rows"))
    assert [e["dropped"] for e in again.events if e["event"] == "write.stale_dropped"] == [left]
    parent.close()
    again.close()


def test_staging_table_of_a_live_writer_is_left_alone(mysql_server, ctx, table):
    from osiris_tui.drivers.mysql_write import STAGE_MARK, stage_lock_name

    _create(mysql_server, table, "id INT PRIMARY KEY, name VARCHAR(20)")
    stage = f"{table}{STAGE_MARK}abcd1234"
    with mysql_server.connect() as owner, owner.cursor() as cur:
        cur.execute(f"CREATE TABLE `{stage}` LIKE `{table}`")
        cur.execute("SELECT GET_LOCK(%s, 0)", (stage_lock_name(mysql_server.database, "abcd1234"),))
        _write(mysql_server, ctx, pd.DataFrame({"id": [1], "name": ["x"]}), table=table)
        assert stage in _tables_like(mysql_server, table)  # its owner is still connected
    _write(mysql_server, ctx, pd.DataFrame({"id": [2], "name": ["y"]}), table=table)
    assert _tables_like(mysql_server, table) == [table]


@pytest.mark.parametrize("mode", ["append", "upsert"])
def test_myisam_target_is_refused_unless_atomic_false(mysql_server, ctx, table, mode):
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (id INT PRIMARY KEY, name VARCHAR(20)) ENGINE=MyISAM")
    df = pd.DataFrame({"id": [1, 2], "name": ["a", "b"]})
    with pytest.raises(ValueError) as info:
        _write(mysql_server, ctx, df, table=table, write_mode=mode, primary_key="id")
    assert (f"table {table} uses MyISAM, which cannot roll back: a failed write would leave part of it; "
            "convert it to InnoDB or set atomic: false to accept that") in str(info.value)
    assert _rows(mysql_server, table) == ()
    _write(mysql_server, ctx, df, table=table, write_mode=mode, primary_key="id", atomic=False)
    assert _rows(mysql_server, table) == ((1, "a"), (2, "b"))
    warnings = [e for e in ctx.parent.events if e["event"] == "write.warning"]
    assert [(e["engine"], e["mode"]) for e in warnings] == [("MyISAM", mode)]


def test_myisam_target_replace_is_still_atomic(mysql_server, ctx, table):
    """replace loads a copy and swaps it in, so it needs no rollback and is allowed."""
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (id INT PRIMARY KEY, name VARCHAR(20)) ENGINE=MyISAM")
    _write(mysql_server, ctx, pd.DataFrame({"id": [5], "name": ["r"]}), table=table, write_mode="replace",
           primary_key="id")
    assert _rows(mysql_server, table) == ((5, "r"),)
