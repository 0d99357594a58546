"""A worker process for steps whose driver cannot be stopped in this process.

Modelled on Osiris's E2B transparent proxy: the host sends `exec_step` (the driver's factory, the
step's config and inputs) and the worker streams `event` / `metric` messages back, then a `result`
or an `error`. A cancel sets a shared flag the worker's `ctx` checks and fires its hooks; if the step
has not ended `KILL_AFTER` seconds later the host kills the process and starts a new one for the
next step. Cached frames live in the host, so nothing a finished step produced is lost with it.
"""

from __future__ import annotations

import signal
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from osiris_tui.drivers.base import StepCancelled, StepContext
from osiris_tui.runtime.cancel import CancellableStep, Cancellation
from osiris_tui.runtime.context import StepRunContext

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

KILL_AFTER = 0.5  # seconds between a cancel and killing the worker
_POLL = 0.05


class WorkerStepError(Exception):
    """A step that failed in the worker: its message, exception type name and traceback from there."""

    def __init__(self, message: str, type_name: str, remote_traceback: str) -> None:
        super().__init__(message)
        self.type_name = type_name
        self.remote_traceback = remote_traceback


class WorkerDied(RuntimeError):
    """The worker process ended without answering (killed by the system, or crashed in C)."""


# -- the worker side ---------------------------------------------------------------------------------
class _WorkerContext(CancellableStep):
    """The `ctx` a driver gets in the worker: the same surface as `StepRunContext`, sent to the host."""

    def __init__(self, conn: Connection, flag: Any, step_id: str, output_dir: str, base_dir: str,
                 session_id: str) -> None:
        self._conn = conn
        self._send_lock = threading.Lock()
        self.step_id = step_id
        self.output_dir = self.artifacts_dir = Path(output_dir)
        self.base_dir = Path(base_dir)
        self.session_id = session_id
        self.cancellation = Cancellation()
        self._flag = flag
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        while not self.cancellation.is_set():
            if self._flag.wait(_POLL):
                self.cancellation.cancel()

    def send(self, message: tuple[Any, ...]) -> None:
        with self._send_lock:
            self._conn.send(message)

    def log_metric(self, name: str, value: Any, **extra: Any) -> None:
        extra.setdefault("step_id", self.step_id)
        self.send(("metric", name, value, extra))

    def log_event(self, name: str, **fields: Any) -> None:
        fields.setdefault("step_id", self.step_id)
        self.send(("event", name, fields))



if TYPE_CHECKING:
    _worker_context_is_a_step_context: type[StepContext] = _WorkerContext


def _factory(target: Any) -> Any:
    if isinstance(target, str):
        from osiris_tui.drivers.registry import import_target

        return import_target(target)
    return target


def worker_main(conn: Connection, flag: Any) -> None:
    """The worker's loop: one `exec_step` at a time until `close` (or the pipe closes)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the host decides when a step stops
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message[0] == "close":
            return
        _, payload = message
        ctx = _WorkerContext(conn, flag, payload["step_id"], payload["output_dir"], payload["base_dir"],
                             payload["session_id"])
        driver: Any = None
        outcome: tuple[Any, ...]
        try:
            driver = _factory(payload["target"])()
            result = driver.run(step_id=payload["step_id"], config=payload["config"], inputs=payload["inputs"],
                                ctx=ctx)
            outcome = ("result", result)
        except BaseException as exc:
            cancelled = isinstance(exc, StepCancelled) or ctx.cancelled
            outcome = ("error", str(exc), type(exc).__name__, "".join(traceback.format_exception(exc)), cancelled)
        close = getattr(driver, "close", None)
        if callable(close):
            try:
                close()
            except Exception as exc:
                ctx.log_event("driver_close_failed", error=str(exc))
        ctx.cancellation.cancel()  # stops the watcher thread
        ctx.send(outcome)


# -- the host side -----------------------------------------------------------------------------------
class ProcessWorker:
    """The host's handle on one worker process at a time (started on first use, replaced after a kill)."""

    def __init__(self) -> None:
        import multiprocessing  # (only a session with an isolated plugin step needs it)

        self._mp = multiprocessing.get_context("spawn")  # never fork a process that runs threads
        self._lock = threading.Lock()
        self._process: Any = None
        self._conn: Connection | None = None
        self._flag: Any = None

    def start(self) -> None:
        """Start the worker now (in the background of a session, so the first isolated step need not wait)."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> tuple[Any, Connection, Any]:
        if self._process is None or not self._process.is_alive():
            host, child = self._mp.Pipe()
            flag = self._mp.Event()
            process = self._mp.Process(target=worker_main, args=(child, flag), name="osiris-tui-worker", daemon=True)
            process.start()
            child.close()
            self._process, self._conn, self._flag = process, host, flag
        assert self._conn is not None
        return self._process, self._conn, self._flag

    def run_step(self, target: Any, *, step_id: str, config: dict[str, Any], inputs: dict[str, Any] | None,
                 ctx: StepRunContext) -> Any:
        """Run the driver made by `target` (a factory or an import path) in the worker; its result dict."""
        with self._lock:
            process, conn, flag = self._ensure()
            flag.clear()
            conn.send(("exec_step", {"target": target, "step_id": step_id, "config": config, "inputs": inputs,
                                     "output_dir": str(ctx.output_dir), "base_dir": str(ctx.base_dir),
                                     "session_id": ctx.session_id}))
            kill_at: float | None = None
            while True:
                if ctx.cancelled and kill_at is None:
                    flag.set()
                    kill_at = time.monotonic() + KILL_AFTER
                if kill_at is not None and time.monotonic() >= kill_at:
                    self._kill()
                    raise StepCancelled(f"step '{step_id}' {ctx.cancellation.reason} "
                                        "(its worker process was stopped)")
                try:
                    ready = conn.poll(_POLL)
                    message = conn.recv() if ready else None
                except (EOFError, OSError):
                    message = None
                    ready = True
                if message is None:
                    if ready or not process.is_alive():
                        code = process.exitcode
                        self._kill()
                        if ctx.cancelled:
                            raise StepCancelled(f"step '{step_id}' {ctx.cancellation.reason}")
                        raise WorkerDied(f"the worker process running step '{step_id}' died (exit code {code})")
                    continue
                kind = message[0]
                if kind == "event":
                    ctx.log_event(message[1], **message[2])
                elif kind == "metric":
                    ctx.log_metric(message[1], message[2], **message[3])
                elif kind == "result":
                    return message[1]
                elif kind == "error":
                    _, text, type_name, tb, cancelled = message
                    if cancelled:
                        raise StepCancelled(text or f"step '{step_id}' {ctx.cancellation.reason}")
                    raise WorkerStepError(text, type_name, tb)

    def _kill(self) -> None:
        process, self._process = self._process, None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if process is not None:
            process.kill()
            process.join(1.0)

    def close(self) -> None:
        """Stop the worker (asked politely first; killed when it does not go)."""
        with self._lock:
            if self._process is not None and self._process.is_alive() and self._conn is not None:
                try:
                    self._conn.send(("close",))
                    self._process.join(0.5)
                except OSError:
                    pass
            self._kill()
