"""Histogram bins (osiris_tui.frames.histogram): exact edges, NULLs apart, dates by period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

from osiris_tui.frames.histogram import histogram, nice_width
from osiris_tui.frames.view import FrameView

DASH = "\N{EN DASH}"


def spans(hist) -> list[tuple[object, object, int]]:
    return [(b.lo, b.hi, b.count) for b in hist.bins]


def test_float_edges_are_exact_decimals_and_every_value_is_in_one_bin() -> None:
    table = pa.table({"x": [0.1, 0.2, 0.3, 0.7, None, float("nan"), float("inf")]})
    hist = histogram(table, "x")
    assert hist.kind == "number"
    assert spans(hist) == [(Decimal("0"), Decimal("0.2"), 1), (Decimal("0.2"), Decimal("0.4"), 2),
                           (Decimal("0.4"), Decimal("0.6"), 0), (Decimal("0.6"), Decimal("0.8"), 1)]
    assert [b.label for b in hist.bins][:2] == [f"0 {DASH} 0.2", f"0.2 {DASH} 0.4"]
    assert (hist.nulls, hist.nan, hist.total, hist.counted) == (1, 2, 7, 4)


def test_a_value_on_an_edge_goes_to_the_bin_it_starts() -> None:
    hist = histogram(pa.table({"x": [0.0, 10.0, 20.0, 30.0, 40.0]}), "x")
    assert spans(hist) == [(Decimal(0), Decimal(20), 2), (Decimal(20), Decimal(40), 2),
                           (Decimal(40), Decimal(60), 1)]  # 20 starts the second bin, 40 the third
    hist = histogram(pa.table({"x": [float(i) for i in range(101)]}), "x", max_bins=5)
    assert len(hist.bins) <= 5 and hist.counted == 101


def test_freedman_diaconis_on_a_spread() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(100, 15, 10_000)
    hist = histogram(pa.table({"x": values}), "x")
    assert hist.method == "Freedman-Diaconis"
    assert hist.counted == 10_000 and 10 <= len(hist.bins) <= 41
    widths = {b.hi - b.lo for b in hist.bins}
    assert len(widths) == 1 and widths.pop() in {Decimal(m).scaleb(e) for m in ("1", "2", "2.5", "5")
                                                 for e in range(-2, 3)}
    low, high = Decimal(repr(float(values.min()))), Decimal(repr(float(values.max())))
    assert hist.bins[0].lo <= low and high < hist.bins[-1].hi


def test_integers_get_integer_edges() -> None:
    hist = histogram(pa.table({"n": pa.array([*range(1000), None], pa.int64())}), "n")
    assert all(isinstance(b.lo, int) and isinstance(b.hi, int) for b in hist.bins)
    assert hist.counted == 1000 and hist.nulls == 1
    first = hist.bins[0]
    assert first.lo == 0 and first.label == f"0 {DASH} {first.hi - 1}"


def test_a_small_integer_range_has_one_bin_per_value() -> None:
    hist = histogram(pa.table({"n": [3, 1, 3, 5, 5, 5]}), "n")
    assert hist.method == "one per value"
    assert [(b.label, b.count) for b in hist.bins] == [("1", 1), ("2", 0), ("3", 2), ("4", 0), ("5", 3)]


def test_a_single_value() -> None:
    hist = histogram(pa.table({"x": [2.5, 2.5, None]}), "x")
    assert spans(hist) == [(2.5, 2.5, 2)] and hist.nulls == 1 and hist.method == "a single value"


@pytest.mark.parametrize("values", [[], [None, None]])
def test_empty(values: list) -> None:
    hist = histogram(pa.table({"x": pa.array(values, pa.float64())}), "x")
    assert hist.bins == [] and hist.nulls == len(values) and hist.note.startswith("no values")


def test_dates_by_day_month_or_year_with_empty_periods() -> None:
    days = pa.array([dt.date(2024, 1, 1), dt.date(2024, 1, 3), dt.date(2024, 1, 3), None])
    hist = histogram(pa.table({"d": days}), "d")
    assert hist.period == "day" and hist.nulls == 1
    assert [(b.label, b.count) for b in hist.bins] == [("2024-01-01", 1), ("2024-01-02", 0), ("2024-01-03", 2)]
    assert hist.bins[0].lo == dt.date(2024, 1, 1) and hist.bins[0].hi == dt.date(2024, 1, 2)

    months = pa.array([dt.date(2024, 1, 31), dt.date(2024, 6, 1), dt.date(2024, 6, 30)])
    hist = histogram(pa.table({"d": months}), "d")
    assert hist.period == "month"
    assert [(b.label, b.count) for b in hist.bins] == [("2024-01", 1), ("2024-02", 0), ("2024-03", 0),
                                                        ("2024-04", 0), ("2024-05", 0), ("2024-06", 2)]
    years = pa.array([dt.datetime(1990, 5, 1, 12), dt.datetime(2024, 1, 1)], pa.timestamp("us"))
    hist = histogram(pa.table({"t": years}), "t")
    assert hist.period == "year" and len(hist.bins) == 35
    assert (hist.bins[0].label, hist.bins[0].count, hist.bins[-1].label, hist.bins[-1].count) == ("1990", 1, "2024", 1)


def test_timestamps_with_a_time_zone_fall_in_their_local_day() -> None:
    ts = pa.array([dt.datetime(2024, 1, 1, 23, 30, tzinfo=dt.UTC)], pa.timestamp("us", tz="Europe/Prague"))
    other = pa.array([dt.datetime(2024, 1, 3, tzinfo=dt.UTC)], pa.timestamp("us", tz="Europe/Prague"))
    hist = histogram(pa.table({"t": pa.concat_arrays([ts, other])}), "t")
    assert hist.bins[0].label == "2024-01-02"  # 23:30 UTC is past midnight in Prague


def test_text_is_not_applicable() -> None:
    hist = histogram(pa.table({"s": ["a", None]}), "s")
    assert hist.kind == "none" and hist.bins == [] and "not applicable" in hist.note and hist.nulls == 1


def test_the_filter_of_a_view_applies() -> None:
    view = FrameView.of(pa.table({"n": [1, 2, 3, 4]})).filtered("n > 2")
    hist = histogram(view, "n")
    assert hist.total == 2 and [(b.label, b.count) for b in hist.bins] == [("3", 1), ("4", 1)]


def test_decimals_and_big_integers() -> None:
    dec = pa.array([Decimal("1.10"), Decimal("2.25"), Decimal("9.99")], pa.decimal128(5, 2))
    assert histogram(pa.table({"d": dec}), "d").counted == 3
    big = pa.array([2**62, 2**62 + 10**6, 2**63 - 1], pa.int64())
    hist = histogram(pa.table({"b": big}), "b")
    assert hist.counted == 3 and hist.bins[0].lo <= 2**62 and hist.bins[-1].hi > 2**63 - 1


def test_nice_width() -> None:
    assert nice_width(0.13, False) == Decimal("0.2")
    assert nice_width(2.1, False) == Decimal("2.5")
    assert nice_width(7, False) == Decimal("10")
    assert nice_width(0.3, True) == 1
    assert nice_width(30, True) == 50
