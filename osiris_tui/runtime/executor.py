"""Running one driver call so that it can always be stopped.

In this process: the call runs in a thread of its own while the caller waits for it or for the step's
cancellation. Built-in drivers stop cooperatively (they check `ctx.check_cancelled()` between chunks
and register hooks that break a blocking call: DuckDB's `interrupt()`, a socket shutdown). If a call
has not returned `ABANDON_AFTER` seconds after the cancel, it is abandoned: the step ends as
cancelled at once, the thread is left to finish on its own, and whatever it returns or logs is
dropped. That is safe only for drivers whose side effects stop with their hooks, which is why
drivers that cannot promise it run in a worker process instead (`runtime/worker.py`).

The threads are reused from call to call (a new thread per step costs more than a small step: DuckDB
sets itself up again in every thread that queries), each call in a fresh `contextvars` context, as in
a new thread; one that was abandoned joins the idle ones only once its call has returned.
"""

from __future__ import annotations

import contextvars
import logging
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from osiris_tui.drivers.base import StepCancelled
from osiris_tui.runtime.context import StepRunContext

logger = logging.getLogger(__name__)

ABANDON_AFTER = 0.75  # seconds between a cancel and giving up on the call


class _Runner:
    """A daemon thread that runs the calls handed to it, one at a time, and then waits for the next."""

    _idle: ClassVar[list[_Runner]] = []
    _idle_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[tuple[Callable[[], None], Callable[[], None]]] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name="osiris-tui-step", daemon=True)
        self.thread.start()

    @classmethod
    def take(cls) -> _Runner:
        with cls._idle_lock:
            if cls._idle:
                return cls._idle.pop()
        return cls()

    def run(self, work: Callable[[], None], name: str, then: Callable[[], None]) -> None:
        """`work()` under `name`; then this runner is idle again, then `then()`."""
        def named() -> None:
            self.thread.name = name
            try:
                contextvars.Context().run(work)
            except BaseException:  # (`work` keeps its call's exceptions: this thread must live on)
                logger.exception("a step thread's work failed")

        self._calls.put((named, then))

    def _loop(self) -> None:
        while True:
            work, then = self._calls.get()
            work()
            with self._idle_lock:  # (before `then`: the next step takes this thread, not a new one)
                _Runner._idle.append(self)
            then()


if hasattr(os, "register_at_fork"):  # (a forked child has none of these threads)
    os.register_at_fork(after_in_child=_Runner._idle.clear)


def run_cancellable(call: Callable[[], Any], ctx: StepRunContext, *, name: str = "step",
                    abandon_after: float = ABANDON_AFTER) -> Any:
    """`call()` in a thread; its result, or its exception re-raised; StepCancelled once cancelled."""
    wake = threading.Event()
    finished = threading.Event()
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = call()
        except BaseException as exc:  # handed to the waiting thread, which decides what it means
            outcome["error"] = exc

    def done() -> None:
        finished.set()
        wake.set()

    remove = ctx.on_cancel(wake.set)
    try:
        _Runner.take().run(target, f"osiris-tui-{name}", done)
        wake.wait()
        if not finished.is_set():  # woken by the cancel
            finished.wait(abandon_after)
            if not finished.is_set():
                ctx.detach()
                raise StepCancelled(f"{name} did not stop within {abandon_after:g} s of the cancel; "
                                    "it was abandoned and its result will be discarded")
    finally:
        remove()
    if "error" in outcome:
        error = outcome["error"]
        if ctx.cancelled and not isinstance(error, StepCancelled):
            # What a broken connection or an interrupted query raises, once we broke it on purpose.
            raise StepCancelled(f"{name} {ctx.cancellation.reason}") from error
        raise error
    # A call that returned despite a cancel did its work (a writer committed): it succeeded, and the
    # run stops before the next step.
    return outcome["result"]
