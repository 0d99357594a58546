"""mysql.writer: append | replace | upsert, atomically.

* **append / upsert** run in one transaction (autocommit off) that is rolled back on any error or
  cancel. Upsert is `INSERT … ON DUPLICATE KEY UPDATE` of every non-key column.
* **replace** loads a staging table `<table>__osiris_tui_stage_<hex>` (`CREATE TABLE … LIKE` the
  target, or from the dtype mapping) and swaps it in with one `RENAME TABLE t TO old, stage TO t`, then
  drops the old table. On error the staging table is dropped. A missing target with
  `create_if_missing: true` is created the same way (staging + rename), in every mode.

So a failure at any row leaves the target exactly as it was. A staging table outlives its writer only when
the connection is cut before it can be dropped; while a writer uses one it holds a named lock (`GET_LOCK`, which
the server releases when the connection dies), and every writer first drops the target's staging (and old-copy)
tables whose lock nobody holds.

Append and upsert rely on rolling back, so a target on an engine that cannot (MyISAM, MEMORY, Aria, …) is
refused before anything is written, unless the step says `atomic: false` (then a warning is logged).

Load methods (`load_method`): `load_data` sends CSV chunks (`batch_size` rows, at least 50,000) with
`LOAD DATA LOCAL INFILE`; `insert` sends multi-row `INSERT`s (`cursor.executemany`). `auto` (default) uses
`load_data` when the server allows it and every column converts to Arrow, else `insert`. `LOAD DATA LOCAL`
turns bad values, duplicates and NULLs in NOT NULL columns into warnings (it behaves as `IGNORE`), so
any warning fails the write and rolls it back: both methods are strict.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import os
import secrets as _random
import tempfile
import time
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from osiris_tui.drivers.base import StepCancelled, StepContext, require_input_df
from osiris_tui.drivers.mysql_common import (
    close_quietly,
    connect,
    quote_ident,
    quote_table,
    settings_from_config,
    stop_on_cancel,
    wrap_error,
)
from osiris_tui.secrets import mask_text

DEFAULT_BATCH_SIZE = 1000
PROGRESS_EVERY_BATCHES = 10
# A LOAD DATA statement has a fixed cost; inside one transaction, bigger chunks change nothing but speed.
LOAD_DATA_MIN_CHUNK = 50_000
STAGE_MARK = "__osiris_tui_stage_"
OLD_MARK = "__osiris_tui_old_"
MODES = ("append", "replace", "upsert")
# Engines that roll back a failed transaction (append and upsert need that to be atomic).
TRANSACTIONAL_ENGINES = frozenset({"innodb", "xtradb", "rocksdb", "tokudb", "ndbcluster", "ndb"})


class WriteFailed(RuntimeError):
    """A write rejected by the server (strict warnings from LOAD DATA, …)."""


def stage_lock_name(schema: str, suffix: str) -> str:
    """The named lock a writer holds while its `…__osiris_tui_stage_<suffix>` table exists (≤ 64 chars)."""
    return "osiris_tui_write_" + hashlib.sha1(f"{schema}\0{suffix}".encode()).hexdigest()[:40]


# -- dtype → MySQL type --------------------------------------------------------------------------------
def _decimal_type(values: pd.Series) -> str:
    int_digits, scale = 1, 0
    for v in values:
        if not isinstance(v, decimal.Decimal) or not v.is_finite():
            continue
        _sign, digits, exp = v.as_tuple()
        exp = int(exp)
        s = max(0, -exp)
        i = max(1, len(digits) + exp)
        int_digits, scale = max(int_digits, i), max(scale, s)
    scale = min(scale, 30)
    return f"DECIMAL({min(65, int_digits + scale)},{scale})"


def mysql_type(series: pd.Series, *, key: bool = False) -> str:
    """The column type `create_if_missing` uses for a pandas column."""
    dtype = series.dtype
    if isinstance(dtype, pd.ArrowDtype) and pa.types.is_decimal(dtype.pyarrow_dtype):
        t = dtype.pyarrow_dtype
        return f"DECIMAL({min(65, t.precision)},{min(30, t.scale)})"
    if pd.api.types.is_bool_dtype(dtype):
        return "TINYINT(1)"
    if pd.api.types.is_integer_dtype(dtype):
        return "BIGINT UNSIGNED" if str(dtype).lower() == "uint64" else "BIGINT"
    if pd.api.types.is_float_dtype(dtype):
        return "DOUBLE"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "DATETIME(6)"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "TIME(6)"
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return "VARCHAR(255)" if key else "TEXT"
    sample = series.dropna()
    first = sample.iloc[0] if len(sample) else None
    if isinstance(first, decimal.Decimal):
        return _decimal_type(sample)
    if isinstance(first, bytes | bytearray | memoryview):
        return "VARBINARY(255)" if key else "LONGBLOB"
    if isinstance(first, bool | np.bool_):
        return "TINYINT(1)"
    if isinstance(first, int | np.integer):
        return "BIGINT"
    if isinstance(first, float | np.floating):
        return "DOUBLE"
    if isinstance(first, dt.datetime):
        return "DATETIME(6)"
    if isinstance(first, dt.date):
        return "DATE"
    if isinstance(first, dt.timedelta):
        return "TIME(6)"
    return "VARCHAR(255)" if key else "TEXT"


def create_table_sql(table: str, df: pd.DataFrame, keys: list[str]) -> str:
    cols = []
    for name in df.columns:
        t = mysql_type(df[name], key=name in keys)
        cols.append(f"{quote_ident(str(name))} {t}" + (" NOT NULL" if name in keys else " NULL"))
    if keys:
        cols.append("PRIMARY KEY (" + ", ".join(quote_ident(k) for k in keys) + ")")
    return f"CREATE TABLE {quote_table(table)} (\n  " + ",\n  ".join(cols) + "\n) DEFAULT CHARSET=utf8mb4"


# -- values --------------------------------------------------------------------------------------------
def _to_arrow_column(series: pd.Series) -> pa.Array | None:
    """One column as Arrow for loading, or None when it does not convert cleanly (→ insert method)."""
    dtype = series.dtype
    try:
        if pd.api.types.is_datetime64_any_dtype(dtype):
            s = series
            if getattr(dtype, "tz", None) is not None:
                s = s.dt.tz_convert("UTC").dt.tz_localize(None)
            return pc.cast(pa.array(s, from_pandas=True), pa.timestamp("us"), safe=False)
        arr = pa.array(series, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return None
    t = arr.type
    if pa.types.is_boolean(t):
        return pc.cast(arr, pa.int8())
    if pa.types.is_timestamp(t):
        return pc.cast(arr, pa.timestamp("us"), safe=False)
    if pa.types.is_floating(t):
        # inf cannot be stored in MySQL: let the insert path report it
        if pc.any(pc.is_inf(arr)).as_py():
            return None
        return arr
    if (
        pa.types.is_integer(t)
        or pa.types.is_decimal(t)
        or pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_date(t)
        or pa.types.is_null(t)
    ):
        return arr
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return arr
    return None


def _hex(arr: pa.Array) -> pa.Array:
    """Bytes sent hex-encoded (the CSV stays text; `SET col = UNHEX(@var)` restores them)."""
    return pa.array([None if v is None else v.hex() for v in arr.to_pylist()], type=pa.string())


def _py(value: Any) -> Any:
    """A Python value PyMySQL can escape; NaN/NaT/pd.NA → None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return value.tz_convert("UTC").tz_localize(None).to_pydatetime() if value.tzinfo else value.to_pydatetime()
    if isinstance(value, pd.Timedelta):
        return value.to_pytimedelta()
    if isinstance(value, np.generic):
        value = value.item()
        if isinstance(value, float) and value != value:
            return None
        if isinstance(value, int | float | bool):
            return value
        return _py(value)
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    return value


