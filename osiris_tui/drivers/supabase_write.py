"""supabase.writer: writes the input DataFrame to a table through PostgREST (supabase-py).

Osiris-compatible behaviour (compat §6): input = the first ``df_*``/``df`` frame; ``write_mode``/``mode``
``append``/``insert`` (``insert`` in batches), ``upsert`` (``on_conflict`` = ``primary_key``), ``replace``
(upsert, then delete the rows whose key is not in the input; an empty input deletes every row);
``primary_key`` (string or list) required for upsert and replace; ``batch_size`` (500), ``retries`` (3)
with exponential backoff and jitter on transient errors (HTTP 5xx, connection errors; never on 4xx);
a table check (``select * limit 0``); ``create_if_missing`` generates ``CREATE TABLE IF NOT EXISTS``,
saves it to ``<artifacts>/<step>/ddl_plan.sql``, runs it on the SQL channel and sends
``NOTIFY pgrst, 'reload schema'``. Events ``write.start``/``write.progress``/``write.complete``,
``table.ddl_planned``/``table.ddl_executed``; metric ``rows_written``. Returns ``{}``.

Where this does better than Osiris:

* **A needed SQL channel that is missing fails before any row is written** (replace's delete, the DDL of
  ``create_if_missing``, ``atomic``); Osiris writes the DDL plan and silently returns ``{}``.
* ``replace``'s delete is a single statement in one transaction on the SQL channel (psycopg):
  ``DELETE … WHERE NOT EXISTS (SELECT 1 FROM json_populate_recordset(NULL::table, $keys) k WHERE k.pk = t.pk …)``.
  It runs only after every upsert batch succeeded, so a failed write never deletes rows.
* Duplicate primary keys in the input are rejected before writing (PostgreSQL would fail the batch with
  "ON CONFLICT DO UPDATE command cannot affect row a second time").
* Errors name the step, the table and the URL host; keys and passwords are masked everywhere.

Atomicity. Over REST each batch is its own transaction: **a failure in batch *k* leaves batches 1…k-1
written** (append/upsert/replace alike; replace then skips its delete). The error says how many rows were
already written and a ``write.failed`` event records it. With ``atomic: true`` (requires a SQL channel) the
whole write — every batch plus replace's delete — runs in **one PostgreSQL transaction** over psycopg with
the same row coercion PostgREST uses (``json_populate_recordset``), so a failure leaves the table
unchanged; ``channel_used`` is then ``"sql"``. Retrying an append batch after a lost reply can duplicate
rows (REST has no idempotency key); upserts are idempotent.

Serialisation of cells (to JSON for PostgREST): NaN/NaT/None/pd.NA → ``null``; ``Timestamp``/``datetime``/
``date``/``time`` → ISO 8601 (offsets kept for aware values); ``Timedelta`` → ISO 8601 duration; numpy
scalars → Python; ±inf → ``"Infinity"``/``"-Infinity"`` (PostgreSQL's spelling, valid for float columns);
``Decimal`` → **string** (exact; PostgreSQL casts it to ``numeric``); ``bytes`` → ``"\\x<hex>"``
(PostgreSQL's ``bytea`` hex input, as postgrest-py encodes bytes); ``UUID`` → string; dict/list → JSON;
numpy arrays → lists; anything else → ``str()``.

DDL type mapping (``create_if_missing``): bool → BOOLEAN, integer → BIGINT (Osiris: INTEGER, which overflows
for pandas' 64-bit ints), float → DOUBLE PRECISION, tz-aware datetime → TIMESTAMPTZ, naive datetime →
TIMESTAMP, timedelta → INTERVAL; object columns by their values: all ``Decimal`` → NUMERIC, all ``date`` →
DATE, all ``bytes`` → BYTEA, all dict/list → JSONB; everything else → TEXT; plus ``PRIMARY KEY (…)``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
from postgrest import APIError

from osiris_tui.drivers.base import RunnerContext, require_input_df
from osiris_tui.drivers.supabase_client import (
    DEFAULT_RETRIES,
    DEFAULT_RETRY_BASE_SLEEP,
    DEFAULT_TIMEOUT,
    RestSession,
    SupabaseConnection,
    check_cancelled,
    config_float,
    config_int,
    describe_error,
    log_event,
    resolve_connection,
    split_names,
)
from osiris_tui.secrets import mask_text

COMPONENT = "supabase.writer"
DEFAULT_BATCH_SIZE = 500
MODES = {"append": "append", "insert": "append", "upsert": "upsert", "replace": "replace"}
SCHEMA_RELOAD_TIMEOUT = 15.0


# -- serialisation --------------------------------------------------------------------------------------
def to_json_value(value: Any) -> Any:
    """One DataFrame cell as a JSON-ready Python value (rules in the module docstring)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        if isinstance(value, np.datetime64 | np.timedelta64):
            value = pd.Timestamp(value) if isinstance(value, np.datetime64) else pd.Timedelta(value)
            if value is pd.NaT:
                return None
        else:
            value = value.item()
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date | dt.time):
        return value.isoformat()  # NaT was answered above
    if isinstance(value, pd.Timedelta):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, dt.timedelta):
        return pd.Timedelta(value).isoformat()
    if isinstance(value, Decimal):
        return None if value.is_nan() else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | np.ndarray):
        return [to_json_value(v) for v in value]
    return str(value)


