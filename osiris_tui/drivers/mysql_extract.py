"""mysql.extractor: `query`, or `table` + `columns` + `limit`.

Two engines, both producing an Arrow table that one function turns into the DataFrame (so the dtypes do
not depend on the engine):

* **connectorx** (default, ~10x faster than PyMySQL). connectorx returns DECIMAL as decimal128(38,10)
  and *panics* on precisions beyond rust_decimal's 28 digits, so the columns are first described
  through PyMySQL (`LIMIT 0`): decimals that do not fit are read as `CAST(… AS CHAR)` in table mode,
  or the whole read uses PyMySQL in query mode. The PyMySQL probe also gives fast, clear connection
  errors (connectorx's pool waits ~30 s and logs to stderr before failing).
* **PyMySQL** (`engine: pymysql`, or when connectorx is missing or fails for a reason other than an
  SQL/login error): an unbuffered server-side cursor read `batch_size` rows at a time, each chunk turned
  into Arrow columns before the next one is fetched.

Resulting dtypes: integers → nullable `Int64` (`UInt64` for BIGINT UNSIGNED); DECIMAL → `object` column
of exact `decimal.Decimal`; FLOAT/DOUBLE → float64; DATE/DATETIME/TIMESTAMP → datetime64[us];
TIME → timedelta64[us]; text → strings; BLOB/BINARY/BIT → bytes. NULL stays missing.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from osiris_tui.drivers.base import StepCancelled, StepContext
from osiris_tui.drivers.mysql_common import (
    close_quietly,
    connect,
    is_sql_error,
    quote_ident,
    quote_table,
    settings_from_config,
    stop_on_cancel,
    wrap_error,
)
from osiris_tui.secrets import mask_exception

DEFAULT_BATCH_SIZE = 10_000
PROGRESS_EVERY_SECONDS = 1.0

# connectorx reads DECIMAL through rust_decimal (28 significant digits) into decimal128(38, 10).
_CX_MAX_PRECISION = 28
_CX_MAX_SCALE = 10

# MySQL protocol field types.
_DECIMAL = {0, 246}
_INTS = {1, 2, 3, 8, 9, 13}
_FLOATS = {4, 5}
_NULL = 6
_DATETIMES = {7, 12}
_DATES = {10, 14}
_TIME = 11
_BIT = 16
_GEOMETRY = 255
_BINARY_CHARSET = 63
_UNSIGNED_FLAG = 32


@dataclass(frozen=True)
class Column:
    name: str
    type_code: int
    length: int
    scale: int
    unsigned: bool
    binary: bool

    @property
    def is_decimal(self) -> bool:
        return self.type_code in _DECIMAL

    @property
    def precision(self) -> int:
        """An upper bound of DECIMAL(p, s)'s p (the wire length counts sign and point)."""
        return max(1, min(65, self.length - (1 if self.scale else 0)))

    @property
    def cx_safe(self) -> bool:
        return not self.is_decimal or (self.precision <= _CX_MAX_PRECISION and self.scale <= _CX_MAX_SCALE)

    def arrow_type(self) -> pa.DataType:
        t = self.type_code
        if t in _DECIMAL:
            return decimal_type(self.precision, self.scale)
        if t in _INTS:
            return pa.uint64() if (self.unsigned and t == 8) else pa.int64()
        if t in _FLOATS:
            return pa.float64()
        if t == _NULL:
            return pa.null()
        if t in _DATETIMES:
            return pa.timestamp("us")
        if t in _DATES:
            return pa.date32()
        if t == _TIME:
            return pa.duration("us")
        if t in (_BIT, _GEOMETRY) or self.binary:
            return pa.large_binary()
        return pa.large_string()


def decimal_type(precision: int, scale: int) -> pa.DataType:
    precision = max(precision, scale, 1)
    return pa.decimal128(precision, scale) if precision <= 38 else pa.decimal256(precision, scale)


def _columns_of(cursor: Any) -> list[Column]:
    fields = cursor._result.fields if cursor._result is not None else []
    cols = []
    for i, d in enumerate(cursor.description or ()):
        f = fields[i] if i < len(fields) else None
        cols.append(
            Column(
                name=d[0],
                type_code=d[1],
                length=int(d[3] or 0),
                scale=int(d[5] or 0),
                unsigned=bool(f is not None and f.flags & _UNSIGNED_FLAG),
                binary=bool(f is not None and f.charsetnr == _BINARY_CHARSET),
            )
        )
    return cols


