"""ExecutionContext: the run's event and metric log (in memory, in JSONL files, and to subscribers).

Lines follow Osiris's `session_logging` shapes: events are `{"ts", "session", "event", ...flat fields}`,
metrics `{"ts", "session", "metric", "value", ...extra}`. Every record is masked before it is stored,
written or handed to a subscriber, and every metric a step emits carries its `step_id`.

A file that cannot be written (a full disk, a file system gone read-only) never stops the run: the
records stay in memory and go to subscribers, the failure is reported once (a `log_write_failed` event
and a line on stderr), and that file gets nothing more for the rest of the run.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from osiris_tui.errors import InputError
from osiris_tui.runtime.cancel import CancellableStep, Cancellation
from osiris_tui.runtime.previous_run import PreviousRun, set_aside
from osiris_tui.runtime.records import EventRecord, MetricRecord, RecordStream
from osiris_tui.secrets import mask_text, mask_value

if TYPE_CHECKING:
    from osiris_tui.drivers.base import StepContext

Line = dict[str, Any]
# Event fields that name things rather than hold credentials (Osiris's redactor never masks a bare `key`).
PLAIN_EVENT_KEYS = frozenset({"key"})


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_run_id() -> str:
    """`YYYYMMDDTHHMMSSZ-<6 hex>`: sorts by time, unique enough for a run directory."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + os.urandom(3).hex()


_OS_REASONS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EFBIG: "file too large",
    errno.EIO: "input/output error",
    errno.ENOTDIR: "a part of the path is a file, not a directory",
}
# What a run writes directly in its directory: a run that reuses the directory removes these first (the
# previous run's artifacts and cfg files are set aside for the new run to write over: previous_run.py).
RUN_DIR_ENTRIES = ("events.jsonl", "metrics.jsonl", "status.json", "manifest.yaml", "artifacts", "working", "cfg")
_RUN_DIR_HINT = "pass --run-dir a directory you can write to (it is created if missing)"


def describe_os_error(exc: BaseException, path: Path | str | None = None) -> str:
    """`no space left on device writing <path>` and the like: what failed, on which file."""
    where = path if path is not None else getattr(exc, "filename", None)
    if isinstance(exc, OSError):
        reason = _OS_REASONS.get(exc.errno or 0) or (exc.strerror or str(exc) or type(exc).__name__).lower()
    else:
        reason = str(exc) or type(exc).__name__
    return mask_text(f"{reason} writing {where}" if where else reason)


def _reason(exc: OSError) -> str:
    return _OS_REASONS.get(exc.errno or 0) or (exc.strerror or str(exc)).lower()


def prepare_run_dir(run_dir: Path, *, clean: bool = False) -> None:
    """Make sure a run can write to `run_dir` before anything runs, or raise an InputError saying why.

    Creates it when missing; with `clean`, removes what an earlier run left there (`RUN_DIR_ENTRIES`
    only: other files in the directory are not ours to delete; its artifacts and cfg files are set aside
    for the new run to write over, and removed when it ends); then writes, syncs and removes a probe
    file, so a read-only or full file system is found now rather than in the middle of the run.
    """
    if run_dir.exists() and not run_dir.is_dir():
        raise InputError(f"the run directory {run_dir} exists and is not a directory", hint=_RUN_DIR_HINT)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the run directory {run_dir}: {_reason(exc)}", hint=_RUN_DIR_HINT) from None
    if not os.access(run_dir, os.W_OK | os.X_OK):
        raise InputError(f"the run directory {run_dir} is not writable: permission denied", hint=_RUN_DIR_HINT)
    if clean:
        try:
            set_aside(run_dir)
            for name in RUN_DIR_ENTRIES:
                for entry in (run_dir / name, run_dir / f".{name}.tmp"):
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry)
                    elif entry.exists() or entry.is_symlink():
                        entry.unlink()
        except OSError as exc:
            raise InputError(f"cannot clear the previous run from {run_dir}: {_reason(exc)} ({exc.filename})",
                             hint=_RUN_DIR_HINT) from None
    try:
        _probe(run_dir)
    except OSError as exc:
        raise InputError(f"the run directory {run_dir} is not writable: {_reason(exc)}",
                         hint="free some space, or pass --run-dir a directory on another file system") from None


