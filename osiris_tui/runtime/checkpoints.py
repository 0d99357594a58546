"""Checkpoints: each finished step's output kept on disk as Parquet, so a later run can resume.

A checkpoint is keyed by the step's *fingerprint*: a SHA-256 over the driver (and osiris-tui's
version), the step id, the config the driver receives (connection resolved), the identities of the
step's inputs and, for file extractors, each input file's path, size and mtime_ns. Secret values (by
key, in URLs, registered ones) enter it only as an HMAC with the cache's own random key, which lives in
the cache directory (mode 0600); no config is stored.

What downstream steps see of an input is its *identity*: the fingerprint for a step whose output
follows from its config and inputs; for a database extractor, which reads a table that may have
changed, a fresh value each time it really runs. So a re-extracted table makes everything below it run
again, and a reused extract (`--reuse-extracts`, or `u` on the step) brings back the identity it had.

Reuse: a step is taken from its checkpoint when resuming (the app by default, `run --resume`), when its
fingerprint has one, and — for database extractors — only when asked. Writers produce no frame, so
they have no checkpoint and always run again (they are how a run has effects: never skipped silently).
Re-running a step (`r`) always runs it.

Layout (`<manifest dir>/.osiris-tui/checkpoints/`, or a directory per manifest directory under
`$OSIRIS_TUI_CACHE_DIR`): `key`, then `<fingerprint>.parquet` and `<fingerprint>.json` (step id,
fingerprint, identity, rows, bytes, created, last used, schema) per checkpoint. Files are written
atomically, by a background thread that never holds up the next step; the store keeps to a size budget
by dropping the least recently used checkpoints.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import queue
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from osiris_tui import __version__
from osiris_tui.errors import InputError
from osiris_tui.manifest.model import Pipeline, Step
from osiris_tui.runtime.adapter import ExecutionAdapter, PreparedRun, StepResult
from osiris_tui.runtime.connections import OPTIONAL_FAMILIES
from osiris_tui.runtime.context import ExecutionContext
from osiris_tui.secrets import is_secret_key, mask_text

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

FORMAT = 1
CACHE_DIR_ENV = "OSIRIS_TUI_CACHE_DIR"
DEFAULT_BUDGET = 2 * 1024**3
KEY_FILE = "key"
# Drivers that read a database table: their output can change while their config does not.
DATABASE_EXTRACTORS = frozenset({"mysql.extractor", "supabase.extractor"})
# Drivers whose inputs include files named by their config's `path`.
FILE_EXTRACTORS = frozenset({"filesystem.csv_extractor"})
_STRIPPED = ("component", "connection")
_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


# -- fingerprints -----------------------------------------------------------------------------------
def _keyed(key: bytes, value: Any) -> dict[str, str]:
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return {"hmac": hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()}


def hashable_config(value: Any, key: bytes) -> Any:
    """`value` with every secret replaced by its HMAC: values under secret keys, and any string that
    holds a secret (a URL with a password, a registered secret value)."""
    if isinstance(value, dict):
        return {str(k): _keyed(key, v) if is_secret_key(k) and v not in (None, "", [], {})
                else hashable_config(v, key) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [hashable_config(v, key) for v in value]
    if isinstance(value, str):
        return _keyed(key, value) if mask_text(value) != value else value
    if value is None or isinstance(value, bool | int | float):
        return value
    return {"type": type(value).__name__, "repr": hashable_config(repr(value), key)}


def driver_config(step: Step, connection_fields: dict[str, Any] | None) -> dict[str, Any]:
    """The config the step's driver receives (as LocalAdapter builds it)."""
    config = {k: v for k, v in step.config.items() if k not in _STRIPPED}
    if connection_fields is not None:
        config["resolved_connection"] = dict(connection_fields)
    return config


