"""supabase.writer against the PostgREST-compatible stand-in over real PostgreSQL.

The stand-in (tests/support/postgrest_standin.py) answers the requests supabase-py sends and runs them on
the ``postgres_server`` test database; the SQL channel (DDL, replace's delete, atomic writes) is psycopg on
the same database.
"""

# ruff: noqa: F811  (pytest fixtures imported from tests.support.postgrest_fixtures are test arguments)
from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from osiris_tui.drivers.base import StepCancelled
from osiris_tui.drivers.supabase import SupabaseExtractor, SupabaseWriter
from osiris_tui.runtime.executor import run_cancellable
from tests.support.postgrest_fixtures import (  # noqa: F401
    postgrest_standin,
    postgrest_standin_server,
    step_ctx,
)

pytestmark = pytest.mark.postgres

PEOPLE = "id bigint PRIMARY KEY, name text NOT NULL, score double precision"


def _people(n: int, start: int = 1, name: str = "p") -> pd.DataFrame:
    ids = list(range(start, start + n))
    return pd.DataFrame({"id": ids, "name": [f"{name}{i}" for i in ids], "score": [i / 2 for i in ids]})


def _write(standin, ctx, df, *, connection=None, **config):
    config.setdefault("resolved_connection", connection or standin.connection())
    config.setdefault("retry_base_sleep", 0.001)
    return SupabaseWriter().run(step_id=ctx.step_id, config=config, inputs={"df_upstream": df}, ctx=ctx)


def _events(ctx, name=None):
    return [e for e in ctx.parent.events if name is None or e["event"] == name]


def _posts(standin, table):
    return [r for r in standin.server.requests if r.method == "POST" and r.path.endswith(table)]


