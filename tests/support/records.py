"""Typed records from plain dicts, for tests that feed views without a session behind them."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from osiris_tui.runtime.records import EventRecord, MetricRecord, Record, RunState, StateChange, StepState

# How a run that did not succeed ends, after `cleanup_complete` (Osiris's run-level events).
FAILED_END = ["execute_error", "adapter_execute_complete", "adapter_collect_start", "collect_start",
              "collect_complete", "adapter_collect_complete", "run_error", "run_end"]
# How a run stopped in the middle of a step ends.
STOPPED_TAIL = ["step_error", "execution_interrupted", "cleanup_complete", *FAILED_END]

_seq = itertools.count(1_000_000)  # far above what a test's session numbers


def as_records(items: Iterable[dict[str, Any]]) -> list[Record]:
    """`{"kind": "event"|"metric"|"state", ...}` dicts (the lines as written, plus `kind`) → records."""
    out: list[Record] = []
    for item in items:
        data = {k: v for k, v in item.items() if k != "kind"}
        kind = item.get("kind") or ("metric" if "metric" in item else "event")
        seq = next(_seq)
        if kind == "state":
            out.append(StateChange(seq, RunState(data.get("run_state", "running")), data.get("step_id"),
                                   StepState(data["state"]) if data.get("state") else None))
        elif kind == "metric":
            out.append(MetricRecord(seq, str(data["metric"]), data.get("value"), data))
        else:
            out.append(EventRecord(seq, str(data["event"]), data))
    return out
