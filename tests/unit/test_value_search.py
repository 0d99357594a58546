"""Number-column search from the numbers (frames.value_search) finds exactly what the text search does."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from osiris_tui.frames import value_search
from osiris_tui.frames.search import required_chars, search
from osiris_tui.frames.text import array_text
from osiris_tui.frames.view import FrameView

PATTERN = st.text(alphabet="0123456789.-", min_size=1, max_size=5)


def by_text(column: pa.Array, pattern: str) -> list[bool]:
    return pc.match_substring(array_text(column), pattern).fill_null(False).to_pylist()


def by_numbers(column: pa.Array, pattern: str) -> list[bool]:
    def match(text: pa.Array) -> np.ndarray:
        return pc.match_substring(text, pattern).fill_null(False).to_numpy(zero_copy_only=False)

    return value_search.number_mask(column, pattern, match).tolist()


def patterns_of(column: pa.Array) -> list[str]:
    """Pieces of the column's own text: the patterns that do match somewhere."""
    found = []
    for text in array_text(column).to_pylist():
        if text:
            found += [text, text[:2], text[-3:], text[1:4]]
    return found


INTS = st.lists(st.one_of(st.none(), st.integers(-2**63, 2**63 - 1), st.integers(-1000, 1000)), max_size=40)


@settings(max_examples=150, deadline=None)
@given(INTS, PATTERN)
def test_integers(values: list[int | None], pattern: str) -> None:
    column = pa.array(values, pa.int64())
    for p in [pattern, *patterns_of(column)[:6]]:
        assert by_numbers(column, p) == by_text(column, p), p


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(0, 2**64 - 1)), max_size=30), PATTERN)
def test_unsigned_and_narrow_integers(values: list[int | None], pattern: str) -> None:
    column = pa.array(values, pa.uint64())
    for p in [pattern, *patterns_of(column)[:4]]:
        assert by_numbers(column, p) == by_text(column, p), p
    small = pa.array([None if v is None else v % 200 - 100 for v in values], pa.int8())
    assert by_numbers(small, pattern) == by_text(small, pattern)


@settings(max_examples=120, deadline=None)
@given(st.integers(0, 6), st.lists(st.one_of(st.none(), st.integers(-10**17, 10**17), st.integers(-99, 99)),
                                   max_size=30), PATTERN)
def test_decimals(scale: int, unscaled: list[int | None], pattern: str) -> None:
    values = [None if u is None else Decimal(u).scaleb(-scale) for u in unscaled]
    column = pa.array(values, pa.decimal128(18, scale))
    for p in [pattern, *patterns_of(column)[:6]]:
        assert by_numbers(column, p) == by_text(column, p), p


FLOATS = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-10**9, 10**9).map(lambda i: i / 100),  # money-like: in the layout
    st.integers(-10**6, 10**6).map(lambda i: i / 10**6),
    st.sampled_from([0.0, -0.0, 1e-4, 9.99e-5, 1e15, 999999999999999.9, 1e16, 0.1 + 0.2, 5.0, -120.0]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(FLOATS, max_size=40), PATTERN)
def test_floats_shown_as_repr(values: list[float | None], pattern: str) -> None:
    column = pa.array(values, pa.float64())
    for p in [pattern, "e-05", "inf", *patterns_of(column)[:6]]:
        assert by_numbers(column, p) == by_text(column, p), p


def test_search_over_a_mixed_frame_agrees_with_the_text() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    table = pa.table({
        "id": pa.array(rng.integers(-50_000, 50_000, n)),
        "amount": pa.array(np.where(rng.random(n) < 0.1, np.nan, np.round(rng.standard_normal(n) * 1000, 2))),
        "raw": pa.array(rng.standard_normal(n)),
        "total": pa.array([None if i % 17 == 0 else Decimal(int(v)).scaleb(-2)
                           for i, v in enumerate(rng.integers(-10**7, 10**7, n))], pa.decimal128(18, 2)),
        "s": pa.array([f"x{v}" for v in rng.integers(0, 999, n)]),
    })
    view = FrameView.of(table).sorted("amount", "descending")
    order = np.asarray(view.indices)
    texts = [array_text(table.column(name).chunk(0)).to_pylist() for name in table.column_names]
    for pattern in ["42", "-4", "0.5", ".0", "-0.", "9", "x4"]:
        found = search(view, pattern)
        want = []
        for position, row in enumerate(order):
            for c, column in enumerate(texts):
                text = column[int(row)]
                if text is not None and pattern.lower() in text.lower():
                    want.append((position, c))
        assert list(zip(found.positions.tolist(), found.columns.tolist(), strict=True)) == want, pattern