def input_files(step: Step, config: dict[str, Any]) -> list[list[Any]] | None:
    """`[path, size, mtime_ns]` of each file a file extractor reads (None: a file is missing)."""
    if step.driver not in FILE_EXTRACTORS or not config.get("path"):
        return []
    path = Path(str(config["path"])).expanduser()
    if not path.is_absolute():  # as drivers.base.resolve_path
        base = (config.get("resolved_connection") or {}).get("base_dir")
        path = (Path(base).expanduser() / path) if base else Path.cwd() / path
    try:
        stat = path.stat()
    except OSError:
        return None
    return [[str(path.resolve()), stat.st_size, stat.st_mtime_ns]]


def fingerprint(step: Step, config: dict[str, Any], inputs: list[tuple[str, str]], files: list[list[Any]],
                key: bytes, implementation: str = "") -> str:
    payload = {
        "format": FORMAT, "osiris_tui": __version__, "driver": step.driver, "implementation": implementation,
        "step": step.id, "config": hashable_config(config, key), "inputs": [list(i) for i in inputs],
        "input_refs": sorted(step.input_refs.items()), "files": files,
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- the store --------------------------------------------------------------------------------------
@dataclass
class Checkpoint:
    step_id: str
    fingerprint: str
    identity: str
    rows: int
    bytes: int
    created: float
    used: float
    driver: str = ""
    schema: list[list[str]] = field(default_factory=list)
    path: Path = Path()

    @property
    def age(self) -> float:
        return max(0.0, time.time() - self.created)

    def meta(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("path")
        return data


def cache_root(manifest: Path) -> Path:
    """Where the checkpoints of pipelines in `manifest`'s directory live."""
    directory = manifest.resolve().parent
    base = os.environ.get(CACHE_DIR_ENV)
    if base:
        digest = hashlib.sha256(str(directory).encode("utf-8")).hexdigest()[:16]
        return Path(base).expanduser() / f"{directory.name or 'root'}-{digest}"
    return directory / ".osiris-tui" / "checkpoints"


def _write_atomic(path: Path, data: bytes) -> None:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


class CheckpointStore:
    """The checkpoints of one cache directory. Safe to share between threads and processes (every file is
    written whole and renamed; a checkpoint whose file went missing simply is not there)."""

    def __init__(self, root: Path, budget_bytes: int = DEFAULT_BUDGET) -> None:
        self.root = root
        self.budget_bytes = budget_bytes
        self._key: bytes | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_manifest(cls, manifest: Path, budget_bytes: int = DEFAULT_BUDGET) -> CheckpointStore:
        return cls(cache_root(manifest), budget_bytes)

    def key(self) -> bytes:
        """The HMAC key secret values are hashed with: 32 random bytes, made once, readable by the owner only."""
        with self._lock:
            if self._key is None:
                self._key = self._load_key()
            return self._key

    def _load_key(self) -> bytes:
        path = self.root / KEY_FILE
        try:
            return bytes.fromhex(path.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            pass
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".key.", dir=self.root)  # mkstemp makes it 0600
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(os.urandom(32).hex())
            try:
                os.link(tmp, path)  # fails if another process made one first: then that one is the key
            except FileExistsError:
                pass
        finally:
            Path(tmp).unlink(missing_ok=True)
        return bytes.fromhex(path.read_text(encoding="ascii").strip())

    def _meta_path(self, fp: str) -> Path:
        return self.root / f"{fp}.json"

    def _data_path(self, fp: str) -> Path:
        return self.root / f"{fp}.parquet"

    def lookup(self, fp: str) -> Checkpoint | None:
        if not _FINGERPRINT.match(fp):
            return None
        return self._load(self._meta_path(fp))

    def _load(self, meta: Path) -> Checkpoint | None:
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
            fields = {k: data[k] for k in Checkpoint.__dataclass_fields__ if k in data and k != "path"}
            checkpoint = Checkpoint(**fields)
        except (OSError, ValueError, TypeError, KeyError):
            return None
        checkpoint.path = self._data_path(checkpoint.fingerprint)
        return checkpoint if checkpoint.path.is_file() else None

    def entries(self) -> list[Checkpoint]:
        """Every checkpoint, most recently used first."""
        try:
            metas = list(self.root.glob("*.json"))
        except OSError:
            return []
        found = [c for c in (self._load(m) for m in metas) if c is not None]
        return sorted(found, key=lambda c: c.used, reverse=True)

    def read(self, checkpoint: Checkpoint) -> pd.DataFrame:
        from osiris_tui.runtime import frame_files

        return frame_files.read_frame(checkpoint.path)

    def touch(self, checkpoint: Checkpoint) -> None:
        """Mark it used now (what the least-recently-used eviction goes by)."""
        checkpoint.used = time.time()
        try:
            _write_atomic(self._meta_path(checkpoint.fingerprint), json.dumps(checkpoint.meta()).encode("utf-8"))
        except OSError:
            pass

    def write(self, step_id: str, fp: str, identity: str, df: pd.DataFrame, *, driver: str = "",
              stop: Callable[[], bool] = lambda: False, protect: Iterable[str] = ()) -> Checkpoint:
        """Write `df` as the checkpoint `fp` (NotExact, WriteStopped or OSError when it cannot be), then keep the
        store within its budget (never dropping the fingerprints in `protect`)."""
        from osiris_tui.runtime import frame_files

        self.root.mkdir(parents=True, exist_ok=True)
        table = frame_files.frame_to_table(df)
        path = self._data_path(fp)
        size = frame_files.write_table(table, path, stop)
        now = time.time()
        checkpoint = Checkpoint(step_id, fp, identity, table.num_rows, size, now, now, driver,
                                [[f.name, str(f.type)] for f in table.schema], path)
        _write_atomic(self._meta_path(fp), json.dumps(checkpoint.meta()).encode("utf-8"))
        self.evict(protect={fp, *protect})
        return checkpoint

    def remove(self, checkpoint: Checkpoint) -> None:
        self._meta_path(checkpoint.fingerprint).unlink(missing_ok=True)
        checkpoint.path.unlink(missing_ok=True)

    def evict(self, protect: Iterable[str] = ()) -> list[Checkpoint]:
        """Drop the least recently used checkpoints until the store fits its budget; returns those dropped."""
        keep = set(protect)
        entries = self.entries()
        total = sum(c.bytes for c in entries)
        dropped = []
        for checkpoint in reversed(entries):  # least recently used first
            if total <= self.budget_bytes:
                break
            if checkpoint.fingerprint in keep:
                continue
            self.remove(checkpoint)
            total -= checkpoint.bytes
            dropped.append(checkpoint)
        return dropped

    def clear(self) -> tuple[int, int]:
        """Remove every checkpoint (the key stays); returns (count, bytes)."""
        entries = self.entries()
        for checkpoint in entries:
            self.remove(checkpoint)
        for leftover in self.root.glob(".*.tmp") if self.root.is_dir() else []:
            leftover.unlink(missing_ok=True)
        return len(entries), sum(c.bytes for c in entries)


# -- the background writer --------------------------------------------------------------------------
@dataclass
class _Job:
    step_id: str
    fingerprint: str
    identity: str
    df: pd.DataFrame
    driver: str
    done: Callable[[Checkpoint | None, str | None], None]


class CheckpointWriter:
    """Writes queued frames, one at a time, in a daemon thread (started on the first job).

    `close(cancel=True)` stops the write in progress between two row groups and drops the queue (no file
    is left half written); `close(cancel=False)` waits for the queue to be written first, up to `timeout`.
    """

    def __init__(self, store: CheckpointStore, protect: Callable[[], Iterable[str]] = tuple) -> None:
        self.store = store
        self._protect = protect
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0

    def submit(self, job: _Job) -> None:
        with self._lock:
            if self._cancel.is_set():
                return
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="osiris-checkpoints", daemon=True)
                self._thread.start()
        self._jobs.put(job)

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every submitted job is written (or failed); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self._pending:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._idle.wait(remaining)
            return True

    def wait_while(self, condition: Callable[[], bool], timeout: float) -> None:
        """Block while `condition()` holds and writes are pending (checked after each write), up to `timeout`."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending and condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._idle.wait(min(remaining, 0.5))

    def close(self, *, cancel: bool, timeout: float = 30.0) -> None:
        if not cancel and not self.wait(timeout):
            cancel = True
        if cancel:
            self._cancel.set()
        self._jobs.put(None)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(5.0)

    def _run(self) -> None:
        from osiris_tui.runtime import frame_files

        while True:
            job = self._jobs.get()
            if job is None:
                return
            checkpoint, error = None, None
            if not self._cancel.is_set():
                try:
                    checkpoint = self.store.write(job.step_id, job.fingerprint, job.identity, job.df,
                                                  driver=job.driver, stop=self._cancel.is_set,
                                                  protect=self._protect())
                except frame_files.WriteStopped:
                    error = "stopped"
                except frame_files.NotExact as exc:
                    error = f"cannot be stored exactly: {exc}"
                except Exception as exc:  # a full disk, a read-only directory: the run goes on
                    error = mask_text(f"{type(exc).__name__}: {exc}")
            else:
                error = "stopped"
            import pandas as pd
            import pyarrow as pa

            job.df = pd.DataFrame()  # let the frame go as soon as it is written
            pa.default_memory_pool().release_unused()  # the encoder's buffers, back to the system
            try:
                job.done(checkpoint, error)
            except Exception:
                logger.exception("checkpoint callback failed")
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()


# -- one session's checkpoints ----------------------------------------------------------------------
@dataclass(frozen=True)
class CachedStep:
    """A step with a checkpoint that matches its current fingerprint."""

    step_id: str
    created: float
    rows: int
    reuse: bool  # it will be taken from the checkpoint when the run gets there
    database: bool  # a database extractor (reused only when asked)

    @property
    def age(self) -> float:
        return max(0.0, time.time() - self.created)


@dataclass(frozen=True)
class Reused:
    """A step taken from its checkpoint."""

    checkpoint: Checkpoint
    df: pd.DataFrame
    seconds: float  # what reading it took


Resolver = Callable[[Step], dict[str, Any] | None]


class Checkpointing:
    """The checkpoint side of a debug session: what is cached, what to reuse, what to write.

    `reuse`: take steps from their checkpoints (the app's default, `run --resume`); off with `--fresh`
    (checkpoints are still written). `reuse_extracts`: database extractors too. `toggle(step)` flips
    the choice for one step.
    """

    def __init__(self, store: CheckpointStore, *, reuse: bool = True, reuse_extracts: bool = False,
                 implementation: Callable[[str], str] = lambda driver: "",
                 external: Callable[[str], bool] = lambda driver: False) -> None:
        self.store = store
        self._external = external
        self.reuse_enabled = reuse
        self.reuse_extracts = reuse_extracts
        self._implementation = implementation
        self._overrides: dict[str, bool] = {}
        self._identities: dict[str, str] = {}  # step id → identity of its output in this run
        self._lock = threading.Lock()
        self._backing: dict[str, str] = {}  # step id → fingerprint whose file holds its cached frame
        self.writer = CheckpointWriter(store, protect=self._protected)
        self.unavailable: str | None = None  # why checkpoints cannot be used (an unwritable directory…)

    def _protected(self) -> list[str]:
        with self._lock:
            return list(self._backing.values())

    # -- policy -------------------------------------------------------------------------------------
    def is_database(self, step: Step) -> bool:
        """A database extractor, or a plugin whose class says `external_source = True` (its output depends on
        something its config does not capture: a table, an API): reused only when asked."""
        return step.driver in DATABASE_EXTRACTORS or self._external(step.driver)

    def wants_reuse(self, step: Step) -> bool:
        with self._lock:
            override = self._overrides.get(step.id)
        if override is not None:
            return override
        return self.reuse_enabled and (self.reuse_extracts or not self.is_database(step))

    def toggle(self, step: Step) -> bool:
        """Flip reuse for `step`; returns whether it is now reused."""
        on = not self.wants_reuse(step)
        with self._lock:
            self._overrides[step.id] = on
        return on

    def new_run(self) -> None:
        with self._lock:
            self._identities.clear()
            self._backing.clear()

    def forget(self, step_ids: Iterable[str]) -> None:
        """These steps' outputs are gone from this run (re-run upstream, failed): no identity any more."""
        with self._lock:
            for step_id in step_ids:
                self._identities.pop(step_id, None)
                self._backing.pop(step_id, None)

    # -- fingerprints -------------------------------------------------------------------------------
    def fingerprint(self, step: Step, resolve: Resolver, identities: dict[str, str | None]) -> str | None:
        """The step's fingerprint, given its inputs' identities (None when one is unknown, its connection
        does not resolve or an input file is missing)."""
        inputs = []
        for upstream in step.upstream:
            identity = identities.get(upstream)
            if identity is None:
                return None
            inputs.append((upstream, identity))
        try:
            config = driver_config(step, resolve(step))
            files = input_files(step, config)
            if files is None:
                return None
            return fingerprint(step, config, inputs, files, self.store.key(), self._implementation(step.driver))
        except (InputError, OSError, ValueError) as exc:
            if isinstance(exc, OSError):  # the cache directory cannot be written: run without checkpoints
                self.unavailable = mask_text(f"{exc}")
            return None

    def _current_identities(self) -> dict[str, str | None]:
        with self._lock:
            return dict(self._identities)

    def identity(self, step_id: str) -> str | None:
        with self._lock:
            return self._identities.get(step_id)

    def plan(self, pipeline: Pipeline, resolve: Resolver, done: set[str]
             ) -> tuple[dict[str, CachedStep], dict[str, str | None]]:
        """The steps not run yet in this run that have a checkpoint for their current fingerprint,
        assuming the run goes on from here (reused steps keep their identities, the rest get new ones);
        and the identity each step is expected to have (None: not known before it runs)."""
        identities = self._current_identities()
        cached: dict[str, CachedStep] = {}
        for step in pipeline.steps:
            if step.id in done:
                continue
            fp = self.fingerprint(step, resolve, identities)
            checkpoint = self.store.lookup(fp) if fp is not None else None
            reuse = self.wants_reuse(step)
            if checkpoint is not None:
                cached[step.id] = CachedStep(step.id, checkpoint.created, checkpoint.rows, reuse,
                                             self.is_database(step))
            if checkpoint is not None and reuse:
                identities[step.id] = checkpoint.identity
            elif fp is not None and not self.is_database(step):
                identities[step.id] = fp
            else:
                identities[step.id] = None
        return cached, identities

    # -- running ------------------------------------------------------------------------------------
    def try_reuse(self, step: Step, resolve: Resolver) -> Reused | None:
        """The step's output from its checkpoint, when it has one and should be reused (else None)."""
        if not self.wants_reuse(step):
            return None
        fp = self.fingerprint(step, resolve, self._current_identities())
        checkpoint = self.store.lookup(fp) if fp is not None else None
        if checkpoint is None:
            return None
        started = time.perf_counter()
        try:
            df = self.store.read(checkpoint)
        except Exception:  # gone or damaged (another process evicted it): run the step instead
            logger.warning("checkpoint %s of %s could not be read", checkpoint.fingerprint[:12], step.id)
            return None
        self.store.touch(checkpoint)
        with self._lock:
            self._identities[step.id] = checkpoint.identity
            self._backing[step.id] = checkpoint.fingerprint
        return Reused(checkpoint, df, time.perf_counter() - started)

    def finished(self, step: Step, resolve: Resolver, df: pd.DataFrame | None,
                 done: Callable[[Checkpoint | None, str | None], None]) -> str | None:
        """A step ran: note its output's identity and queue its frame to be written (`done` is called from
        the writer thread). Returns the fingerprint (None when it has none)."""
        fp = self.fingerprint(step, resolve, self._current_identities())
        if fp is None:
            identity = os.urandom(32).hex()  # unknown: nothing downstream can match an old checkpoint
        elif self.is_database(step):
            identity = hashlib.sha256(f"{fp}:{time.time_ns()}:{os.urandom(8).hex()}".encode()).hexdigest()
        else:
            identity = fp
        with self._lock:
            self._identities[step.id] = identity
            self._backing.pop(step.id, None)
        if fp is not None and df is not None and self.unavailable is None and self.store.budget_bytes > 0:
            def written(checkpoint: Checkpoint | None, error: str | None) -> None:
                if checkpoint is not None:
                    with self._lock:
                        if self._identities.get(step.id) == identity:
                            self._backing[step.id] = checkpoint.fingerprint
                done(checkpoint, error)

            self.writer.submit(_Job(step.id, fp, identity, df, step.driver, written))
            return fp
        return None

    def close(self, *, cancel: bool) -> None:
        self.writer.close(cancel=cancel)


# -- glue for the debug session ---------------------------------------------------------------------
def connection_fields(adapter: ExecutionAdapter, step: Step) -> dict[str, Any] | None:
    """The resolved connection's fields the step's driver gets (as LocalAdapter resolves them)."""
    if step.config.get("connection") is None and step.family in OPTIONAL_FAMILIES:
        return None
    connection = adapter.resolve_connection(step, step.config)
    return None if connection is None else connection.fields


class SessionCheckpoints(Checkpointing):
    """Checkpointing wired to a run: reused steps go into the run's cache and event log, finished steps'
    frames are written and the cache told when they are on disk."""

    _context: ExecutionContext | None = None
    _told_unavailable = False
    close_timeout = 10.0  # how long closing waits for the writes in progress (then they are dropped)

    def attach(self, context: ExecutionContext) -> None:
        """A new run (a restart): identities start over; what the writer reports goes to this run's log."""
        self.new_run()
        self._context = context

    def reuse_step(self, prepared: PreparedRun, context: ExecutionContext, step: Step,
                   resolve: Resolver) -> StepResult | None:
        reused = self.try_reuse(step, resolve)
        if reused is None:
            return None
        checkpoint = reused.checkpoint
        prepared.results[step.id] = {}
        prepared.cache.put(step.id, reused.df, backing=checkpoint.path)
        age = checkpoint.age
        context.log_event("cached", step_id=step.id, driver=step.driver, rows=checkpoint.rows,
                          age_seconds=round(age, 3), created=_iso(checkpoint.created),
                          fingerprint=checkpoint.fingerprint[:12], duration=round(reused.seconds, 4))
        result = StepResult(step.id, True, reused.seconds, checkpoint.rows, produced_df=True, cached_age=age)
        prepared.metadata["step_results"][step.id] = result
        return result

    def make_room(self, prepared: PreparedRun, step: Step, timeout: float = 60.0) -> None:
        """Before a step runs: when the frames in memory and the one it is about to make (guessed as large as
        its inputs) exceed the memory budget while frames wait for their checkpoints, wait for those writes
        (they let the frames go), no longer."""
        cache = prepared.cache
        coming = sum(cache.nbytes(u) or 0 for u in step.upstream if u in cache)
        if cache.over_budget_until_written(coming):
            self.writer.wait_while(lambda: cache.over_budget_until_written(coming), timeout)

    def step_done(self, prepared: PreparedRun, context: ExecutionContext, step: Step, resolve: Resolver) -> None:
        cache = prepared.cache
        df = cache.get(step.id) if step.id in cache else None

        def written(checkpoint: Checkpoint | None, error: str | None) -> None:
            cache.back(step.id, checkpoint.path if checkpoint is not None else None)
            if context is not self._context:
                return  # the run it belonged to has ended
            if checkpoint is not None:
                context.log_event("checkpoint_saved", step_id=step.id, rows=checkpoint.rows,
                                  bytes=checkpoint.bytes, fingerprint=checkpoint.fingerprint[:12])
            elif error != "stopped":
                context.log_event("checkpoint_not_saved", step_id=step.id, reason=error)

        if self.finished(step, resolve, df, written) is None and df is not None:
            cache.back(step.id, None)
        if self.unavailable is not None and not self._told_unavailable:
            self._told_unavailable = True
            context.log_event("checkpoints_unavailable", directory=str(self.store.root), reason=self.unavailable)

    def close(self, *, cancel: bool) -> None:
        self.writer.close(cancel=cancel, timeout=self.close_timeout)
        self._context = None


def _iso(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