def _column_values(series: pd.Series, start: int, stop: int) -> list[Any]:
    part = series.iloc[start:stop]
    if pd.api.types.is_datetime64_any_dtype(part.dtype) and getattr(part.dtype, "tz", None) is not None:
        part = part.dt.tz_convert("UTC").dt.tz_localize(None)
    return [_py(v) for v in part.astype(object).tolist()]


# -- the driver ----------------------------------------------------------------------------------------
class MySQLWriter:
    """mysql.writer driver."""

    def __init__(self) -> None:
        self._conn: Any = None

    def close(self) -> None:
        close_quietly(self._conn)
        self._conn = None

    def run(self, *, step_id: str, config: dict[str, Any], inputs: dict[str, Any] | None, ctx: StepContext) -> dict:
        df = require_input_df(step_id, inputs)
        settings = settings_from_config(step_id, config)
        table = config.get("table")
        if not isinstance(table, str) or not table.strip():
            raise ValueError(f"Step '{step_id}': mysql.writer needs 'table'")
        mode = _mode(step_id, config)
        keys = _keys(config)
        if mode == "upsert" and not keys:
            raise ValueError(f"Step '{step_id}': write_mode 'upsert' needs primary_key (or upsert_keys)")
        missing_keys = [k for k in keys if k not in df.columns]
        if missing_keys:
            raise ValueError(f"Step '{step_id}': key column(s) {missing_keys} are not in the input")
        if len(set(map(str, df.columns))) != len(df.columns):
            raise ValueError(f"Step '{step_id}': the input has duplicate column names")
        create = config.get("create_if_missing", config.get("create_table", False))
        create = str(create).lower() in ("1", "true", "yes") if isinstance(create, str) else bool(create)
        batch_size = int(config.get("batch_size") or DEFAULT_BATCH_SIZE)
        if batch_size <= 0:
            raise ValueError(f"Step '{step_id}': batch_size must be positive")
        method = str(config.get("load_method") or "auto").lower()
        if method not in ("auto", "load_data", "insert"):
            raise ValueError(f"Step '{step_id}': load_method must be auto, load_data or insert")
        atomic = config.get("atomic", True)
        atomic = str(atomic).lower() not in ("0", "false", "no") if isinstance(atomic, str) else bool(atomic)

        started = time.monotonic()
        ctx.check_cancelled()
        self._conn = conn = connect(step_id, settings, autocommit=False, local_infile=method != "insert")
        unhook = stop_on_cancel(conn, ctx, step_id, settings)
        try:
            ctx.log_event("write.start", table=table, mode=mode, rows=len(df), batch_size=batch_size)
            job = _Job(self, step_id, settings, conn, table, df, keys, batch_size, method, ctx)
            job.atomic = atomic
            job.write(mode, create)
        except StepCancelled:
            raise
        except (RuntimeError, ValueError) as exc:
            ctx.log_event("write.error", table=table, error=mask_text(str(exc))[:1000])
            raise
        finally:
            unhook()
            self.close()
        ctx.log_metric("rows_written", len(df))
        ctx.log_event(
            "write.complete", table=table, rows_written=len(df), duration_ms=int((time.monotonic() - started) * 1000)
        )
        return {}


