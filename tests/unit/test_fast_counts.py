"""The fast counting paths (integers by bincount in frequency, one sort in describe) agree with counting
value by value."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from decimal import Decimal
from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from osiris_tui.frames.describe import _distinct_and_mode
from osiris_tui.frames.frequency import frequency
from osiris_tui.frames.view import FrameView
from osiris_tui.tui.widgets.data.frequency_view import all_once, frequency_table


def expected_frequency(values: list[Any]) -> list[tuple[Any, int]]:
    counts = Counter(values)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0] is None, item[0] or 0))


@settings(max_examples=120, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-20, 20)), max_size=60),
       st.sampled_from([pa.int8(), pa.int64(), pa.uint64()]))
def test_integer_frequency_is_sorted_by_count_then_value_null_last(values: list[int | None], kind: pa.DataType) -> None:
    if pa.types.is_unsigned_integer(kind):
        values = [None if v is None else v + 20 for v in values]
    result = frequency(FrameView.of(pa.table({"n": pa.array(values, kind)})), "n")
    assert result.column("value").type == kind
    got = list(zip(result.column("value").to_pylist(), result.column("count").to_pylist(), strict=True))
    assert got == expected_frequency(values)
    assert result.column("percent").to_pylist() == [c * 100.0 / len(values) for _, c in got]


def test_integer_frequency_over_a_filtered_sorted_view_and_a_wide_range() -> None:
    table = pa.table({"n": [5, -3, 5, None, 2**40, 7], "k": [1, 2, 3, 4, 5, 6]})
    view = FrameView.of(table).sorted("k", "descending").filtered("k > 1")
    result = frequency(view, "n")
    assert result.column("value").to_pylist() == [-3, 5, 7, 2**40, None]  # wide range: the GROUP BY path
    narrow = FrameView.of(table).filtered("k <> 5")
    assert frequency(narrow, "n").column("value").to_pylist() == [5, -3, 7, None]


def test_all_distinct_integers_need_no_sort_and_say_so() -> None:
    table = pa.table({"id": pa.array([4, 1, 3, 0, 2], pa.int64())})
    result = frequency(FrameView.of(table), "id")
    assert result.column("value").to_pylist() == [0, 1, 2, 3, 4]
    assert result.column("count").to_pylist() == [1] * 5
    shown = frequency_table(result)
    assert all_once(shown)
    assert shown.column("percent").to_pylist() == [20.0] * 5
    assert pa.types.is_dictionary(shown.column("bar").type)  # one bar for the five values
    assert len(set(shown.column("bar").to_pylist())) == 1


def test_the_frequency_table_bars_and_percents_follow_the_counts() -> None:
    counted = frequency(FrameView.of(pa.table({"s": ["a", "b", "a", None, "a", "b", "c"]})), "s")
    shown = frequency_table(counted)
    assert shown.column("value").to_pylist() == ["a", "b", "c", None]
    assert shown.column("percent").to_pylist() == [42.86, 28.57, 14.29, 14.29]
    bars = shown.column("bar").to_pylist()
    assert bars[0] == "█" * 24 and len(bars[0]) > len(bars[1]) > len(bars[2]) == len(bars[3])
    assert not all_once(shown)


def reference_distinct_and_mode(values: list[Any]) -> tuple[int, Any]:
    present = [v for v in values if v is not None]
    keys = ["nan" if isinstance(v, float) and math.isnan(v) else (0.0 if v == 0 and isinstance(v, float) else v)
            for v in present]
    counts = Counter(keys)
    if not counts:
        return 0, None
    top = max(counts.values())
    if top == 1:
        return len(counts), None
    tied = [k for k, c in counts.items() if c == top]
    best = "nan" if "nan" in tied else min(tied)
    return len(counts), present[keys.index(best)]


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b and type(a) is type(b)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-5, 5)), max_size=40))
def test_describe_distinct_and_mode_of_numbers(raw: list[int | None]) -> None:
    columns = [
        pa.array(raw, pa.int64()),
        pa.array([None if v is None else v / 2 for v in raw], pa.float64()),
        pa.array([None if v is None else (math.nan if v == 5 else (-0.0 if v == 0 else float(v))) for v in raw]),
        pa.array([None if v is None else Decimal(v).scaleb(-2) for v in raw], pa.decimal128(10, 2)),
        pa.array([None if v is None else dt.datetime(2024, 1, 1) + dt.timedelta(seconds=v) for v in raw],
                 pa.timestamp("us")),
        pa.array([None if v is None else v > 0 for v in raw], pa.bool_()),
    ]
    for column in columns:
        values = column.to_pylist()
        if not [v for v in values if v is not None]:
            continue
        distinct, mode = _distinct_and_mode(column)
        want_distinct, want_mode = reference_distinct_and_mode(values)
        assert distinct == want_distinct, column.type
        assert same(mode, want_mode), (column.type, mode, want_mode)
