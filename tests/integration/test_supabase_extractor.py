"""supabase.extractor against the PostgREST-compatible stand-in over real PostgreSQL.

The stand-in (tests/support/postgrest_standin.py) answers the requests supabase-py sends; SQL runs on the
``postgres_server`` test database.
"""

# ruff: noqa: F811  (pytest fixtures imported from tests.support.postgrest_fixtures are test arguments)
from __future__ import annotations

import json

import pandas as pd
import pytest

from osiris_tui.drivers.supabase import SupabaseExtractor
from tests.support.postgrest_fixtures import (  # noqa: F401
    postgrest_standin,
    postgrest_standin_server,
    step_ctx,
)

pytestmark = pytest.mark.postgres


def _items(standin, n: int = 20, *, pk: bool = True) -> str:
    table = standin.new_table("items")
    standin.create_table(
        table,
        ("id bigint PRIMARY KEY" if pk else "id bigint")
        + ", name text NOT NULL, score int, active boolean, note text",
    )
    standin.execute(
        f'INSERT INTO "{table}" SELECT g, %s || g, g %% 10, g %% 2 = 0, '
        "CASE WHEN g %% 3 = 0 THEN NULL ELSE 'n' || g END FROM generate_series(1, %s) g",
        ["item-", n],
    )
    return table


def _run(standin, ctx, **config):
    config.setdefault("resolved_connection", standin.connection())
    return SupabaseExtractor().run(step_id=ctx.step_id, config=config, inputs=None, ctx=ctx)["df"]