# -- DataFrame conversion (shared by both engines) ---------------------------------------------------
def _normalise(array: pa.ChunkedArray, col: Column | None) -> pa.ChunkedArray:
    t = array.type
    if col is not None and col.is_decimal:
        target = col.arrow_type()
        if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_decimal(t):
            return pc.cast(array, target)  # exact; raises rather than round
        return array
    if pa.types.is_integer(t):
        return pc.cast(array, pa.uint64() if t == pa.uint64() else pa.int64())
    if pa.types.is_floating(t):
        return pc.cast(array, pa.float64())
    if pa.types.is_date(t) or (pa.types.is_timestamp(t) and t.unit != "us"):
        return pc.cast(array, pa.timestamp("us", tz=getattr(t, "tz", None)))
    if pa.types.is_time(t):
        micros = pc.cast(pc.cast(array, pa.time64("us")), pa.int64())
        return pc.cast(micros, pa.duration("us"))
    if pa.types.is_binary(t) or pa.types.is_fixed_size_binary(t):
        return pc.cast(array, pa.large_binary())
    return array


_TYPES_MAPPER = {pa.int64(): pd.Int64Dtype(), pa.uint64(): pd.UInt64Dtype()}.get


def arrow_to_frame(table: pa.Table, columns: list[Column] | None) -> pd.DataFrame:
    by_name = {c.name: c for c in columns or ()}
    arrays = [_normalise(table.column(i), by_name.get(name)) for i, name in enumerate(table.column_names)]
    table = pa.Table.from_arrays(arrays, names=table.column_names)
    # Decimal, bytes and null columns come back as objects with None for NULL.
    return table.to_pandas(types_mapper=_TYPES_MAPPER, date_as_object=False, self_destruct=True)


# -- the driver ----------------------------------------------------------------------------------------
class MySQLExtractor:
    """mysql.extractor driver."""

    def __init__(self) -> None:
        self._conn: Any = None

    def close(self) -> None:
        close_quietly(self._conn)
        self._conn = None

    def run(self, *, step_id: str, config: dict[str, Any], inputs: dict[str, Any] | None, ctx: StepContext) -> dict:
        settings = settings_from_config(step_id, config)
        engine = str(config.get("engine") or "auto").lower()
        if engine not in ("auto", "connectorx", "pymysql"):
            raise ValueError(f"Step '{step_id}': engine must be auto, connectorx or pymysql, not {engine!r}")
        batch_size = int(config.get("batch_size") or DEFAULT_BATCH_SIZE)
        if batch_size <= 0:
            raise ValueError(f"Step '{step_id}': batch_size must be positive")
        table_spec = _table_spec(step_id, config)
        query = table_spec[0] if table_spec else _query(step_id, config)

        ctx.check_cancelled()
        self._conn = conn = connect(step_id, settings)
        unhook = stop_on_cancel(conn, ctx, step_id, settings)
        try:
            table, columns = self._read(step_id, settings, conn, query, table_spec, engine, batch_size, ctx)
        finally:
            unhook()
            self.close()
        df = arrow_to_frame(table, columns)
        ctx.log_metric("rows_read", len(df))
        return {"df": df}

    # ---------------------------------------------------------------------------------------------------
    def _read(self, step_id, settings, conn, query, table_spec, engine, batch_size, ctx):
        cx = _connectorx() if engine != "pymysql" else None
        if engine == "connectorx" and cx is None:
            raise RuntimeError(f"Step '{step_id}': engine 'connectorx' requested but connectorx is not installed")
        if settings.ssl and engine == "auto":
            cx = None  # connectorx's URL cannot carry every PyMySQL ssl option
        if cx is not None:
            columns = self._describe(step_id, settings, conn, query, table_spec)
            cx_query = query
            if columns is not None and table_spec is not None:
                cx_query = _table_query(table_spec[1], table_spec[2], table_spec[3], columns)
            elif columns is not None and not all(c.cx_safe for c in columns):
                columns = None  # query mode with wide decimals: connectorx would round or panic
            if columns is not None:
                try:
                    table = cx.read_sql(settings.connectorx_url(), cx_query, return_type="arrow")
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as exc:  # pyo3 PanicException derives from BaseException
                    if is_sql_error(exc) or engine == "connectorx":
                        raise wrap_error("query", step_id, settings, exc) from None
                    ctx.log_event("extract.fallback", engine="pymysql", reason=mask_exception(exc)[:500])
                else:
                    ctx.check_cancelled()
                    return table, columns
        return self._read_pymysql(step_id, settings, conn, query, batch_size, ctx)

    def _describe(self, step_id, settings, conn, query, table_spec) -> list[Column] | None:
        """Column types through a `LIMIT 0` probe; None when the query cannot be wrapped (use PyMySQL)."""
        if table_spec is not None:
            _, table, cols, _ = table_spec
            select = ", ".join(quote_ident(c) for c in cols) if cols else "*"
            probe = f"SELECT {select} FROM {quote_table(table)} LIMIT 0"
        else:
            probe = f"SELECT * FROM ({query}) AS `_osiris_tui_probe` LIMIT 0"
        try:
            with conn.cursor() as cur:
                cur.execute(probe)
                columns = _columns_of(cur)
        except Exception as exc:
            if table_spec is not None:
                raise wrap_error("query", step_id, settings, exc) from None
            return None  # not a plain SELECT (or a real error, which the PyMySQL read reports as such)
        if len({c.name for c in columns}) != len(columns):
            return None  # duplicate column names: keep PyMySQL's behaviour
        return columns

    def _read_pymysql(self, step_id, settings, conn, query, batch_size, ctx):
        import pymysql.cursors

        batches: list[pa.RecordBatch] = []
        rows = 0
        last_progress = time.monotonic()
        try:
            cur = conn.cursor(pymysql.cursors.SSCursor)
            cur.execute(query)
            columns = _columns_of(cur)
            if not columns:
                return pa.table({}), columns
            names = [c.name for c in columns]
            types = [c.arrow_type() for c in columns]
            while True:
                ctx.check_cancelled()
                chunk = cur.fetchmany(batch_size)
                if not chunk:
                    break
                arrays = [pa.array(values, type=t) for values, t in zip(zip(*chunk, strict=True), types, strict=True)]
                n = len(chunk)
                del chunk
                batches.append(pa.RecordBatch.from_arrays(arrays, names=_unique(names)))
                rows += n
                now = time.monotonic()
                if now - last_progress >= PROGRESS_EVERY_SECONDS:
                    ctx.log_event("extract.progress", rows=rows)
                    last_progress = now
        except StepCancelled:
            raise
        except Exception as exc:
            raise wrap_error("query", step_id, settings, exc) from None
        schema = pa.schema([pa.field(n, t) for n, t in zip(_unique(names), types, strict=True)])
        table = pa.Table.from_batches(batches, schema=schema)
        if _unique(names) != names:
            table = table.rename_columns(names)
        return table, columns


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        k = seen.get(n, 0)
        seen[n] = k + 1
        out.append(n if k == 0 else f"{n}.{k}")
    return out


