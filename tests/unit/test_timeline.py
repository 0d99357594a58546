"""The run's timeline: step starts from the events, spans from the statuses, bars in cells."""

from __future__ import annotations

from osiris_tui.runtime.records import StepState
from osiris_tui.runtime.session import StepStatus
from osiris_tui.runtime.timeline import Span, StepStarts, parse_ts, spans
from osiris_tui.tui.widgets.timeline import Timeline, TimelineRow, bar_cells, stats


def event(ts: str, name: str, step: str | None = None) -> dict:
    line = {"ts": ts, "session": "s", "event": name}
    if step is not None:
        line["step_id"] = step
    return line


def test_starts_are_seconds_after_the_first_event_and_a_rerun_moves_them() -> None:
    events = [event("2026-01-01T10:00:00.000Z", "run_start"),
              event("2026-01-01T10:00:00.250Z", "step_start", "a"),
              event("2026-01-01T10:00:01.000Z", "step_start", "b")]
    starts = StepStarts()
    starts.update(events)
    assert starts.starts == {"a": 0.25, "b": 1.0}
    events.append(event("2026-01-01T10:00:03.500Z", "step_start", "a"))  # a re-run
    starts.update(events)
    assert starts.starts == {"a": 3.5, "b": 1.0}
    starts.update([event("2026-01-01T11:00:00.000Z", "run_start")])  # a new run's list
    assert starts.starts == {} and starts.origin == parse_ts("2026-01-01T11:00:00.000Z")


def test_spans_of_done_failed_and_running_steps_only() -> None:
    starts = StepStarts(starts={"a": 0.0, "b": 1.0, "c": 2.0, "d": 3.0})
    statuses = [StepStatus("a", StepState.DONE, duration=0.5), StepStatus("b", StepState.FAILED, duration=0.25),
                StepStatus("c", StepState.RUNNING, started_at=100.0), StepStatus("d", StepState.PENDING),
                StepStatus("e", StepState.DONE, duration=1.0)]  # no step_start seen: no bar
    assert spans(starts, statuses, now=102.5) == [Span("a", 0.0, 0.5, StepState.DONE),
                                                  Span("b", 1.0, 0.25, StepState.FAILED),
                                                  Span("c", 2.0, 2.5, StepState.RUNNING)]


def test_bar_cells() -> None:
    assert bar_cells(0.0, 1.0, 1.0, 10) == (0, "█" * 10)
    assert bar_cells(0.5, 0.25, 1.0, 8) == (4, "██")
    assert bar_cells(0.0, 0.0001, 10.0, 8) == (0, "▏")  # the shortest step still shows
    assert bar_cells(0.1, 0.05, 1.0, 10) == (1, "▌")
    assert bar_cells(0.0, 1.0, 0.0, 10) == (0, "")


def test_timeline_text_lines_up_bars_on_one_axis() -> None:
    rows = [TimelineRow("extract", Span("extract", 0.0, 1.0, StepState.DONE), 5, None, 2048),
            TimelineRow("load", Span("load", 1.0, 1.0, StepState.DONE), None, 5, None),
            TimelineRow("later", None, None, None, None)]
    widget = Timeline()
    widget.rows = rows
    lines = widget.text(60).plain.split("\n")
    assert len(lines) == 4 and lines[0].rstrip().endswith("rows in → out · memory")
    bar_extract, bar_load = lines[1].split("│")[0], lines[2].split("│")[0]
    assert bar_extract.index("█") < bar_load.index("█")  # load starts where extract ends
    axis = lines[0].split("│")[0].rstrip()
    assert axis.endswith("2.00s") and len(bar_load.rstrip()) == len(axis)  # the last bar ends the axis
    assert bar_extract.rstrip().endswith("▌")  # half of the axis: an odd number of cells
    assert stats(rows[0]) == "5 → — · 2.0 KB" and lines[3].split("│")[1].strip() == "— → —"
