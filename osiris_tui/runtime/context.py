"""ExecutionContext: the run's event and metric log (in memory, in JSONL files, and to subscribers).

Lines follow Osiris's `session_logging` shapes: events are `{"ts", "session", "event", ...flat fields}`,
metrics `{"ts", "session", "metric", "value", ...extra}`. Every record is masked before it is stored,
written or handed to a subscriber, and every metric a step emits carries its `step_id`.
"""

from __future__ import annotations

import json
import secrets as _random
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from osiris_tui.runtime.cancel import CancellableStep, Cancellation
from osiris_tui.runtime.records import EventRecord, MetricRecord, RecordStream
from osiris_tui.secrets import mask_value

if TYPE_CHECKING:
    from osiris_tui.drivers.base import StepContext

Line = dict[str, Any]
# Event fields that name things rather than hold credentials (Osiris's redactor never masks a bare `key`).
PLAIN_EVENT_KEYS = frozenset({"key"})


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_run_id() -> str:
    """`YYYYMMDDTHHMMSSZ-<6 hex>`: sorts by time, unique enough for a run directory."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + _random.token_hex(3)


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
        self.cancel_event = Cancellation()
        self.stop_reason: str | None = None
        run_dir.mkdir(parents=True, exist_ok=True)
        self.artifacts_dir.mkdir(exist_ok=True)

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
        return line

    def log_metric(self, name: str, value: Any, **extra: Any) -> Line:
        line = {"ts": utc_now(), "session": self.session_id, "metric": name, **mask_value({"value": value, **extra})}
        self.stream.emit(lambda seq: MetricRecord(seq, name, line["value"], line),
                         lambda _: self._write("metrics", self.metrics, line))
        return line

    def _write(self, stream: str, store: list[Line], line: Line) -> None:
        # Masked again as it is written (defence in depth: the file is what outlives the run).
        text = json.dumps(mask_value(line, plain_keys=PLAIN_EVENT_KEYS), default=_json_default, ensure_ascii=False)
        with self._lock:
            store.append(line)
            fh = self._files.get(stream)
            if fh is None:
                # Kept open for the run (closed in close()): one open per line would dominate a flood.
                fh = self._files[stream] = open(self.run_dir / f"{stream}.jsonl", "a", encoding="utf-8")  # noqa: SIM115
            fh.write(text + "\n")
            fh.flush()

    def for_step(self, step_id: str) -> StepRunContext:
        output_dir = self.artifacts_dir / step_id
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
        with self._lock:
            for fh in self._files.values():
                fh.close()
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