@pytest.mark.parametrize(("pattern", "needed"), [
    (r"_12\d9$", {"_", "1", "2", "9"}),
    (r"a|b", set()),
    (r"(ab)+c?", {"a", "b"}),
    (r"x*y", {"y"}),
    (r"[_x]", set()),
    ("Ab", {"a", "b"}),
])
def test_a_regex_needs_its_literal_characters(pattern: str, needed: set[str]) -> None:
    assert required_chars(pattern) == needed


def test_a_regex_skips_only_columns_it_cannot_match() -> None:
    table = pa.table({"n": [1209, -129], "s": ["a_1209", "b_1239"], "f": [0.5, 12.09]})
    view = FrameView.of(table)
    found = search(view, r"_12\d9$", regex=True)
    assert list(zip(found.positions.tolist(), found.columns.tolist(), strict=True)) == [(0, 1), (1, 1)]
    found = search(view, r"12\d9$", regex=True)
    assert list(zip(found.positions.tolist(), found.columns.tolist(), strict=True)) == [(0, 0), (0, 1), (1, 1)]
    found = search(view, r"^-1", regex=True)
    assert list(zip(found.positions.tolist(), found.columns.tolist(), strict=True)) == [(1, 0)]


FIRST, LAST = -62_135_596_800, 253_402_300_799  # 0001-01-01 and 9999-12-31 23:59:59, in seconds
NS_FIRST, NS_LAST = -(2**63) // 10**9 + 1, (2**63 - 1) // 10**9 - 1


def timestamps(unit: str) -> st.SearchStrategy[list[int | None]]:
    """Values Python can show (years 1 to 9999), as seconds, milliseconds, … of every kind of fraction."""
    per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit]
    first, last = (NS_FIRST, NS_LAST) if unit == "ns" else (FIRST, LAST)
    seconds = st.integers(first, last)
    value = st.one_of(
        seconds.map(lambda s: s * per_second),
        st.tuples(seconds, st.integers(0, per_second - 1)).map(lambda p: p[0] * per_second + p[1]),
        st.tuples(seconds, st.integers(0, 999)).map(lambda p: p[0] * per_second + p[1] * (per_second // 1000)),
    )
    return st.lists(st.one_of(st.none(), value), max_size=25)


@settings(max_examples=40, deadline=None)
@given(st.data(), st.text(alphabet="0123456789-: .", min_size=1, max_size=6))
def test_timestamps(data: st.DataObject, pattern: str) -> None:
    for unit in ("s", "ms", "us", "ns"):
        column = pa.array(data.draw(timestamps(unit)), pa.timestamp(unit))
        for p in [pattern, *patterns_of(column)[:6]]:
            assert by_numbers(column, p) == by_text(column, p), (unit, p)


def test_timestamps_outside_four_digit_years_go_through_their_text() -> None:
    column = pa.array([-62_135_596_800_000_000, 253_402_300_799_999_999, 0, None], pa.timestamp("us"))  # 0001, 9999
    for p in ["0001-01-01", "9999-12-31 23:59:59.999999", "1970", "00:00:00", "-"]:
        assert by_numbers(column, p) == by_text(column, p), p


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_timestamps_of_a_few_years_test_years_as_time_ranges(unit: str) -> None:
    per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit]
    start = 1_704_067_200  # 2024-01-01
    seconds = np.linspace(start - 86_400 * 400, start + 86_400 * 800, 500).astype(np.int64)
    column = pa.array(seconds * per_second + (seconds % 7) * (per_second // 8), pa.timestamp(unit))
    for p in ["2024", "202", "024-", "2023-12-31", "2025", "2", "4-0", "1999"]:
        assert by_numbers(column, p) == by_text(column, p), p
