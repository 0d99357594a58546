"""Where the run's time went: each step's start (from the run's first event) and duration.

`StepStarts` reads the session's event list incrementally (a list only grows during a run; a restart
brings a new one): the run's origin is its first event's `ts`, and a step's start is the `ts` of its
latest `step_start` (a re-run moves it). `spans` joins those with the steps' statuses: a finished or
failed step has its recorded duration, a running one the time since it started (so its bar grows),
a step not run (or reset by a re-run upstream) none.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from osiris_tui.runtime.records import StepState


@dataclass(frozen=True, slots=True)
class Span:
    step_id: str
    start: float  # seconds after the run's first event
    duration: float
    state: StepState


def parse_ts(value: Any) -> dt.datetime | None:
    """An event's `ts` (`2026-01-02T03:04:05.678Z`) as an aware datetime; None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass
class StepStarts:
    origin: dt.datetime | None = None
    starts: dict[str, float] = field(default_factory=dict)  # step → seconds after `origin`
    _source: Any = None
    _seen: int = 0

    def update(self, events: list[dict[str, Any]]) -> None:
        if events is not self._source or len(events) < self._seen:  # a new run
            self.origin, self.starts = None, {}
            self._source, self._seen = events, 0
        for event in events[self._seen:]:
            ts = parse_ts(event.get("ts"))
            if ts is None:
                continue
            if self.origin is None:
                self.origin = ts
            if event.get("event") == "step_start" and event.get("step_id") is not None:
                self.starts[str(event["step_id"])] = (ts - self.origin).total_seconds()
        self._seen = len(events)


def spans(starts: StepStarts, statuses: Iterable[Any], now: float | None = None) -> list[Span]:
    """A span for each step that ran or runs (`statuses`: `StepStatus`es in run order; `now`: the
    `time.monotonic()` the running step's duration is measured to)."""
    now = time.monotonic() if now is None else now
    result = []
    for status in statuses:
        start = starts.starts.get(status.step_id)
        if status.state is StepState.RUNNING and status.started_at is not None:
            duration = max(0.0, now - status.started_at)
        elif status.state in (StepState.DONE, StepState.FAILED) and status.duration is not None:
            duration = status.duration
        else:
            continue
        if start is None:
            continue
        result.append(Span(status.step_id, start, duration, status.state))
    return result