def frame_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Every row of ``df`` as a dict of JSON-ready values (column names as strings)."""
    columns = [str(c) for c in df.columns]
    out: list[dict[str, Any]] = []
    for row in df.itertuples(index=False, name=None):
        out.append({c: to_json_value(v) for c, v in zip(columns, row, strict=True)})
    return out


# -- DDL ------------------------------------------------------------------------------------------------
def quote_ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def pg_type_for(series: pd.Series) -> str:
    """The PostgreSQL column type ``create_if_missing`` uses for a DataFrame column."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(dtype):
        return "BIGINT"
    if pd.api.types.is_float_dtype(dtype):
        return "DOUBLE PRECISION"
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "TIMESTAMPTZ"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "TIMESTAMP"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "INTERVAL"
    if pd.api.types.is_object_dtype(dtype):
        values = [v for v in series if v is not None and not (isinstance(v, float) and math.isnan(v))]
        if values:
            if all(isinstance(v, bool | np.bool_) for v in values):
                return "BOOLEAN"
            if all(isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_) for v in values):
                return "BIGINT"
            if all(isinstance(v, Decimal) for v in values):
                return "NUMERIC"
            if all(isinstance(v, dt.datetime) for v in values):
                return "TIMESTAMPTZ" if all(v.tzinfo is not None for v in values) else "TIMESTAMP"
            if all(isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in values):
                return "DATE"
            if all(isinstance(v, bytes | bytearray | memoryview) for v in values):
                return "BYTEA"
            if all(isinstance(v, dict | list) for v in values):
                return "JSONB"
    return "TEXT"


def create_table_sql(schema: str, table: str, df: pd.DataFrame, primary_key: list[str]) -> str:
    """``CREATE TABLE IF NOT EXISTS "schema"."table" (…, PRIMARY KEY (…))`` for the frame's columns."""
    lines = [f"    {quote_ident(str(c))} {pg_type_for(df[c])}" for c in df.columns]
    if primary_key:
        lines.append(f"    PRIMARY KEY ({', '.join(quote_ident(c) for c in primary_key)})")
    body = ",\n".join(lines)
    return f"CREATE TABLE IF NOT EXISTS {quote_ident(schema)}.{quote_ident(table)} (\n{body}\n);\n"


