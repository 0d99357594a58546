"""StepStatus: what the session says of one step (its state, rows, time, error), as the screens show it.

Kept apart from the session so that the first screen can be drawn before the runtime is imported.
"""

from __future__ import annotations

from dataclasses import dataclass

from osiris_tui.runtime.records import StepState


@dataclass(frozen=True)
class StepStatus:
    step_id: str
    state: StepState = StepState.PENDING
    rows: int | None = None
    duration: float | None = None
    error: str | None = None
    traceback: str | None = None
    started_at: float | None = None  # time.monotonic() when it started running
    runs: int = 0
    cancelled: bool = False  # its last run was cancelled (it is next again)
    cached_age: float | None = None  # taken from a checkpoint this many seconds old (not run)
