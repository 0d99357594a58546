"""The run's record stream: typed, ordered records of events, metrics and state changes.

Every record is a frozen dataclass with a sequence number taken where it is emitted, from one counter
per session, under the lock that also delivers it: subscribers see records in `seq` order, exactly
once, and a late subscriber can ask for the history first (`RecordStream.subscribe(replay=True)`)
without a gap or a duplicate between the two.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

logger = logging.getLogger(__name__)


class StepState(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"  # the run is paused before this step
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


class RunState(enum.StrEnum):
    READY = "ready"  # paused before the first step
    RUNNING = "running"
    PAUSED = "paused"
    FAILED = "failed"  # paused at a failed step
    FINISHED = "finished"
    INTERRUPTED = "interrupted"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An event as written to `events.jsonl`: `data` is the whole line (`ts`, `session`, `event`, fields)."""

    kind: ClassVar[str] = "event"
    seq: int
    name: str
    data: Mapping[str, Any]

    @property
    def step_id(self) -> str | None:
        return self.data.get("step_id")


@dataclass(frozen=True, slots=True)
class MetricRecord:
    """A metric as written to `metrics.jsonl`: `data` is the whole line (`ts`, `session`, `metric`, `value`…)."""

    kind: ClassVar[str] = "metric"
    seq: int
    name: str
    value: Any
    data: Mapping[str, Any]

    @property
    def step_id(self) -> str | None:
        return self.data.get("step_id")


@dataclass(frozen=True, slots=True)
class StateChange:
    """The run's state, and the step whose state changed (None when only the run's did)."""

    kind: ClassVar[str] = "state"
    seq: int
    run_state: RunState
    step_id: str | None = None
    step_state: StepState | None = None


Record = EventRecord | MetricRecord | StateChange
LogRecord = EventRecord | MetricRecord
Subscriber = Callable[[Record], None]


class RecordStream:
    """Numbers records and hands them to subscribers, in order, from the thread that emitted them.

    A subscriber must be quick and must not wait on another thread (the app's only appends to a
    buffer): records are delivered under the stream's lock, which is what keeps them in order. A
    subscriber that raises is logged and skipped, so an observer never breaks the run.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._seq = 0
        self._callbacks: list[Subscriber] = []
        self.history: list[Record] = []  # this run's records (a restart starts a new list)

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._seq

    def new_run(self) -> None:
        """Forget the history (sequence numbers keep counting, so they stay unique for the session)."""
        with self._lock:
            self.history = []

    def subscribe(self, callback: Subscriber, *, replay: bool = False) -> Callable[[], None]:
        """Register `callback`; with `replay`, first call it with this run's history. Returns the remover."""
        with self._lock:
            if replay:
                for record in self.history:
                    self._deliver(callback, record)
            self._callbacks.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return remove

    def emit(self, make: Callable[[int], Record], before: Callable[[Record], None] | None = None) -> Record:
        """Number a record (`make(seq)`), run `before(record)` (e.g. write it to a file), then deliver it."""
        with self._lock:
            self._seq += 1
            record = make(self._seq)
            if before is not None:
                before(record)
            self.history.append(record)
            for callback in list(self._callbacks):
                self._deliver(callback, record)
            return record

    def state(self, run_state: RunState, step_id: str | None = None, step_state: StepState | None = None) -> None:
        self.emit(lambda seq: StateChange(seq, run_state, step_id, step_state))

    @staticmethod
    def _deliver(callback: Subscriber, record: Record) -> None:
        try:
            callback(record)
        except Exception:
            logger.exception("subscriber failed")
