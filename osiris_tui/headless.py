"""`osiris-tui run`: the debug session with "continue" pressed and every event printed."""

from __future__ import annotations

import json
import sys
import threading
from typing import Any, TextIO

from osiris_tui.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_STEP_FAILED
from osiris_tui.runtime.context import Record
from osiris_tui.runtime.session import DebugSession, RunState, StepState
from osiris_tui.secrets import mask_text

_QUIET_FIELDS = {"ts", "session", "event", "metric", "kind", "step_id", "traceback"}
_MAX_VALUE = 80


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def format_record(record: Record) -> str:
    """One readable line: time, name, step, then the remaining fields as key=value."""
    clock = str(record.get("ts", ""))[11:23]
    if record.get("kind") == "metric":
        name = f"metric {record['metric']}={record['value']}"
    else:
        name = str(record.get("event"))
    step = record.get("step_id") or ""
    fields = " ".join(f"{k}={_short(v)}" for k, v in record.items() if k not in _QUIET_FIELDS and k != "value")
    return mask_text(f"{clock}  {name:<28} {step:<20} {fields}".rstrip())


class Printer:
    """Prints records as they arrive (from the worker thread), as text or JSON lines."""

    def __init__(self, out: TextIO, as_json: bool) -> None:
        self.out = out
        self.as_json = as_json
        self._lock = threading.Lock()

    def __call__(self, record: Record) -> None:
        if record.get("kind") == "state":
            return
        if self.as_json:
            payload = {k: v for k, v in record.items() if k != "kind"}
            line = mask_text(json.dumps(payload, default=str, ensure_ascii=False))
        else:
            line = format_record(record)
        with self._lock:
            self.out.write(line + "\n")
            self.out.flush()


def summary_table(session: DebugSession) -> str:
    rows = [("step", "status", "rows", "duration")]
    for st in session.statuses():
        state = "not run" if st.state in (StepState.PENDING, StepState.PAUSED) else str(st.state)
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


def run_headless(session: DebugSession, *, as_json: bool = False, out: TextIO | None = None,
                 err: TextIO | None = None) -> int:
    """Run to the end (or the first failure); print events, then a summary. Returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    session.subscribe(Printer(out, as_json))
    interrupted = False
    try:
        session.continue_()
        session.wait_until(lambda s: s.run_state in (RunState.FINISHED, RunState.FAILED, RunState.INTERRUPTED)
                           and not s.busy, timeout=float("inf"))
    except KeyboardInterrupt:
        interrupted = True
        session.interrupt()
    finally:
        session.close(timeout=10.0)
    failed = session.failed_step_id()
    if not as_json:
        out.write("\n" + summary_table(session) + "\n")
        out.write(f"run directory: {session.context.run_dir}\n")
        out.flush()
    if interrupted:
        err.write("osiris-tui: interrupted\n")
        return EXIT_INTERRUPTED
    if failed is not None:
        err.write(mask_text(f"osiris-tui: step '{failed}' failed: {session.status(failed).error}") + "\n")
        return EXIT_STEP_FAILED
    return EXIT_OK
