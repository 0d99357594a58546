"""ExecutionContext: the run's event and metric log (in memory, in JSONL files, and to subscribers).

Lines follow Osiris's `session_logging` shapes: events are `{"ts", "session", "event", ...flat fields}`,
metrics `{"ts", "session", "metric", "value", ...extra}`. Every record is masked before it is stored,
written or handed to a subscriber, and every metric a step emits carries its `step_id`.
"""

from __future__ import annotations

import json
import logging
import secrets as _random
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from osiris_tui.drivers.base import StepCancelled
from osiris_tui.secrets import mask_value

Record = dict[str, Any]
Subscriber = Callable[[Record], None]
# Event fields that name things rather than hold credentials (Osiris's redactor never masks a bare `key`).
PLAIN_EVENT_KEYS = frozenset({"key"})


class Subscribers:
    """A thread-safe list of callbacks. A callback that raises is logged and skipped: an observer must
    never break the driver or the run that produced the record."""

    def __init__(self) -> None:
        self._callbacks: list[Subscriber] = []
        self._lock = threading.Lock()

    def add(self, callback: Subscriber) -> Callable[[], None]:
        """Register `callback`; returns the function that unregisters it."""
        with self._lock:
            self._callbacks.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return remove

    def publish(self, record: Record) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(record)
            except Exception:
                logging.getLogger(__name__).exception("subscriber failed")


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
    """One run's context: identity, run directory, and the event/metric log.

    Records are `kind`-tagged for subscribers (`{"kind": "event"|"metric", ...}`); the stored and
    written lines have no `kind`.
    """

    def __init__(self, run_dir: Path, session_id: str | None = None, *, base_dir: Path | None = None) -> None:
        self.session_id = session_id or run_dir.name
        self.run_dir = run_dir
        self.artifacts_dir = run_dir / "artifacts"
        self.base_dir = base_dir or Path.cwd()
        self.events: list[Record] = []
        self.metrics: list[Record] = []
        self.subscribers = Subscribers()
        self._lock = threading.RLock()
        self._files: dict[str, IO[str]] = {}
        self.cancel_event = threading.Event()
        run_dir.mkdir(parents=True, exist_ok=True)
        self.artifacts_dir.mkdir(exist_ok=True)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(record)` for every event and metric from now on; returns an unsubscribe function."""
        return self.subscribers.add(callback)

    # -- logging -----------------------------------------------------------------------------------
    def log_event(self, name: str, **fields: Any) -> Record:
        masked = mask_value(fields, plain_keys=PLAIN_EVENT_KEYS)
        record = {"ts": utc_now(), "session": self.session_id, "event": name, **masked}
        self._emit("events", self.events, record)
        return record

    def log_metric(self, name: str, value: Any, **extra: Any) -> Record:
        record = {"ts": utc_now(), "session": self.session_id, "metric": name}
        record.update(mask_value({"value": value, **extra}))
        self._emit("metrics", self.metrics, record)
        return record

    def _emit(self, stream: str, store: list[Record], record: Record) -> None:
        # Masked again as it is written (defence in depth: the file is what outlives the run).
        line = json.dumps(mask_value(record, plain_keys=PLAIN_EVENT_KEYS), default=_json_default, ensure_ascii=False)
        with self._lock:
            store.append(record)
            fh = self._files.get(stream)
            if fh is None:
                # Kept open for the run (closed in close()): one open per line would dominate a flood.
                fh = self._files[stream] = open(self.run_dir / f"{stream}.jsonl", "a", encoding="utf-8")  # noqa: SIM115
            fh.write(line + "\n")
            fh.flush()
        self.subscribers.publish({"kind": stream[:-1], **record})

    def for_step(self, step_id: str) -> StepRunContext:
        output_dir = self.artifacts_dir / step_id
        output_dir.mkdir(parents=True, exist_ok=True)
        return StepRunContext(self, step_id, output_dir)

    def write_json(self, relative: str, data: Any) -> Path:
        path = self.run_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(mask_value(data), indent=2, default=_json_default, ensure_ascii=False) + "\n")
        return path

    def close(self) -> None:
        with self._lock:
            for fh in self._files.values():
                fh.close()
            self._files.clear()


class StepRunContext:
    """The `ctx` a driver receives: Osiris's `output_dir` + `log_metric`, plus `log_event` and cancellation."""

    def __init__(self, parent: ExecutionContext, step_id: str, output_dir: Path) -> None:
        self.parent = parent
        self.step_id = step_id
        self.output_dir = output_dir
        self.artifacts_dir = output_dir  # the name E2B's context uses
        self.base_dir = parent.base_dir
        self.session_id = parent.session_id

    def log_metric(self, name: str, value: Any, **extra: Any) -> None:
        extra.setdefault("step_id", self.step_id)
        self.parent.log_metric(name, value, **extra)

    def log_event(self, name: str, **fields: Any) -> None:
        fields.setdefault("step_id", self.step_id)
        self.parent.log_event(name, **fields)

    def check_cancelled(self) -> None:
        if self.parent.cancel_event.is_set():
            raise StepCancelled(f"step '{self.step_id}' interrupted")

    @property
    def cancelled(self) -> bool:
        return self.parent.cancel_event.is_set()
