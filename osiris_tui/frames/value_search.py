"""Substring search over number and timestamp columns from the values, without writing their text.

The text the table shows of an integer (`-1234`), of a decimal of scale 0 to 6 (`-12.50`, `0.05`:
`str(Decimal)`, positional at those scales) and of most floats (`-1234.56`, `0.1`, `5.0`: `repr`) is
a layout of digits: an optional `-`, the digits of an unsigned number `u` (at least `s + 1` of them),
and a `.` before the last `s`. Whether a pattern of digits, `.` and `-` occurs in that text is a few
integer operations per row: for each place the pattern can sit, `(u // 10**a) % 10**b == digits`, with
`u` long enough. That is numpy over the whole column (releasing the GIL), and it needs no text at all,
so neither the time nor the memory of casting ten million numbers to strings.

A float is in this layout when it is zero or `1e-4 <= |x| < 1e15` and it is the double nearest to a
decimal `d / 10**k` with at most 15 significant digits and `k <= MAX_DECIMALS`: then `repr(x)` is that
decimal (repr is the shortest text that reads back as `x`, and two such decimals cannot share a
double). The other floats (`1e-05`, `0.30000000000000004`, inf; NaN shows as NULL) are few in most
data and go through their text (`frames.text`), as does every other type and every regex.

A timezone-naive timestamp of a year from 1000 to 9999 reads `YYYY-MM-DD HH:MM:SS`, then `.ffffff`
(microseconds, or milliseconds as microseconds) or `.fffffffff` (nanoseconds), only when the fraction
is not zero: fields of fixed widths at fixed places. A pattern sits at a place where its `-`, ` `, `:`
and `.` meet the template's and its digits meet digits; each field it covers is then one comparison,
`(field // 10**a) % 10**b == digits`, with the fields computed from the epoch numbers.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from osiris_tui.frames.text import array_text

NUMBER_CHARS = frozenset("0123456789.-")
MAX_DECIMALS = 6  # a float is tried as d / 10**k for k up to this
MAX_DIGITS = 20  # of a uint64
_LIMITS = np.array([10**i for i in range(1, MAX_DIGITS)], dtype=np.uint64)  # 10 .. 10**19


def applies(t: pa.DataType) -> bool:
    """Whether `number_mask` takes columns of this type."""
    if pa.types.is_integer(t) or pa.types.is_float64(t):
        return True
    if pa.types.is_timestamp(t):
        return t.tz is None
    return pa.types.is_decimal128(t) and t.precision <= 18 and 0 <= t.scale <= 6


def _window(body: str, scale: int, right: int) -> tuple[int, int, int] | None:
    """`body` (digits and `.`) with its last character at `right` places from the end of the digits'
    text (a `.` `scale` places from the end when `scale` > 0): (a, b, value), the lowest power of ten
    it covers, how many digits and their value; None when it does not fit the layout there."""
    low, digits = -1, []
    for j, char in enumerate(reversed(body)):
        place = right + j
        if scale and place == scale:
            if char != ".":
                return None
            continue
        if char == ".":
            return None
        power = place if not scale or place < scale else place - 1
        if low < 0:
            low = power
        digits.append(char)
    if not digits:
        return scale, 0, 0
    return low, len(digits), int("".join(reversed(digits)))


def _mod(x: np.ndarray, m: int) -> np.ndarray:
    """`x % m` for `x` >= 0: numpy divides by a constant fast (libdivide), but not its remainder."""
    divisor = x.dtype.type(m)
    return x - x // divisor * divisor


def _place_mask(u: np.ndarray, scale: int, window: tuple[int, int, int]) -> np.ndarray:
    """The rows whose digits hold the window (and are long enough to reach it)."""
    low, count, value = window
    if count == 0:
        return np.ones(len(u), dtype=bool)
    top = low + count - 1
    if top >= MAX_DIGITS:
        return np.zeros(len(u), dtype=bool)
    part = u // u.dtype.type(10**low) if low else u
    if 10**count <= np.iinfo(u.dtype).max:
        part = _mod(part, 10**count)
    hit = part == u.dtype.type(value) if value <= np.iinfo(u.dtype).max else np.zeros(len(u), dtype=bool)
    if top > scale:  # beyond the digits every row has (`0.05` has `scale + 1`)
        hit &= u >= u.dtype.type(10**top) if 10**top <= np.iinfo(u.dtype).max else False
    return hit


def _narrow(u: np.ndarray) -> tuple[np.ndarray, int]:
    """`u` as uint32 when it fits (its arithmetic is twice as fast), and its most digits."""
    top = int(u.max()) if len(u) else 0
    digits = len(str(top))
    return (u.astype(np.uint32) if top < 2**32 else u), digits


def _digit_counts(u: np.ndarray) -> np.ndarray:
    return np.searchsorted(_LIMITS, u, side="right") + 1


def layout_mask(u: np.ndarray, negative: np.ndarray, scale: int, pattern: str) -> np.ndarray:
    """Per row: whether `pattern` occurs in `-`? + the digits of `u` (at least `scale + 1` of them when
    `scale` > 0) with a `.` before the last `scale`. `u` is uint64."""
    size = len(u)
    if not pattern:
        return np.ones(size, dtype=bool)
    if set(pattern) - NUMBER_CHARS:
        return np.zeros(size, dtype=bool)
    if pattern.startswith("-"):  # only the first character can be a minus: the text starts with it
        rest = pattern[1:]
        if "-" in rest:
            return np.zeros(size, dtype=bool)
        out = negative.copy()
        if not rest:
            return out
        widths = np.maximum(_digit_counts(u), scale + 1 if scale else 1)
        hit = np.zeros(size, dtype=bool)
        for width in np.unique(widths[negative]).tolist():
            right = width + (1 if scale else 0) - len(rest)
            window = _window(rest, scale, right) if right >= 0 else None
            if window is None:
                continue
            rows = np.flatnonzero(negative & (widths == width))
            hit[rows] = _place_mask(_narrow(u[rows])[0], scale, window)
        return out & hit
    if "-" in pattern:
        return np.zeros(size, dtype=bool)
    hit = np.zeros(size, dtype=bool)
    u, digits = _narrow(u)
    longest = max(digits, scale + 1) + (1 if scale else 0)  # the longest text, sign aside
    for right in range(longest - len(pattern) + 1):
        window = _window(pattern, scale, right)
        if window is not None:
            hit |= _place_mask(u, scale, window)
    return hit


def _integers(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    values = chunk.fill_null(0).to_numpy(zero_copy_only=False)
    if values.dtype.kind == "u":
        return values.astype(np.uint64, copy=False), np.zeros(len(values), dtype=bool)
    wide = values.astype(np.int64, copy=False)
    # |INT64_MIN| wraps to itself, whose uint64 reading is 2**63: right
    return np.abs(wide).view(np.uint64), wide < 0


def _decimals(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    # precision <= 18: the unscaled value is the low 64-bit word, the high one its sign
    words = np.frombuffer(chunk.buffers()[1], dtype=np.int64)
    low = words[2 * chunk.offset: 2 * (chunk.offset + len(chunk)): 2]
    return np.abs(low).view(np.uint64), low < 0


def _float_layout(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """(u, its scale, whether it is in the layout) of each float (u and scale meaningless where not),
    and the scales some row has."""
    with np.errstate(invalid="ignore"):
        magnitude = np.abs(x)
        pending = (magnitude >= 1e-4) & (magnitude < 1e15)  # NaN and inf are neither
        # most data has at most two decimals: one pass over all rows finds those, and their trailing
        # zeros give the shortest form (x == d / 100 with d ending in 0 is also d / 10 / 10, and so on)
        d = np.rint(x * 100.0)
        ok = pending & (magnitude < 1e13) & (d / 100.0 == x)
        whole = np.abs(d).astype(np.uint64)  # (garbage where not ok: NaN, inf, too large)
    tenth = whole // np.uint64(10)
    tens = tenth * np.uint64(10) == whole  # `12.5` or `120.0`: one decimal
    zero = x == 0  # 0.0 and -0.0: u = 0, scale 1
    u = whole - (whole - tenth) * tens  # (a select by arithmetic: np.where mispredicts on such masks)
    two = ok & ~tens
    scale = two.view(np.int8) + np.int8(1)
    done = ok | zero
    pending &= ~done
    scales = ([1] if (done & ~two).any() else []) + ([2] if two.any() else [])
    del d, ok, whole, tenth, tens, two
    for k in range(MAX_DECIMALS + 1):
        if not pending.any():
            break
        power = 10.0**k
        d = np.rint(x * power)
        ok = pending & (d / power == x) & (np.abs(d) < 1e15)
        whole = np.abs(d[ok]).astype(np.uint64)
        u[ok] = whole * np.uint64(10) if k == 0 else whole  # `5.0`: one decimal, a zero
        scale[ok] = max(k, 1)
        if len(whole) and max(k, 1) not in scales:
            scales.append(max(k, 1))
        done |= ok
        pending &= ~ok
    return u, scale, done, sorted(scales)


def _text_mask(chunk: pa.Array, match: Callable[[pa.Array], np.ndarray]) -> np.ndarray:
    return match(array_text(chunk))


def number_mask(chunk: pa.Array, pattern: str, match: Callable[[pa.Array], np.ndarray]) -> np.ndarray:
    """One bool per row of `chunk` (a column of a type `applies` takes): its displayed text contains
    `pattern` (already lower-cased for a case-blind search: number text has no capitals). `match`
    searches text (an Arrow string array, NULL never matching): it is used for the floats outside the
    layout."""
    t = chunk.type
    valid = np.ones(len(chunk), dtype=bool) if not chunk.null_count else \
        chunk.is_valid().to_numpy(zero_copy_only=False)
    if pa.types.is_timestamp(t):
        return _timestamp_mask(chunk, valid, pattern, match)
    if pa.types.is_floating(t):
        x = chunk.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        u, scale, inside, scales = _float_layout(x)
        inside &= valid
        hit = np.zeros(len(chunk), dtype=bool)
        negative = np.signbit(x)
        for s in scales:
            rows = np.flatnonzero(inside & (scale == s)) if len(scales) > 1 else np.flatnonzero(inside)
            if len(rows):
                hit[rows] = layout_mask(u[rows], negative[rows], s, pattern)
        rest = np.flatnonzero(valid & ~inside)
        if len(rest):
            hit[rest] = _text_mask(chunk.take(pa.array(rest, pa.int64())), match)
        return hit
    if pa.types.is_decimal(t):
        u, negative = _decimals(chunk)
        return layout_mask(u, negative, t.scale, pattern) & valid
    u, negative = _integers(chunk)
    return layout_mask(u, negative, 0, pattern) & valid


# -- timestamps -------------------------------------------------------------------------------------
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
Template = list[tuple[str, int] | str]
_DATE_TIME: Template = [("year", 4), "-", ("month", 2), "-", ("day", 2), " ", ("hour", 2), ":", ("minute", 2), ":",
                        ("second", 2)]


def _template(fraction: int) -> list[str | tuple[str, int, int]]:
    """Each character of the text: a separator, or (field, width, digit index from the left)."""
    parts: Template = list(_DATE_TIME) + ([".", ("fraction", fraction)] if fraction else [])
    chars: list[str | tuple[str, int, int]] = []
    for part in parts:
        if isinstance(part, str):
            chars.append(part)
        else:
            chars += [(part[0], part[1], j) for j in range(part[1])]
    return chars


def _template_windows(pattern: str, fraction: int) -> list[dict[str, tuple[int, int, int]]]:
    """Each place `pattern` fits the template: per field covered, (a, b, value) as in `_window`."""
    chars = _template(fraction)
    places = []
    for start in range(len(chars) - len(pattern) + 1):
        fields: dict[str, list[tuple[int, int, str]]] = {}
        for char, slot in zip(pattern, chars[start:], strict=False):
            if isinstance(slot, str):
                if char != slot:
                    break
            elif not char.isdigit() or not char.isascii():
                break
            else:
                fields.setdefault(slot[0], []).append((slot[1], slot[2], char))
        else:
            windows = {}
            for name, covered in fields.items():
                width, last = covered[0][0], covered[-1][1]
                windows[name] = (width - 1 - last, len(covered), int("".join(c for _, _, c in covered)))
            places.append(windows)
    return places


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of days since 1970-01-01 (the proleptic Gregorian calendar, as H. Hinnant's
    `civil_from_days`)."""
    z = days + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