def test_append_in_batches(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: append sends minimal-return inserts in batches; events and metric."""
    table = postgrest_standin.new_table("people")
    postgrest_standin.create_table(table, PEOPLE)
    ctx = step_ctx("write")
    assert _write(postgrest_standin, ctx, _people(1200), table=table, mode="append", batch_size=500) == {}
    assert postgrest_standin.count(table) == 1200
    posts = _posts(postgrest_standin, table)
    assert len(posts) == 3 and all(p.prefer == "return=minimal" for p in posts)
    start = _events(ctx, "write.start")[0]
    assert (start["table"], start["mode"], start["rows"], start["batch_size"]) == (table, "append", 1200, 500)
    assert [e["rows_written"] for e in _events(ctx, "write.progress")] == [500, 1000, 1200]
    complete = _events(ctx, "write.complete")[0]
    assert complete["rows_written"] == 1200 and complete["channel_used"] == "http_rest"
    assert isinstance(complete["duration_ms"], int)
    assert [(m["value"], m["step_id"]) for m in ctx.parent.metrics if m["metric"] == "rows_written"] == [
        (1200, "write")
    ]


def test_insert_is_append(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: write_mode insert behaves as append."""
    table = postgrest_standin.new_table("people")
    postgrest_standin.create_table(table, PEOPLE)
    _write(postgrest_standin, step_ctx("w"), _people(3), table=table, write_mode="insert")
    assert postgrest_standin.count(table) == 3


def test_upsert_updates_and_inserts(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: upsert with on_conflict = primary_key."""
    table = postgrest_standin.new_table("people")
    postgrest_standin.create_table(table, PEOPLE)
    _write(postgrest_standin, step_ctx("w1"), _people(5), table=table)
    _write(postgrest_standin, step_ctx("w2"), _people(4, start=4, name="new"), table=table, mode="upsert",
           primary_key="id", batch_size=2)
    rows = postgrest_standin.rows(table)
    assert [r[1] for r in rows] == ["p1", "p2", "p3", "new4", "new5", "new6", "new7"]
    posts = _posts(postgrest_standin, table)[1:]
    assert all(dict(p.query)["on_conflict"] == "id" for p in posts)
    assert all("resolution=merge-duplicates" in p.prefer for p in posts)


def test_replace_deletes_rows_missing_from_input(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: replace = upsert + one SQL delete of rows not in the input."""
    table = postgrest_standin.new_table("pairs")
    postgrest_standin.create_table(table, "a int, b text, v text, PRIMARY KEY (a, b)")
    postgrest_standin.execute(f"INSERT INTO \"{table}\" VALUES (1,'x','old'), (1,'y','old'), (2,'x','old')")
    df = pd.DataFrame({"a": [1, 3], "b": ["x", "z"], "v": ["new", "new"]})
    ctx = step_ctx("w")
    _write(postgrest_standin, ctx, df, table=table, mode="replace", primary_key=["a", "b"])
    assert postgrest_standin.rows(table, "a, b") == [(1, "x", "new"), (3, "z", "new")]
    assert _events(ctx, "write.complete")[0]["rows_deleted"] == 2
    assert _events(ctx, "write.complete")[0]["channel_used"] == "http_rest"


def test_replace_with_empty_input_deletes_everything(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: replace with an empty frame empties the table."""
    table = postgrest_standin.new_table("people")
    postgrest_standin.create_table(table, PEOPLE)
    postgrest_standin.execute(f"INSERT INTO \"{table}\" VALUES (1, 'a', 1), (2, 'b', 2)")
    _write(postgrest_standin, step_ctx("w"), _people(0), table=table, mode="replace", primary_key="id")
    assert postgrest_standin.count(table) == 0
    assert _posts(postgrest_standin, table) == []


def test_create_if_missing_runs_ddl_through_psycopg(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: a missing table is created on the SQL channel, NOTIFY reloads the
    stand-in's schema cache, ddl_plan.sql is written, then the rows go through REST."""
    table = postgrest_standin.new_table("created")
    df = pd.DataFrame({
        "id": [1, 2], "label": ["a", None], "amount": [1.5, np.nan], "ok": [True, False],
        "at": pd.to_datetime(["2024-01-01T10:00:00Z", "2024-06-01T00:00:00Z"]),
    })
    ctx = step_ctx("w")
    _write(postgrest_standin, ctx, df, table=table, mode="upsert", primary_key="id", create_if_missing=True)
    plan = (ctx.output_dir / "ddl_plan.sql").read_text()
    assert plan.startswith(f'CREATE TABLE IF NOT EXISTS "public"."{table}"')
    assert 'PRIMARY KEY ("id")' in plan
    types = dict(postgrest_standin.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s", [table]
    ))
    assert types == {"id": "bigint", "label": "text", "amount": "double precision", "ok": "boolean",
                     "at": "timestamp with time zone"}
    assert postgrest_standin.rows(table)[1][1:4] == (None, None, False)
    names = [e["event"] for e in _events(ctx)]
    assert names.index("table.ddl_planned") < names.index("table.ddl_executed") < names.index("write.start")


def test_missing_table_without_create_if_missing(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: a missing table without create_if_missing is a clear error."""
    table = postgrest_standin.new_table("absent")
    with pytest.raises(ValueError, match=rf"public\.{table} at 127\.0\.0\.1.*does not exist"):
        _write(postgrest_standin, step_ctx("w"), _people(2), table=table)
    assert _posts(postgrest_standin, table) == []


@pytest.mark.parametrize("case", ["replace", "create_if_missing", "atomic"])
def test_missing_sql_channel_fails_before_writing(postgrest_standin, step_ctx, case):
    """PostgREST-compatible stand-in: when the SQL channel is needed but absent, nothing is written."""
    table = postgrest_standin.new_table("nosql")
    config = {"table": table}
    if case == "create_if_missing":
        config.update(create_if_missing=True)
    else:
        postgrest_standin.create_table(table, PEOPLE)
        postgrest_standin.execute(f"INSERT INTO \"{table}\" VALUES (99, 'keep', 0)")
        config.update(mode="replace", primary_key="id") if case == "replace" else config.update(atomic=True)
    ctx = step_ctx("w")
    no_sql = postgrest_standin.connection(pg_dsn=None)
    with pytest.raises(ValueError, match="needs a SQL channel") as info:
        _write(postgrest_standin, ctx, _people(10), connection=no_sql, **config)
    assert "Nothing was written" in str(info.value)
    assert _posts(postgrest_standin, table) == []
    if case == "create_if_missing":
        assert (ctx.output_dir / "ddl_plan.sql").exists()
        assert not postgrest_standin.execute("SELECT 1 FROM pg_class WHERE relname = %s", [table])
    else:
        assert postgrest_standin.rows(table) == [(99, "keep", 0.0)]


@pytest.mark.parametrize("mode", ["upsert", "replace"])
def test_primary_key_required(postgrest_standin, step_ctx, mode):
    """PostgREST-compatible stand-in: upsert/replace without primary_key fail before any request."""
    with pytest.raises(ValueError, match="primary_key is required"):
        _write(postgrest_standin, step_ctx("w"), _people(2), table="whatever", mode=mode)
    assert postgrest_standin.server.requests == []


def test_bad_input_rejected_before_any_request(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: unknown mode, duplicate keys and a key column not in the input."""
    df = pd.concat([_people(3), _people(1)])
    with pytest.raises(ValueError, match="unknown write mode"):
        _write(postgrest_standin, step_ctx("w"), df, table="t", mode="merge")
    with pytest.raises(ValueError, match="share a primary key"):
        _write(postgrest_standin, step_ctx("w"), df, table="t", mode="upsert", primary_key="id")
    with pytest.raises(ValueError, match="not in the input"):
        _write(postgrest_standin, step_ctx("w"), df, table="t", mode="upsert", primary_key="uid")
    with pytest.raises(ValueError, match="input DataFrame"):
        SupabaseWriter().run(step_id="w", config={"table": "t", "resolved_connection": postgrest_standin.connection()},
                             inputs={}, ctx=step_ctx("w"))
    assert postgrest_standin.server.requests == []


def _with_null_in_batch_3() -> pd.DataFrame:
    df = _people(1200)
    df["name"] = df["name"].astype(object)
    df.loc[1100, "name"] = None  # row 1101 → batch 3 of 500
    return df


def test_batch_failure_over_rest_is_not_atomic_and_says_so(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: a NOT NULL violation in batch 3 leaves batches 1-2 written; the error
    and the write.failed event say how many rows were written; the 400 is not retried."""
    table = postgrest_standin.new_table("people")
    postgrest_standin.create_table(table, PEOPLE)
    ctx = step_ctx("w")
    with pytest.raises(RuntimeError) as info:
        _write(postgrest_standin, ctx, _with_null_in_batch_3(), table=table, batch_size=500)
    message = str(info.value)
    assert "batch 3/3 (rows 1001-1200)" in message and "23502" in message
    assert "1000 row(s) from batches 1-2 were already written" in message
    assert postgrest_standin.count(table) == 1000
    assert _events(ctx, "write.failed")[0]["rows_written"] == 1000
    assert len(_posts(postgrest_standin, table)) == 3


def test_replace_failure_does_not_delete(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: when an upsert batch fails, replace's delete is skipped."""
    table = postgrest_standin.new_table("people")
    postgrest_standin.create_table(table, PEOPLE)
    postgrest_standin.execute(f"INSERT INTO \"{table}\" VALUES (5000, 'old', 0)")
    with pytest.raises(RuntimeError, match="replace's delete was not run"):
        _write(postgrest_standin, step_ctx("w"), _with_null_in_batch_3(), table=table, mode="replace",
               primary_key="id", batch_size=500)
    assert postgrest_standin.execute(f'SELECT name FROM "{table}" WHERE id = 5000') == [("old",)]


@pytest.mark.parametrize("mode", ["append", "upsert", "replace"])
def test_atomic_write_leaves_table_unchanged_on_failure(postgrest_standin, step_ctx, mode):
    """PostgREST-compatible stand-in DB: atomic: true writes in one SQL transaction; batch 3 failing rolls
    everything back."""
    table = postgrest_standin.new_table("people")
    postgrest_standin.create_table(table, PEOPLE)
    postgrest_standin.execute(f"INSERT INTO \"{table}\" VALUES (1, 'before', 0), (5000, 'old', 0)")
    ctx = step_ctx("w")
    with pytest.raises(RuntimeError, match="rolled back, the table is unchanged"):
        _write(postgrest_standin, ctx, _with_null_in_batch_3(), table=table, mode=mode, primary_key="id",
               batch_size=500, atomic=True)
    assert postgrest_standin.rows(table) == [(1, "before", 0.0), (5000, "old", 0.0)]
    assert _posts(postgrest_standin, table) == []


def test_atomic_replace_succeeds(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in DB: atomic replace upserts and deletes in one transaction."""
    table = postgrest_standin.new_table("people")
    postgrest_standin.create_table(table, PEOPLE)
    postgrest_standin.execute(f"INSERT INTO \"{table}\" VALUES (1, 'before', 0), (5000, 'old', 0)")
    ctx = step_ctx("w")
    _write(postgrest_standin, ctx, _people(3), table=table, mode="replace", primary_key="id", atomic=True,
           batch_size=2)
    assert postgrest_standin.rows(table) == [(1, "p1", 0.5), (2, "p2", 1.0), (3, "p3", 1.5)]
    complete = _events(ctx, "write.complete")[0]
    assert (complete["channel_used"], complete["rows_written"], complete["rows_deleted"]) == ("sql", 3, 1)


def test_retries_5xx_with_backoff(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in failing a batch twice with 503: it is retried and written once."""
    table = postgrest_standin.new_table("people")
    postgrest_standin.create_table(table, PEOPLE)
    postgrest_standin.server.fail_next(2, status=503, method="POST")
    ctx = step_ctx("w")
    _write(postgrest_standin, ctx, _people(10), table=table, batch_size=5)
    assert postgrest_standin.count(table) == 10
    assert [e["attempt"] for e in _events(ctx, "write.retry")] == [1, 2]
    assert [r.status for r in _posts(postgrest_standin, table)] == [503, 503, 201, 201]


def test_gives_up_after_retries_and_does_not_retry_4xx(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: 503 beyond `retries` fails the step; a 4xx is not retried."""
    table = postgrest_standin.new_table("people")
    postgrest_standin.create_table(table, PEOPLE)
    postgrest_standin.server.fail_next(10, status=502, method="POST")
    with pytest.raises(RuntimeError, match="HTTP 502"):
        _write(postgrest_standin, step_ctx("w"), _people(3), table=table, retries=2)
    assert len(_posts(postgrest_standin, table)) == 3
    postgrest_standin.server.reset()
    postgrest_standin.server.fail_next(1, status=409, method="POST")
    with pytest.raises(RuntimeError, match="HTTP 409"):
        _write(postgrest_standin, step_ctx("w"), _people(3), table=table)
    assert len(_posts(postgrest_standin, table)) == 1
    assert postgrest_standin.count(table) == 0


def test_dtypes_round_trip(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: NULLs, ints, floats, unicode, timestamps, Decimal and bytes survive a
    write (create_if_missing) and a read back through the extractor."""
    table = postgrest_standin.new_table("roundtrip")
    df = pd.DataFrame({
        "id": pd.array([1, 2, 3], dtype="int64"),
        "maybe": pd.array([10, None, -(2**62)], dtype="Int64"),
        "f": [0.1, np.nan, np.inf],
        "txt": ["héllo ✓ 日本", None, "quote \" and 'apostrophe', comma"],
        "flag": pd.array([True, None, False], dtype="boolean"),
        "ts": pd.to_datetime(["2024-01-02T03:04:05.123456Z", None, "1999-12-31T23:59:59Z"], utc=True, format="ISO8601"),
        "naive": pd.to_datetime(["2024-01-02 03:04:05", "2024-02-29 00:00:00", None]),
        "dec": [Decimal("12345678901234567890.123456789"), None, Decimal("-0.5")],
        "raw": [b"\x00\xffbin", None, b""],
        "day": [dt.date(2024, 5, 6), None, dt.date(1970, 1, 1)],
    })
    w = step_ctx("w")
    _write(postgrest_standin, w, df, table=table, mode="upsert", primary_key="id", create_if_missing=True)
    types = dict(postgrest_standin.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s", [table]
    ))
    assert types["dec"] == "numeric" and types["raw"] == "bytea" and types["day"] == "date"
    assert types["naive"] == "timestamp without time zone" and types["maybe"] == "bigint"
    db = postgrest_standin.execute(f'SELECT dec::text, raw, f FROM "{table}" ORDER BY id')
    assert db[0][0] == "12345678901234567890.123456789" and bytes(db[0][1]) == b"\x00\xffbin"
    assert db[2][2] == float("inf")

    back = SupabaseExtractor().run(step_id="r", config={"table": table, "order": "id",
                                                        "resolved_connection": postgrest_standin.connection()},
                                   inputs=None, ctx=step_ctx("r"))["df"]
    assert back["id"].tolist() == [1, 2, 3]
    assert str(back["maybe"].dtype) == "Int64" and back["maybe"].tolist()[0] == 10
    assert pd.isna(back["maybe"][1]) and back["maybe"][2] == -(2**62)
    assert back["f"][0] == 0.1 and np.isnan(back["f"][1])
    assert back["txt"][0] == "héllo ✓ 日本" and pd.isna(back["txt"][1]) and back["txt"][2] == df["txt"][2]
    assert back["flag"].tolist()[0] is True and pd.isna(back["flag"][1])
    assert back["ts"][0] == pd.Timestamp("2024-01-02T03:04:05.123456Z") and pd.isna(back["ts"][1])
    assert back["naive"][1] == pd.Timestamp("2024-02-29") and back["naive"].dt.tz is None
    assert back["day"][0] == "2024-05-06"


def test_other_schema_via_content_profile(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: schema: → Content-Profile writes into a non-public schema."""
    postgrest_standin.execute("CREATE SCHEMA IF NOT EXISTS sb_write_schema")
    try:
        postgrest_standin.create_table("people", PEOPLE, schema="sb_write_schema")
        _write(postgrest_standin, step_ctx("w"), _people(3), table="people", schema="sb_write_schema")
        assert postgrest_standin.count("people", schema="sb_write_schema") == 3
    finally:
        postgrest_standin.execute("DROP SCHEMA sb_write_schema CASCADE", reload=True)


def test_secrets_never_leak(postgrest_standin, step_ctx, postgres_server):
    """PostgREST-compatible stand-in: the API key and the DB password appear in no error, event or metric."""
    table = postgrest_standin.new_table("people")
    postgrest_standin.create_table(table, PEOPLE)
    key, password = postgrest_standin.key, postgres_server.password
    # (the test server may trust local connections, so the database name is wrong too)
    wrong_pw_dsn = postgrest_standin.dsn.replace(password, "Wrong-Db-Pw-4242").rsplit("/", 1)[0] + "/no_such_db"
    ctx = step_ctx("w")
    messages = []
    cases = [
        ({"table": "absent_table_q"}, postgrest_standin.connection()),
        ({"table": table, "mode": "replace", "primary_key": "id"}, postgrest_standin.connection(pg_dsn=wrong_pw_dsn)),
        ({"table": table}, postgrest_standin.connection(service_role_key="Wrong-Api-Key-123456")),
        ({"table": table, "batch_size": 500}, postgrest_standin.connection()),
    ]
    for config, connection in cases:
        df = _with_null_in_batch_3() if config.get("batch_size") else _people(3)
        with pytest.raises(Exception) as info:
            _write(postgrest_standin, ctx, df, connection=connection, **config)
        messages.append(str(info.value))
    _write(postgrest_standin, ctx, _people(2, start=9000), table=table, mode="replace", primary_key="id")
    everything = "\n".join(messages) + json.dumps(ctx.parent.events) + json.dumps(ctx.parent.metrics)
    everything += (ctx.parent.run_dir / "events.jsonl").read_text()
    for secret in (key, password, "Wrong-Db-Pw-4242", "Wrong-Api-Key-123456", postgrest_standin.dsn):
        assert secret not in everything
    assert "cannot open the SQL channel" in messages[1] and "401" in messages[2]


def test_cancel_between_batches(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: an interrupt after batch 1 stops the write before batch 2."""

    table = postgrest_standin.new_table("people")
    postgrest_standin.create_table(table, PEOPLE)
    ctx = step_ctx("w")
    ctx.parent.subscribe(lambda rec: getattr(rec, "name", None) == "write.progress" and ctx.parent.cancel_event.set())
    with pytest.raises(StepCancelled):
        _write(postgrest_standin, ctx, _people(30), table=table, batch_size=10)
    assert postgrest_standin.count(table) == 10


def test_osiris_minimal_context(postgrest_standin, tmp_path):
    """PostgREST-compatible stand-in: Osiris's local ctx (only output_dir + log_metric) is enough."""
    from types import SimpleNamespace

    table = postgrest_standin.new_table("people")
    metrics = []
    ctx = SimpleNamespace(output_dir=tmp_path, log_metric=lambda name, value, **kw: metrics.append((name, value)))
    SupabaseWriter().run(step_id="w", config={"table": table, "create_if_missing": True, "primary_key": "id",
                                              "resolved_connection": postgrest_standin.connection()},
                         inputs={"df_x": _people(4)}, ctx=ctx)
    assert metrics == [("rows_written", 4)] and (tmp_path / "ddl_plan.sql").exists()
    back = SupabaseExtractor().run(step_id="r", config={"table": table,
                                                        "resolved_connection": postgrest_standin.connection()},
                                   inputs=None, ctx=ctx)
    assert back["df"]["name"].tolist() == ["p1", "p2", "p3", "p4"] and metrics[-1] == ("rows_read", 4)


def test_atomic_write_stopped_mid_statement_leaves_the_table_unchanged(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in DB: a cancel while an atomic write's statement runs (a trigger makes
    each row take a second) stops it on the server at once, and its transaction rolls back."""
    table = postgrest_standin.new_table("people")
    postgrest_standin.create_table(table, PEOPLE)
    postgrest_standin.execute(f"INSERT INTO \"{table}\" VALUES (1, 'before', 0)")
    postgrest_standin.execute(
        f"CREATE FUNCTION \"{table}_slow\"() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(1); RETURN NEW; END $$ "
        f"LANGUAGE plpgsql; CREATE TRIGGER \"{table}_slow\" BEFORE INSERT ON \"{table}\" FOR EACH ROW "
        f"EXECUTE FUNCTION \"{table}_slow\"()")
    ctx = step_ctx("w")

    def cancel_once_inserting() -> None:  # when the server is running the INSERT
        for _ in range(1500):
            active = postgrest_standin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query ILIKE %s",
                (f"%INSERT INTO%{table}%",))
            if active and active[0][0]:
                break
            threading.Event().wait(0.01)
        ctx.cancellation.cancel()

    canceller = threading.Thread(target=cancel_once_inserting)
    canceller.start()
    with pytest.raises(StepCancelled):
        run_cancellable(lambda: _write(postgrest_standin, ctx, _people(30), table=table, mode="append",
                                       batch_size=30, atomic=True), ctx)
    canceller.join()
    assert postgrest_standin.rows(table) == [(1, "before", 0.0)]
