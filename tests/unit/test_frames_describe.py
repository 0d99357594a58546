"""describe(): exact statistics, mode and empty strings, as Arrow's kernels give them."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from osiris_tui.frames.describe import describe


def test_mode_distinct_and_empty_are_exact() -> None:
    table = pa.table({
        "s": ["b", "", "a", None, "b", "a", ""],
        "n": [3, 1, 1, None, 3, 2, 5],
        "d": pa.array([Decimal("1.10"), Decimal("-2.05"), Decimal("-2.05"), None, Decimal("1.10"),
                       Decimal("9.99"), None], pa.decimal128(10, 2)),
        "t": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 6)] * 2 + [dt.datetime(2020, 1, 1)] * 5,
                      pa.timestamp("us")),
        "u": [1, 2, 3, 4, 5, 6, 7],
    })
    s, n, d, t, u = describe(table)
    assert (s.distinct, s.mode, s.empty, s.nulls) == (3, "", 2, 1)  # three-way tie: the smallest
    assert (n.distinct, n.mode, n.min, n.max) == (4, 1, 1, 5)
    assert (d.distinct, d.mode, d.min, d.max) == (3, Decimal("-2.05"), Decimal("-2.05"), Decimal("9.99"))
    assert isinstance(d.mean, float) and d.empty is None
    assert (t.distinct, t.mode) == (2, dt.datetime(2020, 1, 1))
    assert (u.distinct, u.mode) == (7, None)  # no value repeats


def test_empty_and_all_null_columns() -> None:
    table = pa.table({"x": pa.array([None, None], pa.int64()), "s": pa.array([None, None], pa.string())})
    x, s = describe(table)
    assert (x.count, x.nulls, x.distinct, x.mode) == (0, 2, 0, None)
    assert s.empty == 0


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return a == b and type(a) is type(b)


@settings(max_examples=120, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-4, 4)), min_size=1, max_size=40), st.integers(0, 3))
def test_min_max_and_median_from_one_sort_are_arrows(raw: list[int | None], cut: int) -> None:
    """Min, max and median come from the sorted numbers: they are what Arrow's kernels give over the
    whole column, chunked, sliced, with NULLs, NaNs, infinities and both zeros."""
    def floats(v: int) -> float:
        return {-4: -math.inf, -1: -0.0, 0: 0.0, 3: math.nan, 4: math.inf}.get(v, v / 3)

    columns = {
        "i": pa.array(raw, pa.int64()),
        "big": pa.array([None if v is None else v * 2**60 for v in raw], pa.int64()),
        "u": pa.array([None if v is None else v + 4 for v in raw], pa.uint8()),
        "f": pa.array([None if v is None else floats(v) for v in raw], pa.float64()),
        "f32": pa.array([None if v is None else float(v) for v in raw], pa.float32()),
        "d": pa.array([None if v is None else Decimal(v * 12345).scaleb(-3) for v in raw], pa.decimal128(12, 3)),
        "ts": pa.array([None if v is None else dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=v)
                        for v in raw], pa.timestamp("ns", tz="UTC")),
        "day": pa.array([None if v is None else dt.date(2024, 1, 1) + dt.timedelta(days=v) for v in raw]),
        "time": pa.array([None if v is None else dt.time(1, 2, v + 4) for v in raw], pa.time32("s")),
        "b": pa.array([None if v is None else v > 0 for v in raw]),
        "s": pa.array([None if v is None else ["", "a", "b", "ab", "None", "nan", "é", "Z", "zz"][v + 4]
                       for v in raw]),
    }
    table = pa.table(columns)
    if cut:  # several chunks, the first one a slice
        table = pa.concat_tables([table.slice(cut), table.slice(0, cut)])
    for stats, name in zip(describe(table), table.column_names, strict=True):
        column = table.column(name)
        if not stats.count:
            continue
        lo_hi = pc.min_max(column)
        assert _same(stats.min, lo_hi["min"].as_py()) and _same(stats.max, lo_hi["max"].as_py()), name
        if pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_decimal(column.type):
            median = pc.quantile(column, q=0.5)[0].as_py()
            assert _same(stats.median, None if median is None else float(median)), name


def test_a_tie_of_many_strings_is_won_by_the_smallest_and_durations_have_min_and_max() -> None:
    words = [f"w{i:03d}" for i in range(200, 0, -1)]
    stats = describe(pa.table({"s": words * 2, "d": pa.array([dt.timedelta(seconds=s) for s in range(400)])}))
    assert (stats[0].distinct, stats[0].mode, stats[0].min, stats[0].max) == (200, "w001", "w001", "w200")
    assert (stats[1].min, stats[1].max) == (dt.timedelta(0), dt.timedelta(seconds=399))


def test_codes_counted_a_block_at_a_time_give_the_same_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    from osiris_tui.frames import describe as describe_mod

    words = ["b", "a", None, "c", "b", "", "a", "b", "c", "a", "a"]
    whole = describe(pa.table({"s": words}))[0]
    monkeypatch.setattr(describe_mod, "BINCOUNT_BLOCK", 3)
    blocks = describe(pa.table({"s": words}))[0]
    assert blocks == whole and (whole.distinct, whole.mode, whole.empty, whole.nulls) == (4, "a", 1, 1)
