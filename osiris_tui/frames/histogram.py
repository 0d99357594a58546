"""Histogram of one column of a view: numbers in bins, dates and timestamps by period (no UI code).

`histogram(view, "amount")` counts the shown rows (the filter applies) of one column:

- **Numbers** (integers, floats, decimals) in equal-width bins: the number of bins by the
  Freedman-Diaconis rule (bin width 2·IQR/∛n), or Sturges' when the IQR is 0, at most `max_bins`;
  the width then rounded up to 1, 2, 2.5 or 5 times a power of ten and the edges put on its
  multiples, so they are exact decimals (`20 - 40`), never a float's long tail. Integer columns get
  integer edges (one bin per value when the range is small). A bin holds `lo ≤ v < hi`. NaN and
  ±inf are counted apart from the bins, as NULLs are.
- **Dates and timestamps** by day, month or year, chosen so that the range makes at most
  `MAX_DAYS` days or `MAX_MONTHS` months; periods with no rows are bins of 0, so gaps show.
- **Anything else** (text, booleans, nested types): not applicable, with the reason in `note`.

Counting is one `searchsorted` over the column as numpy (no copy of the other columns), so it runs
in a worker thread without holding the UI.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from osiris_tui.frames.view import FrameView

Kind = Literal["number", "date", "none"]
Period = Literal["day", "month", "year"]

MAX_BINS = 40
MAX_DAYS = 92  # a range of up to about three months: by day
MAX_MONTHS = 120  # up to ten years: by month; beyond, by year
# a period's numpy unit, and one period
PERIODS: dict[str, tuple[str, Any]] = {"day": ("datetime64[D]", np.timedelta64(1, "D")),
                                       "month": ("datetime64[M]", np.timedelta64(1, "M")),
                                       "year": ("datetime64[Y]", np.timedelta64(1, "Y"))}
DASH = "\N{EN DASH}"  # between a bin's ends
SMALL_RANGE = 40  # an integer column spanning at most this many values: one bin per value


@dataclass(frozen=True, slots=True)
class Bin:
    """`count` values with `lo ≤ v < hi` (edges of numbers are Decimals, or ints for an integer
    column). Integer bins are labelled by the values they hold ("10 - 19"); a period's bin has `lo`
    its first day and `hi` the next period's first day; a single value's bin has `lo == hi`."""

    lo: Any
    hi: Any
    count: int
    label: str


@dataclass(frozen=True)
class Histogram:
    column: str
    kind: Kind
    bins: list[Bin] = field(default_factory=list)
    nulls: int = 0  # NULL (and NaT)
    nan: int = 0  # NaN and ±inf, numbers only
    total: int = 0  # every row counted, NULLs included
    period: Period | None = None  # dates: the period of a bin
    method: str = ""  # how the bins were chosen ("Freedman-Diaconis", "one per value", "by month"…)
    note: str = ""  # why there are no bins

    @property
    def counted(self) -> int:
        return sum(b.count for b in self.bins)


def _column(source: FrameView | pa.Table, column: str) -> pa.ChunkedArray:
    if isinstance(source, FrameView):
        values = source.table.column(column)
        return values if source.indices is None else values.take(source.indices)
    return source.column(column)


def histogram(source: FrameView | pa.Table, column: str, *, max_bins: int = MAX_BINS) -> Histogram:
    """The histogram of `column` over the rows `source` shows (see the module's docstring)."""
    values = _column(source, column)
    kind = values.type
    total = len(values)
    if pa.types.is_dictionary(kind):
        values = values.cast(kind.value_type)
        kind = values.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return _numbers(column, values, total, max_bins)
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        return _dates(column, values, total)
    what = "text" if pa.types.is_string(kind) or pa.types.is_large_string(kind) else str(kind)
    return Histogram(column, "none", total=total, nulls=values.null_count,
                     note=f"not applicable: a {what} column (its values are counted above)")


def _label(value: Any) -> str:
    from osiris_tui.frames.format import plain

    return plain(value)


def nice_width(raw: float, integer: bool) -> Decimal:
    """The smallest of 1, 2, 2.5 and 5 times a power of ten that is at least `raw` (at least 1 for
    integers), as an exact decimal."""
    if raw <= 0 or not math.isfinite(raw):
        return Decimal(1)
    exponent = math.floor(math.log10(raw))
    for mantissa in ("1", "2", "2.5", "5", "10"):
        width = Decimal(mantissa).scaleb(exponent)
        if width >= Decimal(repr(raw)) * (1 - Decimal("1e-12")):
            break
    if integer:
        width = max(Decimal(1), width.to_integral_value(rounding=ROUND_CEILING))
    return width


def _numbers(column: str, values: pa.ChunkedArray, total: int, max_bins: int) -> Histogram:
    nulls = values.null_count
    kind = values.type
    integer = pa.types.is_integer(kind)
    if pa.types.is_decimal(kind):
        values = values.cast(pa.float64())  # binned as floats (the edges stay exact decimals)
    flat = values.drop_null()
    array = np.asarray(flat.to_numpy() if isinstance(flat, pa.Array) else flat.combine_chunks().to_numpy())
    nan = 0
    if not integer:
        finite = np.isfinite(array)
        nan = int(len(array) - int(finite.sum()))
        array = array[finite]
    if array.size == 0:
        return Histogram(column, "number", nulls=nulls, nan=nan, total=total,
                         note="no values to bin" + (f" ({nulls:,} NULL)" if nulls else ""))
    lo, hi = array.min(), array.max()
    if lo == hi:
        value = int(lo) if integer else float(lo)
        return Histogram(column, "number", [Bin(value, value, int(array.size), _label(value))], nulls, nan, total,
                         method="a single value")
    n = array.size
    q75, q25 = np.percentile(array, [75, 25])
    iqr = float(q75) - float(q25)
    span = float(hi) - float(lo)
    if integer and int(hi) - int(lo) < min(SMALL_RANGE, max_bins):
        width, method = Decimal(1), "one per value"
    else:
        if iqr > 0:
            count, method = math.ceil(span / (2 * iqr / n ** (1 / 3))), "Freedman-Diaconis"
        else:
            count, method = math.ceil(math.log2(n)) + 1, "Sturges"
        count = max(1, min(max_bins, count))
        width = nice_width(span / count, integer)
        while math.floor(span / float(width)) + 1 > max_bins:  # the rounding to nice edges added one
            width = nice_width(float(width) * 1.01, integer)
    low = Decimal(int(lo)) if integer else Decimal(repr(float(lo)))
    first = (low / width).to_integral_value(rounding=ROUND_FLOOR) * width
    edges = [first]
    top = Decimal(int(hi)) if integer else Decimal(repr(float(hi)))
    while edges[-1] <= top:
        edges.append(edges[-1] + width)
    if integer:
        bounds = np.array([int(e) for e in edges], dtype=np.int64 if abs(int(edges[-1])) < 2**62 else object)
    else:
        bounds = np.array([float(e) for e in edges])
    index = np.searchsorted(bounds, array, side="right") - 1  # bin i: edges[i] <= v < edges[i + 1]
    counts = np.bincount(index.astype(np.int64), minlength=len(edges) - 1)
    bins = []
    for i in range(len(edges) - 1):
        a, b = edges[i], edges[i + 1]
        if integer:
            label = _label(int(a)) if width == 1 else f"{_label(int(a))} {DASH} {_label(int(b) - 1)}"
            bins.append(Bin(int(a), int(b), int(counts[i]), label))
        else:
            bins.append(Bin(a, b, int(counts[i]), f"{_decimal(a)} {DASH} {_decimal(b)}"))
    return Histogram(column, "number", bins, nulls, nan, total, method=method)


def _decimal(value: Decimal) -> str:
    """An edge as written: no exponent, no trailing zeros (`20`, `2.5`, `0.001`)."""
    return format(value.normalize(), "f")


def _as_days(values: pa.ChunkedArray) -> np.ndarray:
    """The non-null values as numpy datetime64[D] (timestamps in their own time zone's wall clock)."""
    kind = values.type
    flat = values.drop_null()
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        flat = pc.local_timestamp(flat)
    if pa.types.is_timestamp(flat.type):
        flat = flat.cast(pa.timestamp(flat.type.unit))
    array = flat.combine_chunks() if isinstance(flat, pa.ChunkedArray) else flat
    return np.asarray(array.to_numpy(zero_copy_only=False)).astype("datetime64[D]")


def _dates(column: str, values: pa.ChunkedArray, total: int) -> Histogram:
    nulls = values.null_count
    days = _as_days(values)
    if days.size == 0:
        return Histogram(column, "date", nulls=nulls, total=total,
                         note="no values to bin" + (f" ({nulls:,} NULL)" if nulls else ""))
    first, last = days.min(), days.max()
    months = int((last.astype("datetime64[M]") - first.astype("datetime64[M]")).astype(int)) + 1
    span_days = int((last - first).astype(int)) + 1
    period: Period
    if span_days <= MAX_DAYS:
        period = "day"
    elif months <= MAX_MONTHS:
        period = "month"
    else:
        period = "year"
    unit, one = PERIODS[period]
    keyed = days.astype(unit)
    start, stop = keyed.min(), keyed.max()
    periods = np.arange(start, stop + one, one)
    index = (keyed - start).astype(np.int64)
    counts = np.bincount(index, minlength=len(periods))
    bins = []
    for i, p in enumerate(periods):
        lo = p.astype("datetime64[D]").item()
        hi = (p + one).astype("datetime64[D]").item()
        bins.append(Bin(lo, hi, int(counts[i]), _period_label(lo, period)))
    return Histogram(column, "date", bins, nulls, 0, total, period=period, method=f"by {period}")


def _period_label(day: dt.date, period: Period) -> str:
    if period == "day":
        return day.isoformat()
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    return f"{day.year:04d}"