# -- the driver -----------------------------------------------------------------------------------------
class SupabaseWriter:
    """Writes the input DataFrame to a Supabase table; returns ``{}``."""

    def run(self, *, step_id: str, config: dict[str, Any], inputs: dict | None, ctx: RunnerContext) -> dict:
        conn = resolve_connection(step_id, config, COMPONENT)
        plan = _WritePlan.from_config(step_id, config, conn)
        df = require_input_df(step_id, inputs)
        plan.check_frame(df)
        return _WriteRun(plan, conn, df, ctx).execute()


class _WritePlan:
    def __init__(self, step_id: str, table: str, schema: str, mode: str, primary_key: list[str],
                 create_if_missing: bool, batch_size: int, retries: int, retry_base_sleep: float,
                 timeout: float, atomic: bool, ddl_channel: str) -> None:
        self.step_id = step_id
        self.table = table
        self.schema = schema
        self.mode = mode
        self.primary_key = primary_key
        self.create_if_missing = create_if_missing
        self.batch_size = batch_size
        self.retries = retries
        self.retry_base_sleep = retry_base_sleep
        self.timeout = timeout
        self.atomic = atomic
        self.ddl_channel = ddl_channel

    @classmethod
    def from_config(cls, step_id: str, config: dict[str, Any], conn: SupabaseConnection) -> _WritePlan:
        table = config.get("table")
        if not table or not isinstance(table, str):
            raise ValueError(f"Step '{step_id}': 'table' is required for {COMPONENT}")
        raw_mode = str(config.get("write_mode") or config.get("mode") or "append").lower()
        if raw_mode not in MODES:
            raise ValueError(
                f"Step '{step_id}': unknown write mode '{raw_mode}' for {COMPONENT} "
                "(use append, insert, upsert or replace)"
            )
        mode = MODES[raw_mode]
        try:
            primary_key = split_names(config.get("primary_key"))
        except ValueError as exc:
            raise ValueError(f"Step '{step_id}': primary_key: {exc}") from None
        if mode in ("upsert", "replace") and not primary_key:
            raise ValueError(
                f"Step '{step_id}': primary_key is required for write mode '{mode}' "
                f"(table {table}); nothing was written"
            )
        ddl_channel = str(config.get("ddl_channel") or "auto").lower()
        if ddl_channel not in ("auto", "psycopg", "psycopg2"):
            raise ValueError(
                f"Step '{step_id}': ddl_channel '{ddl_channel}' is not supported; use 'auto' or 'psycopg' with "
                "pg_dsn/dsn/sql_dsn (or pg_host…) in the supabase connection"
            )
        return cls(
            step_id=step_id, table=table, schema=str(config.get("schema") or conn.schema or "public"), mode=mode,
            primary_key=primary_key, create_if_missing=bool(config.get("create_if_missing", False)),
            batch_size=config_int(step_id, config, "batch_size", DEFAULT_BATCH_SIZE, minimum=1),
            retries=config_int(step_id, config, "retries", DEFAULT_RETRIES),
            retry_base_sleep=config_float(step_id, config, "retry_base_sleep", DEFAULT_RETRY_BASE_SLEEP),
            timeout=config_float(step_id, config, "timeout", DEFAULT_TIMEOUT),
            atomic=bool(config.get("atomic", False)), ddl_channel=ddl_channel,
        )

    def check_frame(self, df: pd.DataFrame) -> None:
        columns = [str(c) for c in df.columns]
        missing = [c for c in self.primary_key if c not in columns]
        if missing:
            raise ValueError(
                f"Step '{self.step_id}': primary_key column(s) {', '.join(missing)} not in the input "
                f"(columns: {', '.join(columns) or 'none'}); nothing was written to {self.table}"
            )
        if len(set(columns)) != len(columns):
            raise ValueError(f"Step '{self.step_id}': the input has duplicate column names")
        if self.mode in ("upsert", "replace") and len(df):
            dupes = df.duplicated(subset=self.primary_key, keep=False)
            if dupes.any():
                sample = df.loc[dupes, self.primary_key].head(3).to_dict("records")
                raise ValueError(
                    f"Step '{self.step_id}': {int(dupes.sum())} input rows share a primary key "
                    f"({', '.join(self.primary_key)}), e.g. {sample}; nothing was written to {self.table}"
                )