def test_select_filter_order(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: select + gte filter + order desc, compared with SQL."""
    table = _items(postgrest_standin)
    df = _run(postgrest_standin, step_ctx("ext"), table=table, select="id,name,score",
              filter={"score": {"gte": 5}}, order="score.desc")
    expected = postgrest_standin.execute(
        f'SELECT id, name, score FROM "{table}" WHERE score >= 5 ORDER BY score DESC, id'
    )
    assert list(df.columns) == ["id", "name", "score"]
    assert [tuple(r) for r in df.itertuples(index=False)] == expected


@pytest.mark.parametrize(
    ("flt", "where"),
    [
        ({"id": 7}, "id = 7"),
        ({"id": [1, 2, 3]}, "id IN (1, 2, 3)"),
        ({"id": {"in": [4, 5]}}, "id IN (4, 5)"),
        ({"note": None}, "note IS NULL"),
        ({"note": {"is": None}}, "note IS NULL"),
        ({"note": {"not.is": None}}, "note IS NOT NULL"),
        ({"name": {"like": "item-1%"}}, "name LIKE 'item-1%%'"),
        ({"name": {"ilike": "ITEM-2*"}}, "name ILIKE 'item-2%%'"),
        ({"score": {"gt": 2, "lte": 4}}, "score > 2 AND score <= 4"),
        ({"score": {"neq": 0}, "active": True}, "score <> 0 AND active"),
        ({"id": {"not.in": [1, 2]}, "score": {"lt": 3}}, "id NOT IN (1, 2) AND score < 3"),
    ],
)
def test_filters(postgrest_standin, step_ctx, flt, where):
    """PostgREST-compatible stand-in: every supported filter form gives the rows SQL gives."""
    table = _items(postgrest_standin)
    df = _run(postgrest_standin, step_ctx("ext"), table=table, filter=flt)
    expected = [r[0] for r in postgrest_standin.execute(f'SELECT id FROM "{table}" WHERE {where} ORDER BY id')]
    assert df["id"].tolist() == expected
    assert expected  # each case selects something


def test_limit_offset(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: limit/offset read a window of the (ordered) table."""
    table = _items(postgrest_standin)
    df = _run(postgrest_standin, step_ctx("ext"), table=table, order="id", limit=7, offset=3)
    assert df["id"].tolist() == list(range(4, 11))


def test_pages_past_the_server_row_cap(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in capping every read at 100 rows: all 1050 rows arrive, in key order."""
    postgrest_standin.server.max_rows = 100
    table = _items(postgrest_standin, 1050)
    ctx = step_ctx("ext")
    df = _run(postgrest_standin, ctx, table=table)
    assert len(df) == 1050
    assert df["id"].tolist() == list(range(1, 1051))
    gets = [r for r in postgrest_standin.server.requests if r.method == "GET" and r.path.endswith(table)]
    assert len(gets) == 12  # 10 capped pages of 100, one of 50, one empty page that ends the read
    assert [dict(r.query).get("order") for r in gets] == ["id.asc"] * 12  # primary key from the OpenAPI description
    assert [m["value"] for m in ctx.parent.metrics if m["metric"] == "rows_read"] == [1050]
    events = [e["event"] for e in ctx.parent.events]
    assert events[0] == "read.start" and events[-1] == "read.complete"
    assert "read.short_page" in events


def test_limit_larger_than_the_cap(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in with a 100-row cap: limit 250 from offset 10 gives exactly 250 rows."""
    postgrest_standin.server.max_rows = 100
    table = _items(postgrest_standin, 400)
    df = _run(postgrest_standin, step_ctx("ext"), table=table, limit=250, offset=10, page_size=120)
    assert df["id"].tolist() == list(range(11, 261))


def test_table_without_primary_key_is_ordered_by_every_column(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: no key → stable paging orders by all selected columns."""
    postgrest_standin.server.max_rows = 7
    table = _items(postgrest_standin, 30, pk=False)
    df = _run(postgrest_standin, step_ctx("ext"), table=table, order="score.desc")
    assert sorted(df["id"].tolist()) == list(range(1, 31))
    get = next(r for r in postgrest_standin.server.requests if r.method == "GET" and r.path.endswith(table))
    assert dict(get.query)["order"] == "score.desc,id.asc,name.asc,active.asc,note.asc"


def test_dtypes(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: ints with nulls → Int64, timestamps parsed, dates and text kept."""
    table = postgrest_standin.new_table("types")
    postgrest_standin.create_table(
        table,
        "id bigint PRIMARY KEY, n int, f double precision, flag boolean, t text, ts timestamptz, "
        "naive timestamp, d date, j jsonb",
    )
    postgrest_standin.execute(
        f'INSERT INTO "{table}" VALUES '
        "(1, 5, 1.5, true, 'héllo ✓', '2024-03-01 10:00:00+02', '2024-03-01 10:00:00', '2024-03-01', "
        "'{\"a\": [1, 2]}'), "
        "(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
    )
    df = _run(postgrest_standin, step_ctx("ext"), table=table)
    assert str(df["id"].dtype) == "int64"
    assert str(df["n"].dtype) == "Int64" and df["n"].isna().tolist() == [False, True]
    assert df["f"].dtype == "float64"
    assert str(df["flag"].dtype) == "boolean"
    assert df["t"][0] == "héllo ✓" and pd.isna(df["t"][1])
    assert str(df["ts"].dtype).startswith("datetime64") and str(df["ts"].dt.tz) == "UTC"
    assert df["ts"][0] == pd.Timestamp("2024-03-01 08:00:00", tz="UTC")
    assert df["naive"].dt.tz is None and df["naive"][0] == pd.Timestamp("2024-03-01 10:00:00")
    assert df["d"][0] == "2024-03-01"  # dates stay strings
    assert df["j"][0] == {"a": [1, 2]}


def test_empty_result_keeps_selected_columns(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: a filter matching nothing gives an empty frame with the columns."""
    table = _items(postgrest_standin)
    df = _run(postgrest_standin, step_ctx("ext"), table=table, select="id,name", filter={"id": -1})
    assert df.empty and list(df.columns) == ["id", "name"]


def test_retries_transient_read_errors(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in failing twice with 503: the page is retried and the read succeeds."""
    table = _items(postgrest_standin, 5)
    postgrest_standin.server.fail_next(2, status=503, method="GET", path=table)
    ctx = step_ctx("ext")
    df = _run(postgrest_standin, ctx, table=table, retry_base_sleep=0.001)
    assert df["id"].tolist() == [1, 2, 3, 4, 5]
    retries = [e for e in ctx.parent.events if e["event"] == "read.retry"]
    assert [e["attempt"] for e in retries] == [1, 2] and "503" in retries[0]["reason"]
    statuses = [r.status for r in postgrest_standin.server.requests if r.path.endswith(table)]
    assert statuses[:3] == [503, 503, 200]


def test_gives_up_after_retries_and_never_retries_4xx(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: 503 past `retries` fails; a 4xx answer is not retried at all."""
    table = _items(postgrest_standin, 5)
    postgrest_standin.server.fail_next(5, status=503, method="GET", path=table)
    with pytest.raises(RuntimeError, match="503"):
        _run(postgrest_standin, step_ctx("ext"), table=table, retries=2, retry_base_sleep=0.001)
    assert len([r for r in postgrest_standin.server.requests if r.path.endswith(table)]) == 3
    postgrest_standin.server.reset()
    postgrest_standin.server.fail_next(5, status=400, method="GET", path=table)
    with pytest.raises(RuntimeError, match="400"):
        _run(postgrest_standin, step_ctx("ext"), table=table, retry_base_sleep=0.001)
    assert len([r for r in postgrest_standin.server.requests if r.path.endswith(table)]) == 1


def test_missing_table_error_names_table_and_host_not_key(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: a missing table is a clear error without the key."""
    ctx = step_ctx("ext")
    with pytest.raises(RuntimeError) as info:
        _run(postgrest_standin, ctx, table="no_such_table_xyz")
    message = str(info.value)
    assert "public.no_such_table_xyz" in message and "127.0.0.1" in message and "'ext'" in message
    assert "PGRST205" in message
    assert postgrest_standin.key not in message
    logs = json.dumps(ctx.parent.events) + json.dumps(ctx.parent.metrics)
    assert postgrest_standin.key not in logs


def test_bad_key_is_401_without_leaking(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: a wrong key fails with 401 and the key is masked."""
    table = _items(postgrest_standin, 3)
    wrong = "wrong-service-role-key-0123456789"
    with pytest.raises(RuntimeError) as info:
        _run(postgrest_standin, step_ctx("ext"), table=table,
             resolved_connection=postgrest_standin.connection(service_role_key=wrong))
    assert "401" in str(info.value)
    assert wrong not in str(info.value) and postgrest_standin.key not in str(info.value)


@pytest.mark.parametrize("key", ["url", "service_role_key", "pg_dsn"])
def test_credentials_in_step_config_are_rejected(postgrest_standin, step_ctx, key):
    """PostgREST-compatible stand-in: credentials given at step level are refused before any request."""
    with pytest.raises(ValueError, match=key):
        _run(postgrest_standin, step_ctx("ext"), table="t", **{key: "x"})
    assert postgrest_standin.server.requests == []


def test_other_schema_via_accept_profile(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: schema: → Accept-Profile selects a non-public schema."""
    postgrest_standin.execute("CREATE SCHEMA IF NOT EXISTS sb_other")
    try:
        postgrest_standin.create_table("accounts", "id int PRIMARY KEY, v text", schema="sb_other")
        postgrest_standin.execute("INSERT INTO sb_other.accounts VALUES (1, 'x'), (2, 'y')")
        df = _run(postgrest_standin, step_ctx("ext"), table="accounts", schema="sb_other")
        assert df.to_dict("list") == {"id": [1, 2], "v": ["x", "y"]}
    finally:
        postgrest_standin.execute("DROP SCHEMA sb_other CASCADE", reload=True)


def test_cancel_between_pages(postgrest_standin, step_ctx):
    """PostgREST-compatible stand-in: an interrupt after the first page stops the read."""
    from osiris_tui.drivers.base import StepCancelled

    table = _items(postgrest_standin, 50)
    ctx = step_ctx("ext")
    ctx.parent.subscribe(lambda rec: getattr(rec, "name", None) == "read.progress" and ctx.parent.cancel_event.set())
    with pytest.raises(StepCancelled):
        _run(postgrest_standin, ctx, table=table, page_size=10)
    gets = [r for r in postgrest_standin.server.requests if r.method == "GET" and r.path.endswith(table)]
    assert len(gets) == 1
