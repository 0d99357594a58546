"""A DataFrame to Parquet and back, exactly: the frame read back equals the one written, dtypes included.

pyarrow with the pandas metadata restores Int64/boolean/string/category dtypes, Decimals (decimal128),
timestamps with their unit and zone, durations, bytes and the index. Two things it does not restore
are fixed here or refused: an `object` column of strings comes back as `str` (turned back into an
object column with `None` kept), and an `object` column mixing kinds of value (ints and floats, a
list) would come back changed, so such a frame is refused (`NotExact`) rather than stored.

Files are written atomically (a temporary file renamed over the target) in row groups, so a write can
be stopped between two of them (`stop`), leaving no file behind. LZ4 compression, dictionaries for
text only: writing and reading a 2M-row numeric frame each take well under a second.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP = 131_072
# What an `object` column may hold to come back exactly (pandas.api.types.infer_dtype names).
_EXACT_OBJECT_KINDS = frozenset({"string", "bytes", "decimal", "date", "empty", "boolean", "integer",
                                 "floating", "time"})


class NotExact(ValueError):
    """The frame cannot be stored so that it reads back equal (the message says which column)."""


class WriteStopped(Exception):
    """`stop()` turned true during the write; nothing was left on disk."""


def frame_to_table(df: pd.DataFrame) -> pa.Table:
    """`df` as Arrow with the pandas metadata (index included), or `NotExact`."""
    if not df.columns.is_unique:
        raise NotExact("its column names repeat")
    for name in df.columns:
        column = df[name]
        if column.dtype == object:
            kind = pd.api.types.infer_dtype(column, skipna=True)
            if kind not in _EXACT_OBJECT_KINDS:
                raise NotExact(f"column {name!r} holds {kind} values")
    try:
        table = pa.Table.from_pandas(df, preserve_index=None)
    except (pa.ArrowException, ValueError, TypeError, OverflowError) as exc:
        raise NotExact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    probe = _through_parquet(table.slice(0, 16))  # dtypes are per column: a few rows tell
    if list(probe.columns) != list(df.columns) or list(probe.dtypes) != list(df.dtypes):
        raise NotExact("its columns would come back with other names or types")
    if type(probe.index) is not type(df.index) or probe.index.dtype != df.index.dtype \
            or probe.index.names != df.index.names:
        raise NotExact("its index would come back as another kind")
    return table


def _through_parquet(table: pa.Table) -> pd.DataFrame:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, version="2.6", store_schema=True)
    return table_to_frame(pq.read_table(pa.BufferReader(sink.getvalue())))


def table_to_frame(table: pa.Table) -> pd.DataFrame:
    """The DataFrame a `frame_to_table` table was made from."""
    df = table.to_pandas()
    meta = table.schema.pandas_metadata or {}
    for column in meta.get("columns", []):
        name, field = column.get("name"), column.get("field_name")
        if column.get("numpy_type") == "object" and field in table.column_names and name in df.columns \
                and df[name].dtype != object:
            values = table.column(field).to_numpy(zero_copy_only=False)
            df[name] = pd.Series(values, index=df.index, dtype=object, name=name)
    return df


def write_table(table: pa.Table, path: Path, stop: Callable[[], bool] = lambda: False) -> int:
    """Write `table` to `path` atomically, a row group at a time; returns the file's size."""
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        with pq.ParquetWriter(tmp, table.schema, version="2.6", store_schema=True, compression="lz4",
                              use_dictionary=_dictionary_columns(table.schema)) as writer:
            for start in range(0, max(table.num_rows, 1), ROW_GROUP):
                if stop():
                    raise WriteStopped
                writer.write_table(table.slice(start, ROW_GROUP), row_group_size=ROW_GROUP)
        size = tmp.stat().st_size
        os.replace(tmp, path)
        return size
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _dictionary_columns(schema: pa.Schema) -> list[str]:
    """Text columns are dictionary-encoded (small files for repeated values); numbers are not: for them it
    costs several times the rest of the write and saves little."""
    kinds = (pa.types.is_string, pa.types.is_large_string, pa.types.is_binary, pa.types.is_large_binary,
             pa.types.is_dictionary)
    return [f.name for f in schema if any(kind(f.type) for kind in kinds)]


def read_table(path: Path) -> pa.Table:
    """The table in a Parquet file, memory-mapped."""
    return pq.read_table(path, memory_map=True)


def read_frame(path: Path) -> pd.DataFrame:
    return table_to_frame(read_table(path))


def write_frame(df: pd.DataFrame, path: Path, stop: Callable[[], bool] = lambda: False) -> int:
    """`df` to Parquet exactly (or `NotExact`); returns the file's size."""
    return write_table(frame_to_table(df), path, stop)
