"""StatusBoard: each step's StepStatus, and what the session asks of all of them at every step.

The next step to run, the steps paused and the frames that steps still to run read are kept up to date
as statuses are set, so that each step costs the same however many steps the pipeline has (working
them out from every status, at every step, made a long run's steps dearer the further it got).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from osiris_tui.runtime.records import StepState
from osiris_tui.runtime.step_status import StepStatus

CLOSED = frozenset({StepState.DONE, StepState.SKIPPED})  # what the run does not come back to


class StatusBoard(dict[str, StepStatus]):
    """Step id → StepStatus, for the steps of `order` (the run order). Set statuses by item only.

    `reads` are the frames each step of the plan reads (steps outside it read none)."""

    def __init__(self, order: Iterable[str], reads: Mapping[str, Iterable[str]]) -> None:
        super().__init__()
        self._order = list(order)
        self._position = {sid: i for i, sid in enumerate(self._order)}
        self._reads = {sid: tuple(frames) for sid, frames in reads.items()}
        self._first_open = 0  # every step before this position is closed
        self._open_readers: Counter[str] = Counter()  # frame → steps not closed that read it
        self.paused: set[str] = set()
        for sid in self._order:
            self[sid] = StepStatus(sid)

    def __setitem__(self, step_id: str, status: StepStatus) -> None:
        old = self.get(step_id)
        super().__setitem__(step_id, status)
        was_open = old is not None and old.state not in CLOSED
        is_open = status.state not in CLOSED
        if is_open:
            self._first_open = min(self._first_open, self._position[step_id])
        if was_open != is_open:
            change = 1 if is_open else -1
            for frame in self._reads.get(step_id, ()):
                self._open_readers[frame] += change
                if not self._open_readers[frame]:
                    del self._open_readers[frame]
        if status.state is StepState.PAUSED:
            self.paused.add(step_id)
        else:
            self.paused.discard(step_id)

    def next_open(self) -> str | None:
        """The first step, in run order, that is neither done nor skipped."""
        while self._first_open < len(self._order):
            step_id = self._order[self._first_open]
            if self[step_id].state not in CLOSED:
                return step_id
            self._first_open += 1
        return None

    def needed(self) -> set[str]:
        """The frames that steps not done (nor skipped) read."""
        return set(self._open_readers)
