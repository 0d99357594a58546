"""The Metrics tab's timeline: a Gantt chart of the run, one bar per step on a shared time axis.

Each line: the step, its bar (from its start to its end since the run's first event, in eighths of a
cell, coloured by state; a running step's bar grows), then its rows in → out and its cached frame's
memory. The axis line above says what the width stands for. Drawn with block characters (plain
Textual rendering, so it shows the same in a terminal and in a browser).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.widget import Widget

from osiris_tui.runtime.records import StepState
from osiris_tui.runtime.timeline import Span
from osiris_tui.tui import format as fmt

EIGHTHS = " ▏▎▍▌▋▊▉"
BAR_STYLES = {StepState.DONE: "green", StepState.RUNNING: "yellow", StepState.FAILED: "red"}
LABEL_MAX = 20


@dataclass(frozen=True)
class TimelineRow:
    step_id: str
    span: Span | None
    read: int | None
    written: int | None
    memory: int | None


def _count(n: int | None) -> str:
    return "—" if n is None else f"{n:,}"


def stats(row: TimelineRow) -> str:
    """`5,000 → 24 · 274.8 KB`: rows in, rows out, memory."""
    text = f"{_count(row.read)} → {_count(row.written)}"
    memory = fmt.nbytes(row.memory)
    return text + (f" · {memory}" if memory else "")


def bar_cells(start: float, duration: float, total: float, width: int) -> tuple[int, str]:
    """(blank cells before the bar, the bar) for a span on an axis of `total` seconds in `width` cells.
    The bar is at least an eighth of a cell, so even the shortest step shows."""
    if total <= 0 or width <= 0:
        return 0, ""
    lead = min(width - 1, int(start / total * width))
    eighths = max(1, round((start + duration) / total * width * 8) - lead * 8)
    eighths = min(eighths, (width - lead) * 8)
    full, part = divmod(eighths, 8)
    return lead, "█" * full + (EIGHTHS[part] if part else "")


def axis_total(rows: Sequence[TimelineRow]) -> float:
    return max((r.span.start + r.span.duration for r in rows if r.span is not None), default=0.0)


class Timeline(Widget):
    """The bars; `show(rows, selected)` redraws. Its height is one line per step plus the axis."""

    DEFAULT_CSS = """
    Timeline {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows: list[TimelineRow] = []
        self.selected: str | None = None

    def show(self, rows: Sequence[TimelineRow], selected: str | None = None) -> None:
        layout = len(rows) != len(self.rows)
        self.rows, self.selected = list(rows), selected
        self.refresh(layout=layout)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return 1 + max(1, len(self.rows))

    def render(self) -> Text:
        return self.text(self.size.width)

    def text(self, width: int) -> Text:
        rows = self.rows
        total = axis_total(rows)
        out = Text(no_wrap=True, overflow="ellipsis")
        if not rows:
            out.append("no steps", style="dim")
            return out
        label_width = min(LABEL_MAX, max(len(r.step_id) for r in rows))
        notes = [stats(r) for r in rows]
        header = "rows in → out · memory"
        note_width = max(len(header), *(len(n) for n in notes))
        room = max(4, width - label_width - note_width - 4)
        end = fmt.duration(total) if total > 0 else "not run yet"
        out.append(" " * label_width + " ", style="")
        out.append("0".ljust(max(1, room - len(end))) + end, style="dim")
        out.append(" │ " + header, style="dim")
        for row, note in zip(rows, notes, strict=True):
            out.append("\n")
            label = row.step_id if len(row.step_id) <= label_width else row.step_id[: label_width - 1] + "…"
            out.append(label.ljust(label_width), style="reverse bold" if row.step_id == self.selected else "bold")
            out.append(" ")
            if row.span is not None:
                lead, drawn = bar_cells(row.span.start, row.span.duration, total, room)
                out.append(" " * lead)
                out.append(drawn, style=BAR_STYLES.get(row.span.state, ""))
                out.append(" " * max(0, room - lead - len(drawn)))
            else:
                out.append("·".ljust(room), style="dim")
            out.append(" │ ", style="dim")
            out.append(note, style="cyan" if row.span is not None else "dim")
        return out
