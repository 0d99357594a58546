"""The output a step had before it ran again, one per step, for "what changed" (the Data tab's diff).

A re-run replaces a step's output, and the steps below it lose theirs until they run again; the
session hands the replaced tables here first. Only the last replaced output of each step is kept
(a second re-run replaces the first one kept), and a restart drops them all.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class PreviousOutput:
    table: pa.Table
    run: int  # which run of the step produced it (1: its first)


class PreviousOutputs:
    """Step id → its previous output. Thread-safe."""

    def __init__(self) -> None:
        self._kept: dict[str, PreviousOutput] = {}
        self._lock = threading.Lock()

    def keep(self, step_id: str, table: pa.Table, run: int) -> None:
        with self._lock:
            self._kept[step_id] = PreviousOutput(table, run)

    def get(self, step_id: str) -> PreviousOutput | None:
        with self._lock:
            return self._kept.get(step_id)

    def drop(self, step_id: str) -> None:
        with self._lock:
            self._kept.pop(step_id, None)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
