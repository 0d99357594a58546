"""Cancellation: the signal that stops a running step, and the hooks that make a driver hear it.

A driver that blocks in C (a DuckDB query, a socket read) cannot poll a flag, so besides
`check()` a driver registers what stops it (`on_cancel(connection.interrupt)`); `cancel()` calls
those hooks at once, from the thread that cancels.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from osiris_tui.drivers.base import StepCancelled

logger = logging.getLogger(__name__)


class Cancellation:
    """A one-shot stop signal with hooks. Thread-safe; `set()`/`is_set()` read as a `threading.Event`."""

    def __init__(self, reason: str = "cancelled") -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._hooks: list[Callable[[], None]] = []
        self.reason = reason

    def cancel(self, reason: str | None = None) -> None:
        with self._lock:
            if self._event.is_set():
                return
            if reason is not None:
                self.reason = reason
            self._event.set()
            hooks, self._hooks = self._hooks, []
        for hook in hooks:
            self._run(hook)

    set = cancel

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._event.wait(timeout)

    def check(self, what: str = "step") -> None:
        if self._event.is_set():
            raise StepCancelled(f"{what} {self.reason}")

    def on_cancel(self, hook: Callable[[], None]) -> Callable[[], None]:
        """Call `hook` when cancelled (at once if already). Returns the function that unregisters it."""
        with self._lock:
            fired = self._event.is_set()
            if not fired:
                self._hooks.append(hook)
        if fired:
            self._run(hook)

        def remove() -> None:
            with self._lock:
                if hook in self._hooks:
                    self._hooks.remove(hook)

        return remove

    @staticmethod
    def _run(hook: Callable[[], None]) -> None:
        try:
            hook()
        except Exception:  # a hook that fails must not stop the others (the connection may be gone already)
            logger.debug("cancel hook failed", exc_info=True)


class CancellableStep:
    """What a step's `ctx` offers around its `Cancellation` (shared by the in-process and worker contexts)."""

    step_id: str
    cancellation: Cancellation

    def check_cancelled(self) -> None:
        """Raise `StepCancelled` once the step was cancelled (long drivers call this between chunks)."""
        self.cancellation.check(f"step '{self.step_id}'")

    def on_cancel(self, hook: Callable[[], None]) -> Callable[[], None]:
        """Call `hook` (from the cancelling thread) when the step is cancelled; returns the unregister function."""
        return self.cancellation.on_cancel(hook)

    @property
    def cancelled(self) -> bool:
        return self.cancellation.is_set()
