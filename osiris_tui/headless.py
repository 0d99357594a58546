"""`osiris-tui run`: the debug session with "continue" pressed and every record printed.

Ctrl+C and SIGTERM stop the running step and end the run as interrupted (exit 130 / 143); signals
that arrive while the run is being wound up are noted, not obeyed, so status.json is always written.
A closed or full stdout never stops the run: printing stops, the files under the run directory
still get everything.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from osiris_tui.errors import (
    EXIT_BAD_INPUT,
    EXIT_BREAKPOINT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_STEP_FAILED,
    EXIT_TERMINATED,
)
from osiris_tui.runtime.records import EventRecord, MetricRecord, Record, StateChange
from osiris_tui.runtime.session import DebugSession, RunState, StepState
from osiris_tui.secrets import mask_text

_QUIET_FIELDS = {"ts", "session", "event", "metric", "value", "step_id", "traceback"}
_MAX_VALUE = 80
NAME_WIDTH = 30  # fits every event name Osiris and osiris-tui write; longer ones are cut with "…"


def _short(value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif type(value) is int:  # (most fields are counts: what json.dumps writes, without its encoder)
        text = str(value)
    else:
        text = json.dumps(value, default=str, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def format_record(record: EventRecord | MetricRecord, step_width: int = 20) -> str:
    """One readable line: time, name, step, then the fields as key=value (a metric's value first)."""
    data = record.data
    clock = str(data.get("ts", ""))[11:23]
    name = f"◆ {record.name}" if isinstance(record, MetricRecord) else record.name
    step = str(data.get("step_id") or "")
    fields = [f"value={_short(record.value)}"] if isinstance(record, MetricRecord) else []
    fields += [f"{k}={_short(v)}" for k, v in data.items() if k not in _QUIET_FIELDS]
    line = f"{clock}  {_cut(name, NAME_WIDTH):<{NAME_WIDTH}} {step:<{step_width}} {' '.join(fields)}"
    return mask_text(line.rstrip())


class Printer:
    """Prints records as they arrive (from the thread that emitted them), as text or JSON lines."""

    def __init__(self, out: TextIO, as_json: bool, step_ids: Sequence[str] = ()) -> None:
        self.out = out
        self.as_json = as_json
        self.step_width = max([20, *(len(s) for s in step_ids)])
        self.broken = False  # stdout went away: keep running, stop printing
        self._lock = threading.Lock()

    def __call__(self, record: Record) -> None:
        if not isinstance(record, EventRecord | MetricRecord):
            return
        if self.as_json:
            line = mask_text(json.dumps(dict(record.data), default=str, ensure_ascii=False))
        else:
            line = format_record(record, self.step_width)
        self.write(line)

    def write(self, text: str) -> None:
        with self._lock:
            if self.broken:
                return
            try:
                self.out.write(text + "\n")
                self.out.flush()
            except (OSError, ValueError):  # a closed pipe (`| head -1`), a full disk (/dev/full), a closed file
                self.broken = True
                self._silence()

    def _silence(self) -> None:
        """Point a broken stdout at /dev/null, so Python's own flush at exit has nowhere to fail (what the
        Python docs on SIGPIPE recommend) and prints no "Exception ignored … BrokenPipeError"."""
        if self.out is not sys.stdout and self.out is not sys.__stdout__:
            return
        try:
            fd = self.out.fileno()
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, fd)
            finally:
                os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass


