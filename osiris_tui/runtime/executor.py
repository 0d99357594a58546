"""Running one driver call so that it can always be stopped.

In this process: the call runs in its own thread while the caller waits for it or for the step's
cancellation. Built-in drivers stop cooperatively (they check `ctx.check_cancelled()` between chunks
and register hooks that break a blocking call: DuckDB's `interrupt()`, a socket shutdown). If a call
has not returned `ABANDON_AFTER` seconds after the cancel, it is abandoned: the step ends as
cancelled at once, the thread is left to finish on its own, and whatever it returns or logs is
dropped. That is safe only for drivers whose side effects stop with their hooks, which is why
drivers that cannot promise it run in a worker process instead (`runtime/worker.py`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from osiris_tui.drivers.base import StepCancelled
from osiris_tui.runtime.context import StepRunContext

ABANDON_AFTER = 0.75  # seconds between a cancel and giving up on the call


def run_cancellable(call: Callable[[], Any], ctx: StepRunContext, *, name: str = "step",
                    abandon_after: float = ABANDON_AFTER) -> Any:
    """`call()` in a thread; its result, or its exception re-raised; StepCancelled once cancelled."""
    wake = threading.Event()
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = call()
        except BaseException as exc:  # handed to the waiting thread, which decides what it means
            outcome["error"] = exc
        finally:
            wake.set()

    thread = threading.Thread(target=target, name=f"osiris-tui-{name}", daemon=True)
    remove = ctx.on_cancel(wake.set)
    try:
        thread.start()
        wake.wait()
        if "result" not in outcome and "error" not in outcome:  # woken by the cancel
            thread.join(abandon_after)
            if thread.is_alive():
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
