"""Frames in and out: the one pandas -> Arrow conversion (`to_arrow`), and writing a view to a file.

Data flows pandas -> Arrow once per frame (the cache calls `to_arrow` for each step's output), and
from then on only as Arrow: views, search, filters and export read the table, never the DataFrame.

Files are written exactly and atomically: to a temporary file next to the target, renamed over it
when complete, removed when anything fails (the target is never left half written).

- Parquet: the Arrow schema as is (Decimals stay decimal128, a timestamp keeps its unit and zone).
- CSV: a header, then each value as the table shows it (`frames.text`: a float as its repr, a Decimal
  with its digits, a timestamp with every digit it holds); strings quoted (`""` is an empty string), a
  NULL empty.
- JSON Lines: one object per row, as the row view's JSON copy (`format.json_value`: Decimals as
  strings, timestamps ISO 8601 with every digit, NULL as null).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from osiris_tui.frames import format as vf
from osiris_tui.frames.text import array_text
from osiris_tui.frames.view import FrameView

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
BATCH_ROWS = 65_536


# -- pandas -> Arrow ----------------------------------------------------------------------------------
def unique_names(names: list[str]) -> list[str]:
    """Column names made unique: a repeated `a` becomes `a_1`, `a_2` (skipping names already taken)."""
    taken = set(names)
    seen: set[str] = set()
    out = []
    for name in names:
        if name in seen:
            n = 1
            while f"{name}_{n}" in taken:
                n += 1
            name = f"{name}_{n}"
            taken.add(name)
        seen.add(name)
        out.append(name)
    return out


def _series_to_arrow(series: pd.Series) -> pa.ChunkedArray | pa.Array:
    try:
        return pa.chunked_array(pa.Table.from_pandas(series.to_frame("x"), preserve_index=False).column(0))
    except (pa.ArrowException, ValueError, TypeError, OverflowError):
        # mixed object values (a Decimal next to a float, ints next to strings): their text
        return pa.array([None if vf.is_null(v) else v if isinstance(v, str) else vf.plain(v) for v in series],
                        pa.string())


def to_arrow(df: pd.DataFrame) -> pa.Table:
    """`df` as an Arrow table, once: a non-default index becomes columns, column names become unique
    strings, an object column of Decimals becomes decimal128, one of mixed values becomes text, and
    columns pandas already holds as Arrow (the `str` dtype, `ArrowDtype`) are taken without a copy.
    Timestamps stay timestamps (a view may show all-midnight ones as dates)."""
    if not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index()
    names = [str(c) for c in df.columns]
    if len(set(names)) == len(names) and all(isinstance(c, str) for c in df.columns):
        try:
            return pa.Table.from_pandas(df, preserve_index=False)
        except (pa.ArrowException, ValueError, TypeError, OverflowError):
            pass
    names = unique_names(names)
    columns = [_series_to_arrow(df.iloc[:, i]) for i in range(df.shape[1])]
    return pa.table(dict(zip(names, columns, strict=True)))


# -- writing files ------------------------------------------------------------------------------------
@contextmanager
def atomic(path: Path) -> Iterator[Path]:
    """A temporary path next to `path`, moved over it when the block completes, removed if it fails."""
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_parquet(table: pa.Table, path: Path) -> None:
    """`table` to Parquet at `path`, atomically; schema and values exact (decimal128, timestamp units
    and zones kept; seconds, a unit Parquet has not, are stored as milliseconds)."""
    with atomic(Path(path)) as tmp:
        pq.write_table(table, tmp, version="2.6", coerce_timestamps=None, allow_truncated_timestamps=False,
                       store_schema=True)


def _csv_cell(column: pa.Array) -> pa.Array:
    """Each value's CSV field: its display text, strings quoted, NULL empty."""
    t = column.type
    if pa.types.is_dictionary(t):
        t = t.value_type
    text = array_text(column).cast(pa.large_string())  # one string type for the joins below
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t) or not _plain_kind(t):
        quote = pa.scalar('"', pa.large_string())
        text = pc.binary_join_element_wise(quote, pc.replace_substring(text, '"', '""'), quote,
                                           pa.scalar("", pa.large_string()))
    return text.fill_null("")


def _plain_kind(t: pa.DataType) -> bool:
    """Types whose text never needs quoting (no commas, quotes or line breaks)."""
    return (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t) or pa.types.is_date(t)
            or pa.types.is_timestamp(t) or pa.types.is_boolean(t))


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _write_csv(table: pa.Table, out: IO[bytes]) -> None:
    out.write((",".join(_quoted(n) for n in table.column_names) + "\n").encode())
    for batch in table.to_batches(BATCH_ROWS):
        if batch.num_rows == 0:
            continue
        cells = [_csv_cell(batch.column(i)) for i in range(batch.num_columns)]
        if not cells:
            out.write(b"\n" * batch.num_rows)
            continue
        lines = pc.binary_join_element_wise(*cells, pa.scalar(",", pa.large_string()))
        lines = pc.binary_join_element_wise(lines, pa.scalar("", pa.large_string()),
                                            pa.scalar("\n", pa.large_string()))
        out.write(_string_bytes(lines))


def _string_bytes(lines: pa.Array) -> bytes:
    """The concatenated bytes of a null-free (large) string array."""
    offsets = lines.buffers()[1]
    data = lines.buffers()[2]
    bounds = np.frombuffer(offsets, dtype=np.int64)[lines.offset: lines.offset + len(lines) + 1]
    return data.to_pybytes()[int(bounds[0]): int(bounds[-1])] if data is not None else b""


def _write_jsonl(table: pa.Table, out: IO[bytes]) -> None:
    names = [str(n) for n in table.column_names]
    for batch in table.to_batches(BATCH_ROWS):
        columns = [vf.values(batch.column(i)) for i in range(batch.num_columns)]
        lines = []
        for row in zip(*columns, strict=True):
            record = {n: vf.json_value(v) for n, v in zip(names, row, strict=True)}
            lines.append(json.dumps(record, ensure_ascii=False))
        if lines:
            out.write(("\n".join(lines) + "\n").encode())


def format_for(path: Path, fmt: str | None = None) -> str:
    if fmt is not None:
        kind = FORMATS.get("." + fmt.lower().lstrip("."), fmt.lower())
        if kind not in ("csv", "parquet", "jsonl"):
            raise ValueError(f"unknown export format {fmt!r}: csv, parquet or jsonl")
        return kind
    found = FORMATS.get(Path(path).suffix.lower())
    if found is None:
        raise ValueError(f"cannot tell the format from {Path(path).name!r}: end it in .csv, .parquet or .jsonl")
    return found


def export(view: FrameView, path: Path, fmt: str | None = None) -> int:
    """The view (filtered and sorted, as shown) to `path`, as CSV, Parquet or JSON Lines (from `fmt`, or
    the suffix); atomic. Returns the number of rows written."""
    path = Path(path)
    kind = format_for(path, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = view.materialize()
    if kind == "parquet":
        write_parquet(table, path)
        return table.num_rows
    writer: Callable[[pa.Table, IO[bytes]], None] = _write_csv if kind == "csv" else _write_jsonl
    with atomic(path) as tmp, open(tmp, "wb") as out:
        writer(table, out)
    return table.num_rows