def summary_table(session: DebugSession) -> str:
    rows = [("step", "status", "rows", "duration")]
    for st in session.statuses():
        state = "cancelled" if st.cancelled else "cached" if st.cached_age is not None else (
            "not run" if st.state in (StepState.PENDING, StepState.PAUSED) else str(st.state))
        rows.append((st.step_id, state, "" if st.rows is None else f"{st.rows:,}",
                     "" if st.duration is None else f"{st.duration:.2f}s"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for n, r in enumerate(rows):
        cells = zip(r, widths, strict=True)
        lines.append("  ".join(c.rjust(w) if i >= 2 else c.ljust(w) for i, (c, w) in enumerate(cells)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def summary_record(session: DebugSession) -> dict[str, Any]:
    """The last line of `--json`: the run's outcome, each step's, and where the files are."""
    summary = dict(session.summary or {})
    steps = [{"step_id": st.step_id, "state": str(st.state), "rows": st.rows, "duration": st.duration,
              **({"cached_age": round(st.cached_age, 3)} if st.cached_age is not None else {})}
             for st in session.statuses()]
    return {"type": "summary", **summary, "steps": steps, "run_dir": str(session.context.run_dir)}


class Stop(KeyboardInterrupt):
    """Ctrl+C or SIGTERM, as an exception in the main thread."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StopSignals:
    """SIGINT and SIGTERM raise `Stop`; while `holding`, they are only noted (cleanup must finish)."""

    def __init__(self) -> None:
        self.holding = False
        self.received: list[int] = []

    def _handle(self, signum: int, frame: Any) -> None:
        self.received.append(signum)
        if not self.holding:
            raise Stop(signum)

    @contextmanager
    def installed(self) -> Iterator[StopSignals]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def save_outputs(session: DebugSession, directory: Path) -> list[dict[str, Any]]:
    """Each step's cached output frame as `directory/<step id>.parquet` (exact, atomic; step ids are
    valid file names); steps without a frame write nothing. One record per file written."""
    from osiris_tui.frames.export import write_parquet

    directory.mkdir(parents=True, exist_ok=True)
    saved = []
    for step_id in session.pipeline.step_ids:
        table = session.output_table(step_id)
        if table is None:
            continue
        path = directory / f"{step_id}.parquet"
        write_parquet(table, path)
        saved.append({"step_id": step_id, "path": str(path), "rows": table.num_rows})
    return saved


def _over(session: DebugSession) -> bool:
    """The run ended, or stopped at a breakpoint, and nothing is left to do; or its worker thread died."""
    ended = session.run_state in (RunState.FINISHED, RunState.FAILED, RunState.INTERRUPTED)
    return ((ended or session.last_hit is not None) and session.idle) or not session.alive


def wait_for_the_end(session: DebugSession) -> None:
    """Block until `_over`. Checked by the thread that changes the session's state, as it does (so a step
    costs no switch to this thread and back), and here every half second (a thread that dies says nothing)."""
    over = threading.Event()

    def check(record: Record) -> None:
        if isinstance(record, StateChange) and _over(session):
            over.set()

    unsubscribe = session.subscribe(check)
    try:
        while not (over.is_set() or _over(session)):
            over.wait(0.5)
    finally:
        unsubscribe()


def run_headless(session: DebugSession, *, as_json: bool = False, out: TextIO | None = None,
                 err: TextIO | None = None, save_outputs: Path | None = None) -> int:
    """Run to the end (or the first failure); print records, then a summary. Returns the exit code.
    With `save_outputs`, the step outputs are written there as Parquet before the session closes."""
    out = out or sys.stdout
    err = err or sys.stderr
    printer = Printer(out, as_json, session.pipeline.step_ids)
    session.subscribe(printer, replay=True)  # what prepare logged comes first
    signals = StopSignals()
    stopped_by: int | None = None
    saved: list[dict[str, Any]] = []
    with signals.installed():
        try:
            session.continue_()
            wait_for_the_end(session)
            if save_outputs is not None:
                saved = _save(session, save_outputs, printer, as_json, err)
        except KeyboardInterrupt as exc:
            signals.holding = True
            stopped_by = exc.signum if isinstance(exc, Stop) else signal.SIGINT
            session.interrupt("interrupted by SIGTERM" if stopped_by == signal.SIGTERM else "interrupted")
        finally:
            signals.holding = True
            session.close()
    failed = session.failed_step_id()
    hit = session.last_hit if stopped_by is None and failed is None else None
    if as_json:
        record = summary_record(session)
        if save_outputs is not None:
            record["saved_outputs"] = saved
        if hit is not None:
            record["breakpoint_hit"] = {"step_id": hit.breakpoint.step_id, "when": hit.breakpoint.when,
                                        "condition": hit.breakpoint.condition, "error": hit.error,
                                        "message": hit.message}
        printer.write(mask_text(json.dumps(record, default=str, ensure_ascii=False)))
    else:
        printer.write("\n" + summary_table(session))
        printer.write(f"run directory: {session.context.run_dir}")
    if stopped_by is not None:
        _say(err, "osiris-tui: interrupted" + (" (SIGTERM)" if stopped_by == signal.SIGTERM else ""))
        return EXIT_TERMINATED if stopped_by == signal.SIGTERM else EXIT_INTERRUPTED
    if failed is not None:
        _say(err, f"osiris-tui: step '{failed}' failed: {session.status(failed).error}")
        return EXIT_STEP_FAILED
    if hit is not None:
        if hit.error is not None:
            _say(err, f"osiris-tui: --break {hit.breakpoint.spec()!r}: the condition failed: {hit.error}")
            return EXIT_BAD_INPUT
        _say(err, f"osiris-tui: stopped at breakpoint {hit.message}")
        return EXIT_BREAKPOINT
    if session.summary is None or not session.summary.get("ok", False):
        _say(err, "osiris-tui: the run did not finish (its worker thread ended early); see the run directory")
        return EXIT_STEP_FAILED
    return EXIT_OK


def _save(session: DebugSession, directory: Path, printer: Printer, as_json: bool,
          err: TextIO) -> list[dict[str, Any]]:
    try:
        saved = save_outputs(session, directory)
    except OSError as exc:
        _say(err, f"osiris-tui: cannot save the outputs to {directory}: {exc}")
        return []
    if not as_json:
        for item in saved:
            printer.write(f"saved {item['step_id']} -> {item['path']} ({item['rows']:,} rows)")
    return saved


def _say(err: TextIO, text: str) -> None:
    try:
        err.write(mask_text(text) + "\n")
        err.flush()
    except (OSError, ValueError):
        pass
