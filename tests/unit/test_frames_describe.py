"""describe(): exact statistics, mode and empty strings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa

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