def _connectorx() -> Any:
    try:
        import connectorx

        return connectorx
    except Exception:
        return None


def _query(step_id: str, config: dict[str, Any]) -> str:
    query = config.get("query")
    if not isinstance(query, str) or not query.strip():
        raise ValueError(f"Step '{step_id}': mysql.extractor needs 'query' or 'table'")
    return re.sub(r"[\s;]+\Z", "", query.strip())


def _table_spec(step_id: str, config: dict[str, Any]) -> tuple[str, str, list[str], int | None] | None:
    """(query, table, columns, limit) when the step reads a table; None when it has a `query`."""
    if config.get("query"):
        return None
    table = config.get("table")
    if not table:
        return None
    cols = config.get("columns") or []
    if isinstance(cols, str):
        cols = [c.strip() for c in cols.split(",") if c.strip()]
    if cols == ["*"]:
        cols = []
    limit = config.get("limit")
    if limit is not None:
        limit = int(limit)
        if limit < 0:
            raise ValueError(f"Step '{step_id}': limit must be >= 0")
    select = ", ".join(quote_ident(c) for c in cols) if cols else "*"
    query = f"SELECT {select} FROM {quote_table(str(table))}" + (f" LIMIT {limit}" if limit is not None else "")
    return query, str(table), list(cols), limit


def _table_query(table: str, cols: list[str], limit: int | None, columns: list[Column]) -> str:
    """The connectorx query for a table read: wide decimals come back as exact text."""
    parts = []
    for c in columns:
        q = quote_ident(c.name)
        parts.append(f"CAST({q} AS CHAR) AS {q}" if not c.cx_safe else q)
    return f"SELECT {', '.join(parts)} FROM {quote_table(table)}" + (f" LIMIT {limit}" if limit is not None else "")


__all__ = ["MySQLExtractor", "arrow_to_frame"]
