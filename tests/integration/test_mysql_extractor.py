"""mysql.extractor against the real MariaDB test server (no mocks)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from decimal import Decimal

import pandas as pd
import pytest

from osiris_tui.drivers.mysql import MySQLExtractor
from osiris_tui.runtime.context import ExecutionContext

pytestmark = pytest.mark.mysql

ENGINES = ["auto", "pymysql"]


@pytest.fixture
def ctx(tmp_path):
    parent = ExecutionContext(tmp_path / "run")
    yield parent.for_step("s1")
    parent.close()


@pytest.fixture
def table(mysql_server):
    name = f"t_ex_{secrets.token_hex(4)}"
    yield name
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS `{name}`")


def _run(mysql_server, ctx, **cfg):
    config = {**cfg, "resolved_connection": mysql_server.connection()}
    return MySQLExtractor().run(step_id="s1", config=config, inputs=None, ctx=ctx)["df"]


@pytest.fixture
def typed_table(mysql_server, table):
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute(
            f"""CREATE TABLE `{table}` (
                id INT PRIMARY KEY, n INT NULL, big BIGINT NULL, amount DECIMAL(16,2) NULL,
                wide DECIMAL(40,12) NULL, ratio DOUBLE NULL, d DATE NULL, ts DATETIME(6) NULL,
                name VARCHAR(64) NULL, body MEDIUMTEXT NULL, blob_col BLOB NULL
            ) DEFAULT CHARSET=utf8mb4"""
        )
        cur.executemany(
            f"INSERT INTO `{table}` VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            [
                (
                    1,
                    None,
                    9007199254740993,
                    Decimal("12345678901234.56"),
                    Decimal("1234567890123456789012345678.123456789012"),
                    0.1,
                    dt.date(2024, 2, 29),
                    dt.datetime(2024, 1, 2, 3, 4, 5, 123456),
                    "héllo 😀",
                    "日本語 ✓",
                    b"\x00\xff\x10\n",
                ),
                (2, 7, None, None, None, None, None, None, None, None, None),
                (
                    3,
                    -5,
                    -1,
                    Decimal("-0.01"),
                    Decimal("0.000000000001"),
                    -2.5,
                    dt.date(1000, 1, 1),
                    dt.datetime(9999, 12, 31, 23, 59, 59),
                    "",
                    "x" * 70000,
                    b"",
                ),
            ],
        )
    return table


@pytest.mark.parametrize("engine", ENGINES)
def test_dtypes_round_trip(mysql_server, ctx, typed_table, engine):
    df = _run(mysql_server, ctx, query=f"SELECT * FROM `{typed_table}` ORDER BY id", engine=engine)
    assert list(df["id"]) == [1, 2, 3]
    assert str(df["n"].dtype) == "Int64" and df["n"].isna().tolist() == [True, False, False]
    assert df["n"].iloc[1] == 7
    assert str(df["big"].dtype) == "Int64" and df["big"].iloc[0] == 9007199254740993
    assert df["amount"].iloc[0] == Decimal("12345678901234.56")
    assert isinstance(df["amount"].iloc[0], Decimal) and str(df["amount"].iloc[0]) == "12345678901234.56"
    assert df["amount"].iloc[1] is None
    assert df["amount"].iloc[2] == Decimal("-0.01")
    assert df["wide"].iloc[0] == Decimal("1234567890123456789012345678.123456789012")
    assert df["wide"].iloc[2] == Decimal("0.000000000001")
    assert df["ratio"].iloc[0] == 0.1 and pd.isna(df["ratio"].iloc[1])
    assert pd.api.types.is_datetime64_any_dtype(df["d"]) and pd.api.types.is_datetime64_any_dtype(df["ts"])
    assert df["d"].iloc[0] == pd.Timestamp("2024-02-29") and pd.isna(df["d"].iloc[1])
    assert df["d"].iloc[2] == pd.Timestamp("1000-01-01")
    assert df["ts"].iloc[0] == pd.Timestamp("2024-01-02 03:04:05.123456")
    assert df["ts"].iloc[2] == pd.Timestamp("9999-12-31 23:59:59")
    assert df["name"].iloc[0] == "héllo 😀" and df["name"].iloc[2] == "" and pd.isna(df["name"].iloc[1])
    assert df["body"].iloc[0] == "日本語 ✓" and len(df["body"].iloc[2]) == 70000
    assert df["blob_col"].iloc[0] == b"\x00\xff\x10\n" and df["blob_col"].iloc[2] == b""
    assert df["blob_col"].iloc[1] is None


def test_both_engines_agree(mysql_server, ctx, typed_table):
    q = f"SELECT id, n, big, amount, ratio, d, ts, name, blob_col FROM `{typed_table}` ORDER BY id"
    a = _run(mysql_server, ctx, query=q, engine="connectorx")
    b = _run(mysql_server, ctx, query=q, engine="pymysql")
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("engine", ENGINES)
def test_table_columns_limit(mysql_server, ctx, typed_table, engine):
    df = _run(mysql_server, ctx, table=typed_table, columns=["id", "wide", "name"], limit=2, engine=engine)
    assert list(df.columns) == ["id", "wide", "name"]
    assert len(df) == 2
    assert Decimal("1234567890123456789012345678.123456789012") in set(df["wide"].dropna())


def test_table_without_columns_and_query_with_semicolon(mysql_server, ctx, typed_table):
    assert len(_run(mysql_server, ctx, table=typed_table)) == 3
    assert len(_run(mysql_server, ctx, query=f"SELECT id FROM `{typed_table}`;\n")) == 3


def test_backtick_quoting(mysql_server, ctx, table):
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (`odd col` INT, `order` INT)")
        cur.execute(f"INSERT INTO `{table}` VALUES (1, 2)")
    df = _run(mysql_server, ctx, table=table, columns=["odd col", "order"])
    assert df.to_dict("records") == [{"odd col": 1, "order": 2}]


def test_query_order_is_kept(mysql_server, ctx, typed_table):
    df = _run(mysql_server, ctx, query=f"SELECT id FROM `{typed_table}` ORDER BY id DESC")
    assert list(df["id"]) == [3, 2, 1]


@pytest.mark.parametrize("engine", ENGINES)
def test_rows_read_metric_once_with_step_id(mysql_server, ctx, typed_table, engine):
    _run(mysql_server, ctx, query=f"SELECT * FROM `{typed_table}`", engine=engine)
    metrics = [m for m in ctx.parent.metrics if m["metric"] == "rows_read"]
    assert len(metrics) == 1
    assert metrics[0]["value"] == 3 and metrics[0]["step_id"] == "s1"


def test_empty_result(mysql_server, ctx, typed_table):
    for engine in ENGINES:
        df = _run(mysql_server, ctx, query=f"SELECT id, amount FROM `{typed_table}` WHERE 1=0", engine=engine)
        assert list(df.columns) == ["id", "amount"] and len(df) == 0


def test_pymysql_chunks_progress_and_cancel(mysql_server, ctx, table, monkeypatch):
    import osiris_tui.drivers.mysql_extract as mod
    from osiris_tui.drivers.base import StepCancelled

    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (id INT PRIMARY KEY, v DECIMAL(10,2))")
        cur.execute(f"INSERT INTO `{table}` SELECT seq, seq / 100 FROM seq_1_to_5000")
    monkeypatch.setattr(mod, "PROGRESS_EVERY_SECONDS", 0.0)
    df = _run(mysql_server, ctx, table=table, engine="pymysql", batch_size=1000)
    assert len(df) == 5000 and df["v"].iloc[-1] == Decimal("50.00")
    progress = [e["rows"] for e in ctx.parent.events if e["event"] == "extract.progress"]
    assert progress[:2] == [1000, 2000]
    ctx.parent.cancel_event.set()
    with pytest.raises(StepCancelled):
        _run(mysql_server, ctx, table=table, engine="pymysql", batch_size=1000)


def test_sql_error_is_wrapped(mysql_server, ctx, typed_table):
    for engine in ENGINES:
        with pytest.raises(RuntimeError) as info:
            _run(mysql_server, ctx, query=f"SELECT no_such_col FROM `{typed_table}`", engine=engine)
        msg = str(info.value)
        assert "MySQL query failed for step 's1'" in msg
        assert f"{mysql_server.host}:{mysql_server.port}/{mysql_server.database}" in msg
        assert "no_such_col" in msg


def test_missing_table(mysql_server, ctx):
    with pytest.raises(RuntimeError, match="table does not exist"):
        _run(mysql_server, ctx, table="no_such_table_xyz")


def test_wrong_password_never_leaks(mysql_server, ctx):
    bad = "wrong-" + secrets.token_hex(8)
    config = {"query": "SELECT 1", "resolved_connection": {**mysql_server.connection(), "password": bad}}
    with pytest.raises(RuntimeError) as info:
        MySQLExtractor().run(step_id="s1", config=config, inputs=None, ctx=ctx)
    msg = str(info.value)
    assert "MySQL connection failed for step 's1'" in msg
    assert f"{mysql_server.host}:{mysql_server.port}/{mysql_server.database}" in msg
    assert "osiris_connections.yaml" in msg
    assert bad not in msg and bad not in repr(info.value)
    records = json.dumps(ctx.parent.events + ctx.parent.metrics)
    assert bad not in records
    assert (
        bad not in (ctx.parent.run_dir / "events.jsonl").read_text()
        if (ctx.parent.run_dir / "events.jsonl").exists()
        else True
    )


def test_unreachable_server_is_clear_and_fast(mysql_server, ctx):
    import time

    config = {"query": "SELECT 1", "resolved_connection": {**mysql_server.connection(), "port": 1}}
    started = time.monotonic()
    with pytest.raises(RuntimeError) as info:
        MySQLExtractor().run(step_id="s1", config=config, inputs=None, ctx=ctx)
    assert time.monotonic() - started < 10
    msg = str(info.value)
    assert f"MySQL connection failed for step 's1' on {mysql_server.host}:1/{mysql_server.database}" in msg
    assert "not reachable" in msg
    assert mysql_server.password not in msg


def test_missing_query_and_connection(mysql_server, ctx):
    with pytest.raises(ValueError, match="query"):
        _run(mysql_server, ctx)
    with pytest.raises(ValueError, match="connection"):
        MySQLExtractor().run(step_id="s1", config={"query": "SELECT 1"}, inputs=None, ctx=ctx)


def test_spec_default_keys_are_ignored(mysql_server, ctx):
    df = _run(mysql_server, ctx, query="SELECT 1 AS one", mode="read", host="ignored", port=1, pool_size=5)
    assert df["one"].tolist() == [1]
