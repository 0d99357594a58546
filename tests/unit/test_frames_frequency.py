"""frequency() over a view and value_condition() back to a filter."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from osiris_tui.frames.frequency import frequency, value_condition
from osiris_tui.frames.sql import where_indices
from osiris_tui.frames.view import FrameView


def test_counts_with_nulls_sorted_by_count_then_value() -> None:
    table = pa.table({"s": ["b", "a", None, "b", None, "c", "a", "b"]})
    result = frequency(FrameView.of(table), "s")
    assert result.schema == pa.schema([("value", pa.string()), ("count", pa.int64()), ("percent", pa.float64())])
    assert result.column("value").to_pylist() == ["b", "a", None, "c"]
    assert result.column("count").to_pylist() == [3, 2, 2, 1]
    assert result.column("percent").to_pylist() == [37.5, 25.0, 25.0, 12.5]


def test_over_the_filtered_view_only() -> None:
    table = pa.table({"s": ["x", "y", "x", "y", "y"], "n": [1, 2, 3, 4, 5]})
    view = FrameView.of(table).sorted("n", "descending").filtered("n >= 3")
    result = frequency(view, "s")
    assert result.column("value").to_pylist() == ["y", "x"]
    assert result.column("count").to_pylist() == [2, 1]
    assert sum(result.column("percent").to_pylist()) == pytest.approx(100.0)
    # rows picked without a condition
    picked = FrameView(table, pa.array([0, 1], pa.int64()))
    assert frequency(picked, "s").column("count").to_pylist() == [1, 1]


@pytest.mark.parametrize("column", [
    pa.array([Decimal("1.10"), Decimal("1.10"), None, Decimal("123456789012345678.12")], pa.decimal128(20, 2)),
    pa.array([1_000_000_001, 1_000_000_001, None, 5], pa.timestamp("ns")),
    pa.array([0, 0, 1, None], pa.timestamp("us", tz="Europe/Paris")),
    pa.array([0.1, 0.1, None, 1e-05]),
    pa.array([dt.date(2024, 1, 1), dt.date(2024, 1, 1), None, dt.date(1999, 12, 31)]),
    pa.array([True, True, None, False]),
    pa.array(["it's", "it's", None, 'a "b"']),
    pa.array(["a", "a", None, "b"]).dictionary_encode(),
    pa.array([1, 1, None, 2], pa.uint64()),
], ids=["decimal", "ns", "tz", "float", "date", "bool", "quotes", "dict"  , "uint64"])
def test_each_value_filters_back_to_its_rows(column: pa.Array) -> None:
    table = pa.table({"odd name \"x\"": column, "row": range(len(column))})
    result = frequency(FrameView.of(table), "odd name \"x\"")
    assert result.column("value").type == column.type
    assert result.column("count").to_pylist() == [2, 1, 1]
    for value, count in zip(result.column("value").to_pylist(), result.column("count").to_pylist(), strict=True):
        condition = value_condition("odd name \"x\"", value)
        assert len(where_indices(table, condition)) == count, condition


def test_value_condition_text() -> None:
    assert value_condition("a", None) == '"a" IS NULL'
    assert value_condition('we"ird', "it's") == '"we""ird" = \'it\'\'s\''
    assert value_condition("d", Decimal("1.20")) == '"d" = CAST(\'1.20\' AS DECIMAL(3, 2))'
    assert "TIMESTAMP_NS" in value_condition("t", pd.Timestamp("2024-01-02 03:04:05.123456789"))
    assert value_condition("n", 5) == '"n" = 5'
    assert value_condition("f", float("nan")) == 'isnan("f")'


def test_a_nan_value_filters_back() -> None:
    table = pa.table({"f": pa.array([float("nan"), 1.0, float("nan")])})
    result = frequency(FrameView.of(table), "f")
    assert result.column("count").to_pylist() == [2, 1]
    assert len(where_indices(table, value_condition("f", result.column("value")[0].as_py()))) == 2