def _mode(step_id: str, config: dict[str, Any]) -> str:
    mode = config.get("write_mode")
    if mode is None and str(config.get("mode") or "").lower() in MODES:
        mode = config["mode"]
    mode = str(mode or "append").lower()
    if mode == "insert":
        mode = "append"
    if mode not in MODES:
        raise ValueError(f"Step '{step_id}': write_mode must be append, replace or upsert, not {mode!r}")
    return mode


def _keys(config: dict[str, Any]) -> list[str]:
    keys = config.get("primary_key") or config.get("upsert_keys") or []
    if isinstance(keys, str):
        keys = [k.strip() for k in keys.split(",") if k.strip()]
    return [str(k) for k in keys]


class _Job:
    def __init__(self, owner, step_id, settings, conn, table, df, keys, batch_size, method, ctx) -> None:
        self.step_id, self.settings, self.conn, self.table = step_id, settings, conn, table
        self.df, self.keys, self.batch_size, self.method, self.ctx = df, keys, batch_size, method, ctx
        self.columns = [str(c) for c in df.columns]
        self.batches_done = 0
        self.rows_done = 0
        self.atomic = True
        self._arrow: dict[str, pa.Array] | None = None

    # -- orchestration -------------------------------------------------------------------------------
    def write(self, mode: str, create: bool) -> None:
        self._drop_stale()
        exists = self._exists(self.table)
        if not exists and not create:
            raise ValueError(
                f"Step '{self.step_id}': table '{self.table}' does not exist on {self.settings.where}; "
                "set create_if_missing: true to create it"
            )
        if mode == "replace" or not exists:
            self._swap_in(exists)
        else:
            self._check_engine(mode)
            self._transaction(mode)

    # -- names, locks and leftovers ----------------------------------------------------------------------
    def _split(self, table: str) -> tuple[str | None, str]:
        """(schema or None for the connection's database, bare name) of an unquoted `[schema.]name`."""
        if "." in table and "`" not in table:
            schema, name = table.split(".", 1)
            return schema, name
        return None, table

    def _lock_name(self, suffix: str) -> str:
        return stage_lock_name(self._split(self.table)[0] or self.settings.database, suffix)

    def _leftover_prefixes(self) -> list[str]:
        base = self._split(self.table)[1]
        return [f"{base[: 64 - len(mark) - 8]}{mark}" for mark in (STAGE_MARK, OLD_MARK)]

    def _drop_stale(self) -> None:
        """Drop this target's staging and old-copy tables that no live writer holds the lock of (a writer
        whose connection was cut left them)."""
        if "`" in self.table:
            return
        schema, _ = self._split(self.table)
        where = "table_schema = %s" if schema else "table_schema = DATABASE()"
        found: list[str] = []
        try:
            with self.conn.cursor() as cur:
                for prefix in self._leftover_prefixes():
                    pattern = prefix.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%"
                    cur.execute(f"SELECT table_name FROM information_schema.tables WHERE {where} "
                                "AND table_name LIKE %s", (*([schema] if schema else []), pattern))
                    for (name,) in cur.fetchall():
                        suffix = str(name)[len(prefix):]
                        if len(suffix) != 8:
                            continue
                        cur.execute("SELECT IS_USED_LOCK(%s)", (self._lock_name(suffix),))
                        row = cur.fetchone()
                        if row is None or row[0] is None:
                            full = f"{schema}.{name}" if schema else str(name)
                            cur.execute(f"DROP TABLE IF EXISTS {quote_table(full)}")
                            found.append(str(name))
            self.conn.commit()
        except Exception as exc:  # leftovers are untidy, not wrong: never fail the write over them
            self.ctx.log_event("write.warning", table=self.table,
                               message=mask_text(f"could not check for leftover staging tables: {exc}"))
            return
        if found:
            self.ctx.log_event("write.stale_dropped", table=self.table, dropped=found)

    def _check_engine(self, mode: str) -> None:
        """Refuse append/upsert into a table that cannot roll back, unless `atomic: false`."""
        schema, name = self._split(self.table)
        try:
            with self.conn.cursor() as cur:
                cur.execute("SELECT engine FROM information_schema.tables WHERE "
                            + ("table_schema = %s" if schema else "table_schema = DATABASE()")
                            + " AND table_name = %s", (*([schema] if schema else []), name))
                row = cur.fetchone()
        except Exception as exc:
            raise self._error(exc) from None
        engine = row[0] if row else None
        if engine is None or str(engine).lower() in TRANSACTIONAL_ENGINES:
            return  # a view, or an engine that rolls back
        message = (f"table {self.table} uses {engine}, which cannot roll back: a failed write would leave part "
                   f"of it; convert it to InnoDB or set atomic: false to accept that")
        if self.atomic:
            raise ValueError(f"Step '{self.step_id}': {message}")
        self.ctx.log_event("write.warning", table=self.table, mode=mode, engine=str(engine),
                           message=f"atomic: false: {mode} into {engine} table {self.table}; a failure leaves "
                                   "the rows written so far")

    def _exists(self, table: str) -> bool:
        try:
            with self.conn.cursor() as cur:
                if "." in table and "`" not in table:
                    schema, name = table.split(".", 1)
                    cur.execute(
                        "SELECT 1 FROM information_schema.tables WHERE table_schema=%s AND table_name=%s",
                        (schema, name),
                    )
                else:
                    cur.execute(
                        "SELECT 1 FROM information_schema.tables WHERE table_schema=DATABASE() AND table_name=%s",
                        (table,),
                    )
                return cur.fetchone() is not None
        except Exception as exc:
            raise self._error(exc) from None

    def _error(self, exc: BaseException) -> RuntimeError:
        if isinstance(exc, WriteFailed):
            return RuntimeError(
                mask_text(f"MySQL write failed for step '{self.step_id}' on {self.settings.where}: {exc}")
            )
        return wrap_error("write", self.step_id, self.settings, exc)

    def _transaction(self, mode: str) -> None:
        try:
            self._load(self.table, upsert=mode == "upsert")
            self.ctx.check_cancelled()
            self.conn.commit()
        except BaseException as exc:
            self._rollback()
            if isinstance(exc, StepCancelled | KeyboardInterrupt | SystemExit):
                raise
            raise self._error(exc) from None

    def _swap_in(self, target_exists: bool) -> None:
        suffix = _random.token_hex(4)
        base = self.table.split(".")[-1] if "`" not in self.table else self.table
        prefix = self.table[: len(self.table) - len(base)]
        stage = f"{prefix}{base[: 64 - len(STAGE_MARK) - 8]}{STAGE_MARK}{suffix}"
        old = f"{prefix}{base[: 64 - len(OLD_MARK) - 8]}{OLD_MARK}{suffix}"
        created = False
        lock = self._lock_name(suffix) if "`" not in self.table else None
        try:
            with self.conn.cursor() as cur:
                if lock is not None:  # held until this connection ends: the stage table is in use
                    cur.execute("SELECT GET_LOCK(%s, 0)", (lock,))
                    cur.fetchone()
                if target_exists:
                    cur.execute(f"CREATE TABLE {quote_table(stage)} LIKE {quote_table(self.table)}")
                else:
                    ddl = create_table_sql(stage, self.df, self.keys)
                    cur.execute(ddl)
                    self.ctx.log_event(
                        "table.ddl_executed",
                        table=self.table,
                        ddl=ddl.replace(quote_table(stage), quote_table(self.table)),
                    )
                created = True
            self._load(stage, upsert=False)
            self.ctx.check_cancelled()
            self.conn.commit()
            with self.conn.cursor() as cur:
                if target_exists:
                    cur.execute(
                        f"RENAME TABLE {quote_table(self.table)} TO {quote_table(old)}, "
                        f"{quote_table(stage)} TO {quote_table(self.table)}"
                    )
                else:
                    cur.execute(f"RENAME TABLE {quote_table(stage)} TO {quote_table(self.table)}")
            created = False
        except BaseException as exc:
            self._rollback()
            if created:
                self._drop(stage)
            if isinstance(exc, StepCancelled | KeyboardInterrupt | SystemExit):
                raise
            raise self._error(exc) from None
        if target_exists:
            try:
                with self.conn.cursor() as cur:
                    cur.execute(f"DROP TABLE {quote_table(old)}")
            except Exception as exc:  # the new data is in place; only the old copy is left over
                self.ctx.log_event("write.warning", table=self.table, message=mask_text(f"could not drop {old}: {exc}"))
        self._release(lock)

    def _release(self, lock: str | None) -> None:
        if lock is None:
            return
        try:
            with self.conn.cursor() as cur:
                cur.execute("SELECT RELEASE_LOCK(%s)", (lock,))
                cur.fetchone()
        except Exception:  # the connection ends soon, and the lock with it
            pass

    def _rollback(self) -> None:
        try:
            self.conn.rollback()
        except Exception:
            pass

    def _drop(self, table: str) -> None:
        """Drop a staging table; through a fresh connection when this one is broken (a cancel, a cut)."""
        sql = f"DROP TABLE IF EXISTS {quote_table(table)}"
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql)
            return
        except Exception:
            pass
        try:
            fresh = connect(self.step_id, self.settings)
            try:
                with fresh.cursor() as cur:
                    cur.execute(sql)
            finally:
                close_quietly(fresh)
        except Exception as exc:
            self.ctx.log_event("write.warning", table=self.table,
                               message=mask_text(f"could not drop the staging table {table}: {exc}"))

    # -- loading ---------------------------------------------------------------------------------------
    def _arrow_columns(self) -> dict[str, pa.Array] | None:
        if self._arrow is None:
            out = {}
            for name in self.df.columns:
                arr = _to_arrow_column(self.df[name])
                if arr is None:
                    return None
                out[str(name)] = arr
            self._arrow = out
        return self._arrow

    def _use_load_data(self) -> bool:
        if self.method == "insert":
            return False
        if self.method == "auto":
            if self._arrow_columns() is None:
                return False
            with self.conn.cursor() as cur:
                cur.execute("SELECT @@local_infile")
                row = cur.fetchone()
            return bool(row and int(row[0]))
        if self._arrow_columns() is None:
            raise ValueError(
                f"Step '{self.step_id}': some columns cannot be sent with load_data; use load_method: insert"
            )
        return True

    def _load(self, table: str, *, upsert: bool) -> None:
        """Write every row into `table` inside the open transaction (no commit)."""
        if self._use_load_data():
            if upsert:
                self._upsert_via_stage(table)
            else:
                self._load_data(table)
        else:
            self._insert(table, upsert=upsert)

    def _batches(self, size: int | None = None):
        n = len(self.df)
        size = size or self.batch_size
        for start in range(0, n, size):
            self.ctx.check_cancelled()
            stop = min(n, start + size)
            yield start, stop
            self.batches_done += 1
            self.rows_done = stop
            if self.batches_done % PROGRESS_EVERY_BATCHES == 0 or stop == n:
                self.ctx.log_event("write.progress", table=self.table, rows=stop, total=n, batches=self.batches_done)

    def _insert(self, table: str, *, upsert: bool) -> None:
        cols = ", ".join(quote_ident(c) for c in self.columns)
        marks = "(" + ", ".join(["%s"] * len(self.columns)) + ")"
        sql = f"INSERT INTO {quote_table(table)} ({cols}) VALUES {marks}"
        if upsert:
            sql += self._on_duplicate()
        series = [self.df.iloc[:, i] for i in range(len(self.columns))]
        with self.conn.cursor() as cur:
            for start, stop in self._batches():
                values = [_column_values(s, start, stop) for s in series]
                cur.executemany(sql, list(zip(*values, strict=True)) if values else [])
                self._check_warnings(cur)

    def _on_duplicate(self) -> str:
        updates = [c for c in self.columns if c not in self.keys] or self.keys[:1]
        return " ON DUPLICATE KEY UPDATE " + ", ".join(f"{quote_ident(c)} = VALUES({quote_ident(c)})" for c in updates)

    def _load_data(self, table: str) -> None:
        arrays = dict(self._arrow_columns() or {})
        targets, sets = [], []
        for i, (name, arr) in enumerate(list(arrays.items())):
            if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type):
                arrays[name] = _hex(arr)
                var = f"@_b{i}"
                targets.append(var)
                sets.append(f"{quote_ident(name)} = UNHEX({var})")
            else:
                targets.append(quote_ident(name))
        fd, path = tempfile.mkstemp(prefix="osiris_tui_load_", suffix=".csv")
        os.close(fd)
        sql = (
            f"LOAD DATA LOCAL INFILE %s INTO TABLE {quote_table(table)} CHARACTER SET utf8mb4 "
            "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' "
            "LINES TERMINATED BY '\\n' (" + ", ".join(targets) + ")" + (" SET " + ", ".join(sets) if sets else "")
        )
        options = pacsv.WriteOptions(include_header=False, null_string="NULL", quoting_style="all_valid")
        names = list(arrays)
        try:
            with self.conn.cursor() as cur:
                for start, stop in self._batches(max(self.batch_size, LOAD_DATA_MIN_CHUNK)):
                    chunk = pa.table([a.slice(start, stop - start) for a in arrays.values()], names=names)
                    pacsv.write_csv(chunk, path, write_options=options)
                    affected = cur.execute(sql, (path,))
                    self._check_warnings(cur)
                    if affected != stop - start:
                        raise WriteFailed(
                            f"LOAD DATA stored {affected} of {stop - start} rows (rows {start + 1}-{stop})"
                        )
        finally:
            try:
                os.unlink(path)
            except OSError:
                pass

    def _upsert_via_stage(self, table: str) -> None:
        """LOAD DATA into a temporary copy, then one INSERT … SELECT … ON DUPLICATE KEY UPDATE."""
        temp = f"_osiris_tui_upsert_{_random.token_hex(4)}"
        cols = ", ".join(quote_ident(c) for c in self.columns)
        with self.conn.cursor() as cur:
            # CREATE TEMPORARY TABLE does not commit the open transaction.
            cur.execute(f"CREATE TEMPORARY TABLE {quote_ident(temp)} LIKE {quote_table(table)}")
            try:
                self._load_data(temp)
                cur.execute(
                    f"INSERT INTO {quote_table(table)} ({cols}) SELECT {cols} FROM {quote_ident(temp)}"
                    + self._on_duplicate()
                )
                self._check_warnings(cur)
            finally:
                try:
                    cur.execute(f"DROP TEMPORARY TABLE IF EXISTS {quote_ident(temp)}")
                except Exception:
                    pass

    def _check_warnings(self, cur: Any) -> None:
        result = getattr(cur, "_result", None)
        if not result or not getattr(result, "warning_count", 0):
            return
        cur.execute("SHOW WARNINGS LIMIT 5")
        found = [f"{level} {code}: {msg}" for level, code, msg in cur.fetchall()]
        where = f" (rows {self.rows_done + 1}-{min(len(self.df), self.rows_done + self.batch_size)})"
        raise WriteFailed(f"the server reported {result.warning_count} warning(s){where}: " + "; ".join(found))


__all__ = ["MySQLWriter", "create_table_sql", "mysql_type", "stage_lock_name"]
