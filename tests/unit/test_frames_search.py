"""search() over the displayed text of a view, and Matches navigation."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from osiris_tui.frames import format as vf
from osiris_tui.frames.search import Matches, search
from osiris_tui.frames.text import column_text
from osiris_tui.frames.view import FrameView


@pytest.fixture
def view() -> FrameView:
    return FrameView.of(pa.table({
        "name": ["Alice", "bob", None, "Bobby", "carol"],
        "amount": [1.0, 12.5, 0.1, None, 1e-05],
        "n": [10, 2, 31, 4, 1],
    }))


def cells(matches: Matches) -> list[tuple[int, int]]:
    return list(zip(matches.positions.tolist(), matches.columns.tolist(), strict=True))


def test_substring_ignores_case_by_default(view: FrameView) -> None:
    assert cells(search(view, "bob")) == [(1, 0), (3, 0)]
    assert cells(search(view, "bob", case_sensitive=True)) == [(1, 0)]


def test_text_is_what_the_table_shows(view: FrameView) -> None:
    assert cells(search(view, "1.0")) == [(0, 1)]  # 1.0, not "1"
    assert cells(search(view, "e-05")) == [(4, 1)]
    assert cells(search(view, "1")) == [(0, 1), (0, 2), (1, 1), (2, 1), (2, 2), (4, 1), (4, 2)]


def test_regex_and_one_column(view: FrameView) -> None:
    assert cells(search(view, r"^b.b", regex=True)) == [(1, 0), (3, 0)]
    assert cells(search(view, r"^\d$", regex=True)) == [(1, 2), (3, 2), (4, 2)]
    assert cells(search(view, "1", column="n")) == [(0, 2), (2, 2), (4, 2)]
    with pytest.raises(KeyError):
        search(view, "x", column="nope")


def test_bad_regexes_say_why(view: FrameView) -> None:
    with pytest.raises(re.error):
        search(view, "(unclosed", regex=True)
    with pytest.raises(ValueError, match="not supported"):
        search(view, "a(?=b)", regex=True)


def test_positions_follow_the_view(view: FrameView) -> None:
    shown = view.sorted("n", "descending")  # rows 2, 0, 3, 1, 4
    assert cells(search(shown, "1")) == [(0, 1), (0, 2), (1, 1), (1, 2), (3, 1), (4, 1), (4, 2)]
    only = view.filtered("n > 3")  # rows 0, 2, 3
    assert cells(search(only, "b")) == [(2, 0)]


def test_nulls_never_match(view: FrameView) -> None:
    assert len(search(view, vf.NULL_MARK)) == 0
    assert len(search(view, "")) == 0


def test_next_and_previous_wrap() -> None:
    m = Matches(np.array([1, 1, 4, 9], np.int64), np.array([0, 3, 2, 1], np.int32))
    assert m.next_after(0, 0) == 0
    assert m.next_after(1, 0) == 1
    assert m.next_after(1, 3) == 2
    assert m.next_after(9, 1) == 0  # wraps
    assert m.previous_before(4, 2) == 1
    assert m.previous_before(1, 0) == 3  # wraps
    assert m.previous_before(50, 0) == 3
    assert Matches(np.zeros(0, np.int64), np.zeros(0, np.int32)).next_after(0, 0) is None


def test_column_text_agrees_with_format() -> None:
    values = {
        "f": pa.array([0.1, 1.0, -0.0, 1e-05, 1e16, 12345678901.5, 1e-7, 3e-300, None, float("inf"), 2.5]),
        "f32": pa.array([0.1, 1.0, None, 1e10], pa.float32()),
        "i": pa.array([0, -5, None, 2**62]),
        "b": pa.array([True, None, False]),
        "d": pa.array([Decimal("1.20"), None, Decimal("-0.05"), Decimal("0.0000000000")], pa.decimal128(20, 10)),
        "ts": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5), dt.datetime(2024, 1, 2, 3, 4, 5, 120), None],
                       pa.timestamp("us")),
        "ts_ms": pa.array([0, 1_500, None], pa.timestamp("ms")),
        "ns": pa.array([0, 1_000, 1_000_000_001, None], pa.timestamp("ns")),
        "tz": pa.array([0, 1_000_000, None], pa.timestamp("us", tz="Europe/Paris")),
        "utc": pa.array([0, 1], pa.timestamp("ns", tz="UTC")),
        "date": pa.array([dt.date(2024, 1, 6), None], pa.date32()),
        "dict": pa.array(["a", "b", None, "a"]).dictionary_encode(),
        "list": pa.array([[1, 2], None, []]),
    }
    for name, column in values.items():
        want = [None if vf.is_null(v) else vf.plain(v) for v in vf.values(column)]
        assert column_text(column).to_pylist() == want, name


def test_float_text_with_many_exponents() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(20_000) * 10.0 ** rng.integers(-20, 20, 20_000)
    assert column_text(pa.array(x)).to_pylist() == [repr(v) for v in x.tolist()]


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.text(alphabet="ab4 2ÄxAZ@[.*", max_size=6)), min_size=1,
                                max_size=40),
       pattern=st.text(alphabet="ab42ÄxAZ@[.*", min_size=1, max_size=3), start=st.integers(0, 5),
       large=st.booleans(), lower=st.booleans())
def test_the_buffer_search_finds_what_arrows_matcher_finds(values, pattern, start, large, lower) -> None:
    from osiris_tui.frames.search import _bytes_mask

    text = pa.array(values, pa.large_string() if large else pa.string()).slice(min(start, len(values) - 1))
    pattern = pattern.lower() if lower else pattern
    fast = _bytes_mask(text, pattern, lower)
    if fast is None:  # (case-blind over non-ASCII text: Arrow's matcher does it)
        assert lower
        return
    shown = pc.utf8_lower(text) if lower else text
    assert fast.tolist() == pc.match_substring(shown, pattern).fill_null(False).to_pylist()
