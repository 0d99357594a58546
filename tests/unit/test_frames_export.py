"""export(), write_parquet() and to_arrow(): exact values, atomic files."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from osiris_tui.frames import export as ex
from osiris_tui.frames.export import export, to_arrow, write_parquet
from osiris_tui.frames.view import FrameView

NS = pd.Timestamp("2024-01-02 03:04:05.123456789")


@pytest.fixture
def table() -> pa.Table:
    return pa.table({
        "id": pa.array([3, 1, 2, 4]),
        "amount": pa.array([Decimal("10.50"), None, Decimal("123456789012345678.99"), Decimal("-0.01")],
                           pa.decimal128(20, 2)),
        "f": pa.array([0.1, 1e-05, None, 1.0]),
        "us": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 123456), None, dt.datetime(2024, 1, 2),
                        dt.datetime(1999, 12, 31, 23, 59, 59, 1)], pa.timestamp("us")),
        "ns": pa.array([NS.value, NS.value + 1, None, 0], pa.timestamp("ns")),
        "s": pa.array(["None", "", None, 'a, "quoted"\nline']),
    })


def test_parquet_round_trip_is_exact(table: pa.Table, tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    write_parquet(table, path)
    back = pq.read_table(path)
    assert back.schema.field("amount").type == pa.decimal128(20, 2)
    assert back.schema.field("ns").type == pa.timestamp("ns")
    assert back.schema.field("us").type == pa.timestamp("us")
    assert back.equals(table)
    assert list(tmp_path.iterdir()) == [path]


def test_export_is_the_view_as_shown(table: pa.Table, tmp_path: Path) -> None:
    view = FrameView.of(table).filtered("id > 1").sorted("id", "descending")
    assert export(view, tmp_path / "v.parquet") == 3
    assert pq.read_table(tmp_path / "v.parquet").column("id").to_pylist() == [4, 3, 2]


def test_csv_writes_what_the_table_shows(table: pa.Table, tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    assert export(FrameView.of(table), path) == 4
    text = path.read_text()
    lines = text.splitlines()
    assert lines[0] == '"id","amount","f","us","ns","s"'
    assert lines[1] == '3,10.50,0.1,2024-01-02 03:04:05.123456,2024-01-02 03:04:05.123456789,"None"'
    assert lines[2] == '1,,1e-05,,2024-01-02 03:04:05.123456790,""'
    rows = list(csv.reader(path.open(newline="")))
    assert rows[3] == ["2", "123456789012345678.99", "", "2024-01-02 00:00:00", "", ""]
    assert rows[4] == ["4", "-0.01", "1.0", "1999-12-31 23:59:59.000001", "1970-01-01 00:00:00", 'a, "quoted"\nline']
    # read back value for value
    for row, want in zip(rows[1:], table.to_pylist(), strict=True):
        assert int(row[0]) == want["id"]
        assert (Decimal(row[1]) if row[1] else None) == want["amount"]
        assert (float(row[2]) if row[2] else None) == want["f"]
        assert (pd.Timestamp(row[4]) if row[4] else None) == (None if want["ns"] is None else pd.Timestamp(want["ns"]))
    back = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"s": str})
    assert back["s"].tolist()[0] == "None"


def test_csv_null_and_empty_string_differ(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    export(FrameView.of(pa.table({"s": ["", None]})), path)
    assert path.read_text() == '"s"\n""\n\n'


def test_jsonl_round_trip(table: pa.Table, tmp_path: Path) -> None:
    for name in ("out.jsonl", "out.ndjson"):
        path = tmp_path / name
        assert export(FrameView.of(table), path) == 4
        records = [json.loads(line) for line in path.read_text().splitlines()]
        assert records[0] == {"id": 3, "amount": "10.50", "f": 0.1, "us": "2024-01-02T03:04:05.123456",
                              "ns": "2024-01-02T03:04:05.123456789", "s": "None"}
        assert records[1]["amount"] is None and records[1]["s"] == "" and records[1]["ns"].endswith(".123456790")
        assert records[2]["s"] is None and records[2]["amount"] == "123456789012345678.99"
        assert records[3]["s"] == 'a, "quoted"\nline'


def test_format_given_or_from_the_suffix(table: pa.Table, tmp_path: Path) -> None:
    assert export(FrameView.of(table), tmp_path / "x.data", fmt="csv") == 4
    assert (tmp_path / "x.data").read_text().startswith('"id"')
    with pytest.raises(ValueError, match=r"cannot tell the format"):
        export(FrameView.of(table), tmp_path / "x.xlsx")


def test_a_failed_write_leaves_nothing(table: pa.Table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")

    def boom(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(ex, "_write_csv", boom)
    with pytest.raises(OSError):
        export(FrameView.of(table), target)
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_to_arrow_edge_cases() -> None:
    df = pd.DataFrame({
        "dec": [Decimal("1.10"), None, Decimal("2.25")],
        "mixed": [1, "a", Decimal("1.5")],
        "s": pd.Series(["x", None, "z"], dtype="str"),
        "day": pd.to_datetime(["2024-01-01", "2024-01-02", None]),
        "f": [1.0, np.nan, 3.0],
    })
    table = to_arrow(df)
    assert table.schema.field("dec").type == pa.decimal128(3, 2)
    assert table.column("dec").to_pylist() == [Decimal("1.10"), None, Decimal("2.25")]
    assert table.column("mixed").to_pylist() == ["1", "a", "1.5"]
    assert pa.types.is_timestamp(table.schema.field("day").type)
    assert table.column("f").to_pylist() == [1.0, None, 3.0]
    assert table.column("s").to_pylist() == ["x", None, "z"]


def test_to_arrow_names_and_index() -> None:
    df = pd.DataFrame([[1, 2, 3]], columns=["a", "a", 5])
    assert to_arrow(df).column_names == ["a", "a_1", "5"]
    clash = pd.DataFrame([[1, 2, 3]], columns=["a", "a", "a_1"])
    assert to_arrow(clash).column_names == ["a", "a_2", "a_1"]
    indexed = pd.DataFrame({"v": [1, 2]}, index=pd.Index(["x", "y"], name="key"))
    assert to_arrow(indexed).column_names == ["key", "v"]
    assert to_arrow(pd.DataFrame({"v": [1, 2]}, index=pd.RangeIndex(5, 7))).column_names == ["v"]


def test_to_arrow_takes_arrow_strings_without_copying() -> None:
    s = pd.Series(["a", "b", None] * 1000, dtype="str")
    df = pd.DataFrame({"s": s})
    table = to_arrow(df)
    held = s.array._pa_array  # pandas' own Arrow data
    assert table.column("s").chunk(0).buffers()[2].address == held.chunk(0).buffers()[2].address


def test_csv_export_of_large_string_columns_into_a_new_directory(tmp_path: Path) -> None:
    table = pa.table({"s": pa.array(['a"b', None, "x"], pa.large_string()), "t": pa.array(["u", "v", "w"]),
                      "n": [1.5, None, 3.0]})
    target = tmp_path / "new" / "dir" / "out.csv"
    assert export(FrameView.of(table), target) == 3
    assert target.read_text() == '"s","t","n"\n"a""b","u",1.5\n,"v",\n"x","w",3.0\n'