YEAR_RANGES = 8  # a year window matching at most this many years of the column is tested as time ranges


def _year_start(year: int) -> int:
    """Seconds since 1970 of January 1st of `year`."""
    y = year - 1
    return (365 * y + y // 4 - y // 100 + y // 400 - 719_162) * 86_400


def _year_ranges(values: np.ndarray, bounds: tuple[int, int], per_second: int, low: int, count: int,
                 value: int) -> np.ndarray | bool | None:
    """The rows whose year holds the window, as comparisons of the epoch numbers with the bounds of the
    few years of the column's range (`bounds`: its least and greatest values) that do; False when
    none does, True when all do, None when too many do (the calendar is needed)."""
    low_year = _year_of(bounds[0] // per_second)
    high_year = _year_of(bounds[1] // per_second)
    span = range(max(low_year, 1000), min(high_year, 9999) + 1)
    years = [y for y in span if (y // 10**low) % 10**count == value]
    if not years:
        return False
    if len(years) == len(span) and low_year >= 1000 and high_year <= 9999:
        return True
    if len(years) > YEAR_RANGES:
        return None
    hit = np.zeros(len(values), dtype=bool)
    top = np.iinfo(np.int64).max
    for year in years:
        start, stop = _year_start(year) * per_second, _year_start(year + 1) * per_second
        hit |= (values >= max(start, -top)) & (values < stop) if stop <= top else values >= start
    return hit


def _year_of(seconds: int) -> int:
    year = 1970 + seconds // 31_556_952  # the mean Gregorian year: off by at most one
    while _year_start(year) > seconds:
        year -= 1
    while _year_start(year + 1) <= seconds:
        year += 1
    return year


_YEAR_1000 = -30_610_224_000  # 1000-01-01 in seconds since 1970
_YEAR_10000 = 253_402_300_800  # 10000-01-01


def _timestamp_mask(chunk: pa.Array, valid: np.ndarray, pattern: str,
                    match: Callable[[pa.Array], np.ndarray]) -> np.ndarray:
    unit = chunk.type.unit
    per_second = _PER_SECOND[unit]
    values = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[chunk.offset: chunk.offset + len(chunk)]
    if unit == "ns":  # an int64 of nanoseconds is always within those years
        inside = valid
    else:
        inside = valid & (values >= _YEAR_1000 * per_second) & (values < _YEAR_10000 * per_second)
    per_day = 86_400 * per_second
    # floored: a time before 1970 has its fraction too; below 10**9, so int32 (faster arithmetic)
    fraction = (values - values // per_second * per_second).astype(np.int32)
    if unit == "ms":
        fraction = fraction * np.int32(1000)
    fields: dict[str, np.ndarray] = {}

    def field(name: str, digits: int) -> np.ndarray:
        """Computed when a pattern first needs it (the date's three together)."""
        if name == "fraction":
            if digits == 6 and unit == "ns":
                if "micros" not in fields:
                    fields["micros"] = fraction // np.int32(1000)
                return fields["micros"]
            return fraction
        if name not in fields:
            if name in ("year", "month", "day"):
                fields["year"], fields["month"], fields["day"] = _civil(np.floor_divide(values, per_day))
            else:
                seconds = (values - values // per_day * per_day) // per_second
                fields["hour"], fields["minute"], fields["second"] = seconds // 3600, seconds // 60 % 60, seconds % 60
        return fields[name]

    if unit == "ns":  # nanoseconds show 6 digits when they are whole microseconds, else 9
        whole = fraction == fraction // np.int32(1000) * np.int32(1000)
        kind = np.where(fraction == 0, 0, np.where(whole, 6, 9)).astype(np.int8)
    else:
        kind = np.where(fraction == 0, 0, 6).astype(np.int8)
    bounds = (int(values.min()), int(values.max())) if len(values) else (0, 0)
    hit = np.zeros(len(chunk), dtype=bool)
    for digits in (0, 6, 9):
        places = _template_windows(pattern, digits)
        if not places:
            continue
        rows = inside & (kind == digits)
        if not rows.any():
            continue
        for windows in places:
            here = rows
            for name, (low, count, value) in windows.items():
                years = _year_ranges(values, bounds, per_second, low, count, value) if name == "year" else None
                if isinstance(years, bool):
                    if not years:  # no year of the column's range holds the window
                        break
                    continue  # every one does
                part = field(name, digits)
                if low:
                    part = part // part.dtype.type(10**low)
                here = here & ((_mod(part, 10**count) == value) if years is None else years)
            else:
                hit |= here
    rest = np.flatnonzero(valid & ~inside)
    if len(rest):
        hit[rest] = match(array_text(chunk.take(pa.array(rest, pa.int64()))))
    return hit