class _WriteRun:
    def __init__(self, plan: _WritePlan, conn: SupabaseConnection, df: pd.DataFrame, ctx: RunnerContext) -> None:
        self.plan = plan
        self.conn = conn
        self.df = df
        self.ctx = ctx
        self.where = f"{plan.schema}.{plan.table} at {conn.host} (step '{plan.step_id}')"
        self.rows_written = 0
        self.sql: Any = None  # psycopg connection, opened only when needed
        self._unhook_sql: Callable[[], None] = lambda: None

    # -- helpers ----------------------------------------------------------------------------------
    def fail(self, message: str, exc_type: type[Exception] = RuntimeError) -> Exception:
        return exc_type(mask_text(message))

    def require_sql_channel(self, why: str) -> None:
        if not self.conn.sql_conninfo:
            raise self.fail(
                f"Supabase write to {self.where} needs a SQL channel for {why}, but the connection has none: "
                "add pg_dsn (or dsn/sql_dsn, or pg_host/pg_user/pg_password/pg_database) to the supabase "
                "connection. Nothing was written.",
                ValueError,
            )

    def open_sql(self) -> Any:
        if self.sql is None:
            import psycopg

            conninfo = self.conn.sql_conninfo
            assert conninfo, "require_sql_channel() runs before open_sql()"
            try:
                self.sql = psycopg.connect(conninfo, connect_timeout=15, autocommit=True)
            except psycopg.Error as exc:
                raise self.fail(
                    f"Supabase write to {self.where}: cannot open the SQL channel to {self.conn.sql_host}: "
                    f"{exc}. Nothing was written."
                ) from None
            on_cancel = getattr(self.ctx, "on_cancel", None)
            if on_cancel is not None:  # a cancel stops the running statement (its transaction rolls back)
                stop = getattr(self.sql, "cancel_safe", self.sql.cancel)
                # (sending the cancel request is a network round trip: never on the cancelling thread)
                self._unhook_sql = on_cancel(lambda: threading.Thread(target=stop, daemon=True).start())
        return self.sql

    def target(self) -> Any:
        from psycopg import sql

        return sql.Identifier(self.plan.schema, self.plan.table)

    # -- main flow --------------------------------------------------------------------------------
    def execute(self) -> dict:
        plan = self.plan
        started = time.monotonic()
        if plan.mode == "replace":
            self.require_sql_channel("replace's delete of rows missing from the input")
        if plan.atomic:
            self.require_sql_channel("atomic: true")
        session = RestSession(self.conn, plan.schema, timeout=plan.timeout, retries=plan.retries,
                              retry_base_sleep=plan.retry_base_sleep)
        try:
            if plan.mode == "replace" or plan.atomic:
                self.open_sql()  # fail on a bad DSN before writing anything
            self.ensure_table(session)
            records = frame_records(self.df)
            log_event(self.ctx, "write.start", table=plan.table, schema=plan.schema, mode=plan.mode,
                      rows=len(records), batch_size=plan.batch_size)
            channel = "sql" if plan.atomic else "http_rest"
            if plan.atomic:
                deleted = self.write_atomic(records)
            else:
                self.write_rest(session, records)
                deleted = self.delete_missing(records) if plan.mode == "replace" else None
        except (APIError, httpx.HTTPError) as exc:
            raise self.fail(
                f"Supabase write to {self.where} failed: {describe_error(exc, session.last_status)}"
            ) from None
        finally:
            session.close()
            self._unhook_sql()
            if self.sql is not None:
                self.sql.close()
        duration_ms = int((time.monotonic() - started) * 1000)
        fields: dict[str, Any] = {"table": plan.table, "rows_written": self.rows_written,
                                  "duration_ms": duration_ms, "channel_used": channel}
        if deleted is not None:
            fields["rows_deleted"] = deleted
        log_event(self.ctx, "write.complete", **fields)
        self.ctx.log_metric("rows_written", self.rows_written)
        return {}

    def ensure_table(self, session: RestSession) -> None:
        plan = self.plan
        if session.table_exists(plan.table):
            return
        if not plan.create_if_missing:
            raise self.fail(
                f"Supabase table {self.where} does not exist (PostgREST cannot find it); create it or set "
                "create_if_missing: true with a SQL channel. Nothing was written.",
                ValueError,
            )
        ddl = create_table_sql(plan.schema, plan.table, self.df, plan.primary_key)
        out_dir = Path(getattr(self.ctx, "output_dir", None) or Path.cwd())
        out_dir.mkdir(parents=True, exist_ok=True)
        plan_path = out_dir / "ddl_plan.sql"
        plan_path.write_text(ddl, encoding="utf-8")
        log_event(self.ctx, "table.ddl_planned", table=plan.table, schema=plan.schema, path=str(plan_path),
                  columns=len(self.df.columns), primary_key=plan.primary_key)
        self.require_sql_channel(f"creating the missing table (the plan is in {plan_path})")
        conn = self.open_sql()
        import psycopg

        try:
            with conn.transaction():
                conn.execute(ddl)
                conn.execute("NOTIFY pgrst, 'reload schema'")
        except psycopg.Error as exc:
            raise self.fail(f"Supabase write to {self.where}: creating the table failed: {exc}. "
                            "Nothing was written.") from None
        log_event(self.ctx, "table.ddl_executed", table=plan.table, schema=plan.schema, channel="psycopg")
        deadline = time.monotonic() + SCHEMA_RELOAD_TIMEOUT
        delay = 0.05
        while not session.table_exists(plan.table):
            if time.monotonic() > deadline:
                raise self.fail(
                    f"Supabase write to {self.where}: the table was created but PostgREST has not reloaded its "
                    f"schema cache after {SCHEMA_RELOAD_TIMEOUT:.0f} s. Nothing was written."
                )
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def batches(self, records: list[dict]) -> list[list[dict]]:
        size = self.plan.batch_size
        return [records[i:i + size] for i in range(0, len(records), size)]

    def write_rest(self, session: RestSession, records: list[dict]) -> None:
        plan = self.plan
        batches = self.batches(records)
        on_conflict = ",".join(plan.primary_key)
        for number, batch in enumerate(batches, start=1):
            check_cancelled(self.ctx)

            def send(batch: list[dict] = batch) -> Any:
                builder = session.table(plan.table)
                if plan.mode == "append":
                    return builder.insert(batch, returning="minimal").execute()
                return builder.upsert(batch, on_conflict=on_conflict, returning="minimal").execute()

            def on_retry(attempt: int, delay: float, reason: str, _n: int = number) -> None:
                log_event(self.ctx, "write.retry", table=plan.table, batch=_n, attempt=attempt,
                          delay_ms=int(delay * 1000), reason=reason)

            try:
                session.call(send, on_retry=on_retry)
            except (APIError, httpx.HTTPError) as exc:
                first = (number - 1) * plan.batch_size + 1
                log_event(self.ctx, "write.failed", table=plan.table, batch=number, batches=len(batches),
                          rows_written=self.rows_written, channel_used="http_rest")
                already = (f"{self.rows_written} row(s) from batches 1-{number - 1} were already written "
                           "(REST writes are not atomic across batches; atomic: true with a SQL channel makes "
                           "the write all-or-nothing)" if self.rows_written else "no rows were written")
                skipped = "; replace's delete was not run" if plan.mode == "replace" else ""
                raise self.fail(
                    f"Supabase write to {self.where} failed in batch {number}/{len(batches)} "
                    f"(rows {first}-{first + len(batch) - 1}): {describe_error(exc, session.last_status)}; "
                    f"{already}{skipped}"
                ) from None
            self.rows_written += len(batch)
            log_event(self.ctx, "write.progress", table=plan.table, batch=number, batches=len(batches),
                      rows_written=self.rows_written)

    def _insert_sql(self, columns: list[str]) -> Any:
        from psycopg import sql

        target = self.target()
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        stmt = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM json_populate_recordset(NULL::{}, %s::json)").format(
            target, cols, cols, target
        )
        if self.plan.mode in ("upsert", "replace"):
            pk = self.plan.primary_key
            stmt += sql.SQL(" ON CONFLICT ({})").format(sql.SQL(", ").join(sql.Identifier(c) for c in pk))
            updates = [c for c in columns if c not in pk]
            if updates:
                stmt += sql.SQL(" DO UPDATE SET ") + sql.SQL(", ").join(
                    sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in updates
                )
            else:
                stmt += sql.SQL(" DO NOTHING")
        return stmt

    def _delete_sql(self) -> Any:
        from psycopg import sql

        target = self.target()
        match = sql.SQL(" AND ").join(
            sql.SQL("_k.{} = _t.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in self.plan.primary_key
        )
        return sql.SQL(
            "DELETE FROM {} AS _t WHERE NOT EXISTS "
            "(SELECT 1 FROM json_populate_recordset(NULL::{}, %s::json) AS _k WHERE {})"
        ).format(target, target, match)

    def _keys_json(self, records: list[dict]) -> str:
        pk = self.plan.primary_key
        return json.dumps([{c: r.get(c) for c in pk} for r in records], allow_nan=False)

    def delete_missing(self, records: list[dict]) -> int:
        """replace: one DELETE, in its own transaction, of the rows whose key is not in the input."""
        import psycopg

        check_cancelled(self.ctx)
        conn = self.open_sql()
        try:
            with conn.transaction():
                deleted = conn.execute(self._delete_sql(), [self._keys_json(records)]).rowcount
        except psycopg.Error as exc:
            raise self.fail(
                f"Supabase replace of {self.where}: all {self.rows_written} input rows were upserted, but deleting "
                f"the rows missing from the input failed on the SQL channel: {exc}"
            ) from None
        log_event(self.ctx, "write.rows_deleted", table=self.plan.table, rows_deleted=deleted, channel="psycopg")
        return deleted

    def write_atomic(self, records: list[dict]) -> int | None:
        """Every batch (and replace's delete) in one transaction on the SQL channel: all or nothing."""
        import psycopg

        plan = self.plan
        conn = self.open_sql()
        columns = [str(c) for c in self.df.columns]
        batches = self.batches(records)
        stmt = self._insert_sql(columns)
        written = 0
        deleted: int | None = None
        number = 0
        try:
            with conn.transaction():
                for number, batch in enumerate(batches, start=1):
                    check_cancelled(self.ctx)
                    conn.execute(stmt, [json.dumps(batch, allow_nan=False)])
                    written += len(batch)
                    log_event(self.ctx, "write.progress", table=plan.table, batch=number, batches=len(batches),
                              rows_written=written, committed=False)
                if plan.mode == "replace":
                    number = len(batches) + 1
                    deleted = conn.execute(self._delete_sql(), [self._keys_json(records)]).rowcount
        except psycopg.Error as exc:
            log_event(self.ctx, "write.failed", table=plan.table, batch=number, batches=len(batches),
                      rows_written=0, channel_used="sql")
            what = "the delete of rows missing from the input" if number > len(batches) else f"batch {number}"
            raise self.fail(
                f"Supabase write to {self.where} failed in {what} (atomic, SQL channel): {exc}; "
                "the transaction was rolled back, the table is unchanged"
            ) from None
        self.rows_written = written
        return deleted