def _probe(run_dir: Path) -> None:
    """Write a few bytes to a new file in `run_dir`, sync them, and remove the file again."""
    probe = run_dir / f".osiris-tui-probe-{os.urandom(4).hex()}"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, b"osiris-tui\n" * 16)
        os.fsync(fd)
    finally:
        os.close(fd)
        try:
            probe.unlink()
        except OSError:
            pass


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class ExecutionContext:
    """One run's context: identity, run directory, the event/metric log and the stop signal.

    `events` and `metrics` hold the lines as written (Osiris's shapes); subscribers of `stream` get the
    same lines as typed, numbered records. `cancel_event` is the running step's `Cancellation`:
    `for_step` starts a new one, already cancelled once `stop()` was called.
    """

    def __init__(self, run_dir: Path, session_id: str | None = None, *, base_dir: Path | None = None,
                 stream: RecordStream | None = None) -> None:
        self.session_id = session_id or run_dir.name
        self.run_dir = run_dir
        self.artifacts_dir = run_dir / "artifacts"
        self.base_dir = base_dir or Path.cwd()
        self.events: list[Line] = []
        self.metrics: list[Line] = []
        self.stream = stream or RecordStream()
        self._lock = threading.RLock()
        self._files: dict[str, IO[str]] = {}
        self.write_failures: dict[str, str] = {}  # file name → why it stopped being written
        self._unreported: list[tuple[str, str]] = []
        self.cancel_event = Cancellation()
        self.stop_reason: str | None = None
        run_dir.mkdir(parents=True, exist_ok=True)
        self.artifacts_dir.mkdir(exist_ok=True)
        self.previous = PreviousRun(run_dir)  # (what an earlier run here left, to write over)

    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        """Call `callback(record)` for every record from now on; returns an unsubscribe function."""
        return self.stream.subscribe(callback)

    # -- stopping ----------------------------------------------------------------------------------
    def stop(self, reason: str = "interrupted") -> None:
        """Cancel the running step and every step started after this."""
        with self._lock:
            if self.stop_reason is None:
                self.stop_reason = reason
            current = self.cancel_event
        current.cancel(reason)

    @property
    def stopped(self) -> bool:
        return self.stop_reason is not None

    # -- logging -----------------------------------------------------------------------------------
    def log_event(self, name: str, **fields: Any) -> Line:
        masked = mask_value(fields, plain_keys=PLAIN_EVENT_KEYS)
        line = {"ts": utc_now(), "session": self.session_id, "event": name, **masked}
        self.stream.emit(lambda seq: EventRecord(seq, name, line), lambda _: self._write("events", self.events, line))
        self._report_write_failures()
        return line

    def log_metric(self, name: str, value: Any, **extra: Any) -> Line:
        line = {"ts": utc_now(), "session": self.session_id, "metric": name, **mask_value({"value": value, **extra})}
        self.stream.emit(lambda seq: MetricRecord(seq, name, line["value"], line),
                         lambda _: self._write("metrics", self.metrics, line))
        self._report_write_failures()
        return line

    def _write(self, stream: str, store: list[Line], line: Line) -> None:
        # Masked again as it is written (defence in depth: the file is what outlives the run).
        text = json.dumps(mask_value(line, plain_keys=PLAIN_EVENT_KEYS), default=_json_default, ensure_ascii=False)
        name = f"{stream}.jsonl"
        with self._lock:
            store.append(line)
            if name in self.write_failures:
                return
            try:
                fh = self._files.get(stream)
                if fh is None:
                    # Kept open for the run (closed in close()): one open per line would dominate a flood.
                    fh = self._files[stream] = open(self.run_dir / name, "a", encoding="utf-8")  # noqa: SIM115
                fh.write(text + "\n")
                fh.flush()
            except (OSError, ValueError) as exc:
                self._write_failed(stream, name, exc)

    def _write_failed(self, stream: str, name: str, exc: BaseException) -> None:
        """Stop writing `name` (a half-written line may already be there), say so once, keep running."""
        reason = describe_os_error(exc, self.run_dir / name)
        self.write_failures[name] = reason
        fh = self._files.pop(stream, None)
        if fh is not None:
            try:
                fh.close()
            except (OSError, ValueError):
                pass
        self.warn(f"{reason}; the run goes on, {name} stays incomplete (the records are kept in memory)")
        self._unreported.append((name, reason))

    def _report_write_failures(self) -> None:
        """Log `log_write_failed` for each newly failed file, after the record whose write failed (so the
        stream's order holds); the failed file is no longer written, so this cannot fail the same way."""
        while self._unreported:
            with self._lock:
                if not self._unreported:
                    return
                name, reason = self._unreported.pop(0)
            self.log_event("log_write_failed", file=name, error=reason)

    def warn(self, text: str) -> None:
        """One line on stderr; nothing happens when stderr itself is gone."""
        try:
            err = sys.stderr
            if err is not None:
                err.write(mask_text(f"osiris-tui: warning: {text}") + "\n")
                err.flush()
        except (OSError, ValueError):
            pass

    def for_step(self, step_id: str) -> StepRunContext:
        output_dir = self.artifacts_dir / step_id
        if not self.previous.take_step_dir(output_dir):
            output_dir.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self.cancel_event = cancellation = Cancellation()
            if self.stop_reason is not None:
                cancellation.cancel(self.stop_reason)
        return StepRunContext(self, step_id, output_dir, cancellation)

    def write_json(self, relative: str, data: Any) -> Path:
        """Write a JSON file under the run directory whole or not at all (a reader never sees half of it)."""
        path = self.run_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            tmp.write_text(json.dumps(mask_value(data), indent=2, default=_json_default, ensure_ascii=False) + "\n")
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    def close(self) -> None:
        self.previous.close()
        with self._lock:
            for fh in self._files.values():
                try:
                    fh.close()
                except (OSError, ValueError):  # its last flush failed: already reported or nothing to lose
                    pass
            self._files.clear()


class StepRunContext(CancellableStep):
    """The `ctx` a driver receives: Osiris's `output_dir` + `log_metric`, plus `log_event` and cancellation.

    Once the step has ended (`detach()`: it finished, failed or was abandoned after a cancel), what the
    driver still logs is dropped, so a driver left running in the background cannot add to the run.
    """

    def __init__(self, parent: ExecutionContext, step_id: str, output_dir: Path,
                 cancellation: Cancellation | None = None) -> None:
        self.parent = parent
        self.step_id = step_id
        self.output_dir = output_dir
        self.artifacts_dir = output_dir  # the name E2B's context uses
        self.base_dir = parent.base_dir
        self.session_id = parent.session_id
        self.cancellation = cancellation or parent.cancel_event
        self.detached = False

    def detach(self) -> None:
        self.detached = True

    def log_metric(self, name: str, value: Any, **extra: Any) -> None:
        if self.detached:
            return
        extra.setdefault("step_id", self.step_id)
        self.parent.log_metric(name, value, **extra)

    def log_event(self, name: str, **fields: Any) -> None:
        if self.detached:
            return
        fields.setdefault("step_id", self.step_id)
        self.parent.log_event(name, **fields)



if TYPE_CHECKING:
    _step_run_context_is_a_step_context: type[StepContext] = StepRunContext
