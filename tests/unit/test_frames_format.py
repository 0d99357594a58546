"""frames.format: how every value reads (exact), one value at a time and over Arrow columns."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from osiris_tui.frames import format as vf

BIG_DECIMAL = Decimal("123456789012345678901234567.891")  # 30 digits


@pytest.mark.parametrize(("value", "text"), [
    (10038.96, "10038.96"),
    (123456.78, "123456.78"),
    (1234567.891, "1234567.891"),
    (1.2345e-05, "1.2345e-05"),
    (0.1 + 0.2, "0.30000000000000004"),
    (float("inf"), "inf"),
    (-0.0, "-0.0"),
    (np.float64(10038.96), "10038.96"),
    (np.float32(0.1), "0.1"),
    (9876543210, "9876543210"),
    (2**70, "1180591620717411303424"),
    (np.int64(-42), "-42"),
    (BIG_DECIMAL, "123456789012345678901234567.891"),
    (Decimal("1.500"), "1.500"),
    (True, "True"),
    (b"\x00ab", "b'\\x00ab'"),
    ([1, None, "a"], '[1, null, "a"]'),
    ({"a": 1.5, "b": None}, '{"a": 1.5, "b": null}'),
])
def test_numbers_and_others_read_exactly(value: object, text: str) -> None:
    assert vf.plain(value) == text


@pytest.mark.parametrize("value", [None, float("nan"), np.nan, pd.NA, pd.NaT, np.datetime64("NaT"),
                                   Decimal("NaN")])
def test_every_kind_of_null_is_the_null_mark(value: object) -> None:
    assert vf.is_null(value)
    assert vf.plain(value) == vf.NULL_MARK
    cell = vf.styled(value)
    assert cell.plain == vf.NULL_MARK and cell.style == vf.NULL_STYLE
    assert vf.json_value(value) is None


@pytest.mark.parametrize("text", ["None", "nan", "NaN", "NULL", "null", "NaT", "<NA>"])
def test_strings_that_look_null_are_strings(text: str) -> None:
    assert not vf.is_null(text)
    assert vf.plain(text) == text
    cell = vf.styled(text)
    assert cell.plain == text and not cell.style
    assert vf.json_value(text) == text


def test_the_empty_string_is_visibly_empty() -> None:
    assert vf.plain("") == ""
    cell = vf.styled("")
    assert cell.plain == '""' and cell.style == vf.EMPTY_STYLE
    assert cell.plain != vf.styled(None).plain


def test_timestamps_keep_every_digit_and_their_timezone() -> None:
    ns = pd.Timestamp("2024-01-02 03:04:05.123456789")
    assert vf.plain(ns) == "2024-01-02 03:04:05.123456789"
    tz = pd.Timestamp("2024-01-02 03:04:05.123456789", tz="Europe/Amsterdam")
    assert vf.plain(tz) == "2024-01-02 03:04:05.123456789+01:00"
    us = dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
    assert vf.plain(us) == "2024-01-02 03:04:05.000006+00:00"
    assert vf.plain(dt.date(2024, 1, 2)) == "2024-01-02"
    assert vf.plain(dt.time(3, 4, 5, 7)) == "03:04:05.000007"
    assert vf.plain(pd.Timedelta(1, "ns")) == "0 days 00:00:00.000000001"
    assert vf.plain(dt.timedelta(days=1, microseconds=5)) == "1 days 00:00:00.000005"
    # JSON: ISO 8601, every digit
    assert vf.json_value(tz) == "2024-01-02T03:04:05.123456789+01:00"
    assert vf.json_value(dt.date(2024, 1, 2)) == "2024-01-02"


def test_cells_justify_numbers_right_and_mark_line_breaks() -> None:
    assert vf.styled(10038.96).justify == "right"
    assert vf.styled(dt.date(2024, 1, 2)).justify == "right"
    assert vf.styled("abc").justify == "left"
    two = vf.styled("a\nb\tc")
    assert two.plain == "a⏎b⇥c"
    assert vf.styled("a\nb", one_line=False).plain == "a\nb"
    cut = vf.styled("x" * 100, limit=10)
    assert cut.plain == "x" * 9 + "…"
    assert vf.styled(1204, thousands=True).plain == "1,204"
    assert vf.styled(1204).plain == "1204"  # never separators in a data value


def test_json_is_exact() -> None:
    row = vf.row_json(["d", "f", "s", "n", "t"],
                      [BIG_DECIMAL, 1234567.891, "None", None, pd.Timestamp("2024-01-02 03:04:05.000000001")])
    assert json.loads(row) == {"d": "123456789012345678901234567.891", "f": 1234567.891, "s": "None",
                               "n": None, "t": "2024-01-02T03:04:05.000000001"}
    assert vf.json_value(float("inf")) == "inf"
    assert vf.json_value(np.float32(0.1)) == 0.1


def test_counts_have_separators() -> None:
    assert vf.count(1204) == "1,204"
    assert vf.plural(1, "row") == "1 row" and vf.plural(1204, "row") == "1,204 rows"
    assert vf.plural(1, "column") == "1 column" and vf.plural(0, "column") == "0 columns"


def test_arrow_columns_format_a_slice_only() -> None:
    column = pa.chunked_array([
        pa.array([10038.96, None], pa.float64()),
        pa.array([1.2345e-05, 123456.78], pa.float64()),
    ])
    cells = vf.styled_cells(column, 1, 3)
    assert [c.plain for c in cells] == [vf.NULL_MARK, "1.2345e-05"]
    assert all(c.justify == "right" for c in cells)
    assert vf.plain_cells(column) == ["10038.96", vf.NULL_MARK, "1.2345e-05", "123456.78"]
    assert vf.plain_cells(pa.array([0.1], pa.float32())) == ["0.1"]
    decimals = pa.array([BIG_DECIMAL, None], pa.decimal128(38, 3))
    assert vf.values(decimals) == [BIG_DECIMAL, None]
    ns = pa.array([pd.Timestamp("2024-01-02 03:04:05.123456789")], pa.timestamp("ns", tz="UTC"))
    assert vf.plain_cells(ns) == ["2024-01-02 03:04:05.123456789+00:00"]
    times = pa.array([1], pa.time64("ns"))
    assert vf.plain_cells(times) == ["00:00:00.000000001"]
    strings = pa.array(["None", None, ""]).dictionary_encode()
    assert [c.plain for c in vf.styled_cells(strings, 0, 3)] == ["None", vf.NULL_MARK, '""']


def test_measure_reads_a_sample_and_the_extremes() -> None:
    big = pa.chunked_array([pa.array(np.arange(2_000_000, dtype=np.int64))])
    assert vf.measure(big) == len("1999999")
    assert len(vf.sample_rows(2_000_000)) < 1100
    assert vf.measure(pa.array([1.5, 1234567.891, None])) == len("1234567.891")
    assert vf.measure(pa.array(["x" * 500]), limit=41) == 41
    assert vf.measure(pa.array([], pa.int64())) == 0
