"""Unit tests (no server) for the Supabase drivers: DDL type mapping, cell serialisation, config checks.

They sit next to the stand-in tests so ``pytest tests/integration/test_supabase_*.py`` runs them all.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from osiris_tui.drivers.supabase_client import describe_error, is_transient, resolve_connection
from osiris_tui.drivers.supabase_extract import build_frame
from osiris_tui.drivers.supabase_write import create_table_sql, frame_records, pg_type_for, to_json_value


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        (pd.Series([1, 2], dtype="int64"), "BIGINT"),
        (pd.Series([1, None], dtype="Int64"), "BIGINT"),
        (pd.Series([1, 2], dtype="int32"), "BIGINT"),
        (pd.Series([1.5, None]), "DOUBLE PRECISION"),
        (pd.Series([True, False]), "BOOLEAN"),
        (pd.Series([True, None], dtype="boolean"), "BOOLEAN"),
        (pd.Series(pd.to_datetime(["2024-01-01"])), "TIMESTAMP"),
        (pd.Series(pd.to_datetime(["2024-01-01T00:00:00Z"])), "TIMESTAMPTZ"),
        (pd.Series(pd.to_timedelta(["1h"])), "INTERVAL"),
        (pd.Series(["a", None]), "TEXT"),
        (pd.Series(["a", 1], dtype=object), "TEXT"),
        (pd.Series([None, None], dtype=object), "TEXT"),
        (pd.Series([Decimal("1.5"), None], dtype=object), "NUMERIC"),
        (pd.Series([dt.date(2024, 1, 1)], dtype=object), "DATE"),
        (pd.Series([dt.datetime(2024, 1, 1)], dtype=object), "TIMESTAMP"),
        (pd.Series([b"x"], dtype=object), "BYTEA"),
        (pd.Series([{"a": 1}, [1]], dtype=object), "JSONB"),
        (pd.Series([1, 2, None], dtype=object), "BIGINT"),
    ],
)
def test_ddl_type_mapping(series, expected):
    assert pg_type_for(series) == expected


def test_create_table_sql_quotes_names_and_adds_primary_key():
    df = pd.DataFrame({"id": [1], "Weird \"Name\"": ["x"], "at": pd.to_datetime(["2024-01-01T00:00:00Z"])})
    ddl = create_table_sql("my schema", "t", df, ["id"])
    assert ddl == (
        'CREATE TABLE IF NOT EXISTS "my schema"."t" (\n'
        '    "id" BIGINT,\n'
        '    "Weird ""Name""" TEXT,\n'
        '    "at" TIMESTAMPTZ,\n'
        '    PRIMARY KEY ("id")\n'
        ");\n"
    )
    assert "PRIMARY KEY" not in create_table_sql("public", "t", df, [])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.int64(5), 5),
        (np.float32(1.5), 1.5),
        (np.bool_(True), True),
        (float("nan"), None),
        (np.nan, None),
        (pd.NA, None),
        (pd.NaT, None),
        (None, None),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
        (pd.Timestamp("2024-01-02 03:04:05", tz="UTC"), "2024-01-02T03:04:05+00:00"),
        (pd.Timestamp("2024-01-02 03:04:05"), "2024-01-02T03:04:05"),
        (np.datetime64("2024-01-02T03:04:05"), "2024-01-02T03:04:05"),
        (np.datetime64("NaT"), None),
        (dt.date(2024, 1, 2), "2024-01-02"),
        (dt.time(3, 4), "03:04:00"),
        (pd.Timedelta("1h"), "P0DT1H0M0S"),
        (Decimal("1.10"), "1.10"),
        (b"\x00\xff", "\\x00ff"),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        ({"a": np.int64(1), "b": [np.float64("nan")]}, {"a": 1, "b": [None]}),
        (np.array([1, 2]), [1, 2]),
    ],
)
def test_cell_serialisation(value, expected):
    assert to_json_value(value) == expected


def test_frame_records_are_json_serialisable():
    df = pd.DataFrame({"i": pd.array([1, None], dtype="Int64"), "s": ["a", None], "f": [np.nan, 2.0]})
    records = frame_records(df)
    assert records == [{"i": 1, "s": "a", "f": None}, {"i": None, "s": None, "f": 2.0}]
    json.dumps(records, allow_nan=False)


def test_build_frame_dtypes_without_type_information():
    rows = [
        {"i": 1, "n": None, "f": 1, "b": True, "s": "x", "ts": "2024-01-01T00:00:00+00:00", "d": "2024-01-01"},
        {"i": 2, "n": 3, "f": 2.5, "b": False, "s": None, "ts": "2024-01-02T00:00:00.5+00:00", "d": None},
    ]
    df = build_frame(rows)
    assert [str(t) for t in df.dtypes] == ["int64", "Int64", "float64", "bool", "str", "datetime64[us, UTC]",
                                           "str"]
    assert build_frame(rows, parse_dates=False)["ts"].dtype == "str"
    mixed = build_frame([{"ts": "2024-01-01T00:00:00Z"}, {"ts": "2024-01-01T00:00:00"}])
    assert mixed["ts"].tolist() == ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00"]  # ambiguous: kept


def test_transient_classification():
    import httpx
    from postgrest import APIError

    assert is_transient(httpx.ConnectError("x"), None)
    assert is_transient(APIError({"code": "PGRST001"}), 503)
    assert not is_transient(APIError({"code": "23502"}), 400)
    assert not is_transient(APIError({"code": "401"}), None)
    assert is_transient(APIError({"code": "502"}), None)


def test_connection_fields_and_masking():
    conn = resolve_connection("s", {"resolved_connection": {
        "project_id": "abcd", "anon_key": "anon-key-value-1", "service_role_key": "service-key-value-2",
        "pg_host": "db.abcd.supabase.co", "pg_user": "postgres", "pg_password": "Pg-Pw-999", "pg_database": "postgres",
    }}, "supabase.writer")
    assert conn.url == "https://abcd.supabase.co" and conn.key == "service-key-value-2"
    assert conn.host == "abcd.supabase.co" and conn.sql_host == "db.abcd.supabase.co"
    text = describe_error(RuntimeError(f"boom service-key-value-2 anon-key-value-1 {conn.sql_conninfo}"))
    assert "service-key-value-2" not in text and "anon-key-value-1" not in text and "Pg-Pw-999" not in text
    with pytest.raises(ValueError, match="lacks url or project_id"):
        resolve_connection("s", {"resolved_connection": {"key": "k-12345"}}, "supabase.writer")
    with pytest.raises(ValueError, match="must not be set in the step config"):
        resolve_connection("s", {"key": "inline", "resolved_connection": {}}, "supabase.writer")
