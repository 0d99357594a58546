"""Which frames a step has for the Data tab (its output, each of its cached inputs), and what the view
keeps of a frame it opened (its column widths, summary and Describe tables), the last few of them.

Frames are Arrow tables from the session (`DebugSession.output_table`, `input_tables`), produced once
per frame in the background; these functions run in a thread worker, where waiting for one is fine.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import pandas as pd
import pyarrow as pa

from osiris_tui.frames import format as vf
from osiris_tui.runtime.session import DebugSession
from osiris_tui.tui.widgets.data.table import WIDE_LIMIT, date_columns, measure_widths

if TYPE_CHECKING:
    from osiris_tui.tui.widgets.data.header import FrameSummary

CACHE_SIZE = 3  # frames whose measurements are kept


@dataclass(frozen=True)
class FrameRef:
    """One frame of a step: its output, or one of its inputs (the name its driver sees it under and the
    step that made it)."""

    kind: Literal["output", "input"]
    step_id: str
    table: pa.Table
    name: str = ""
    from_step: str = ""

    @property
    def origin(self) -> str:
        """`output of revenue`, `input df_orders of revenue`."""
        return f"output of {self.step_id}" if self.kind == "output" else f"input {self.name} of {self.step_id}"


def step_frames(session: DebugSession, step_id: str, with_output: bool) -> tuple[list[FrameRef], list[str]]:
    """The step's frames, output first (when `with_output` and it has one), then its cached inputs in
    input order; and the upstream steps whose output is not cached (yet)."""
    frames: list[FrameRef] = []
    if with_output:
        table = session.output_table(step_id)
        if table is not None:
            frames.append(FrameRef("output", step_id, table))
    for name, upstream, table in session.input_tables(step_id):
        frames.append(FrameRef("input", step_id, table, name, upstream))
    have = {f.from_step for f in frames if f.kind == "input"}
    missing = [u for u in session.pipeline.step(step_id).upstream if u not in have]
    return frames, missing


def pandas_dtypes(session: DebugSession, frame: FrameRef) -> list[str] | None:
    """The frame's pandas dtypes, as the step's code sees them (None: not at hand, or not column for
    column). Called in a worker: the session may have to read a spilled frame back."""
    df = session.output(frame.step_id if frame.kind == "output" else frame.from_step)
    if not isinstance(df, pd.DataFrame) or not isinstance(df.index, pd.RangeIndex):
        return None
    if [str(c) for c in df.columns] != list(frame.table.column_names):
        return None
    return [str(t) for t in df.dtypes]


@dataclass
class OpenedFrame:
    """What the view keeps of a frame it opened: its widths and summary, and its Describe tables."""

    table: pa.Table
    widths: list[int]
    summary: FrameSummary
    dates: frozenset[int] = frozenset()  # timestamp columns shown as dates
    described: dict[str, pa.Table] = field(default_factory=dict)  # by filter condition ("" none)
    content_widths: dict[int, int] = field(default_factory=dict)  # a widened column's (`_`), by frame column

    def content_width(self, column: int) -> int:
        """A widened column's width: its content's, up to `WIDE_LIMIT` (measured once, kept across sorts
        and filters, which do not change the frame)."""
        width = self.content_widths.get(column)
        if width is None:
            width = self.content_widths[column] = vf.measure(self.table.column(column), limit=WIDE_LIMIT)
        return width

    @classmethod
    def of(cls, table: pa.Table, summary: FrameSummary) -> OpenedFrame:
        """Measured (in a worker: it reads samples, and a column of dates whole)."""
        dates = date_columns(table)
        return cls(table, measure_widths(table, dates=dates), summary, dates)


class OpenedFrames:
    """The last `CACHE_SIZE` frames opened, by table identity (going back to a step is instant)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._by_table: OrderedDict[int, OpenedFrame] = OrderedDict()

    def get(self, table: pa.Table) -> OpenedFrame | None:
        info = self._by_table.get(id(table))
        return info if info is not None and info.table is table else None

    def keep(self, info: OpenedFrame) -> None:
        self._by_table[id(info.table)] = info
        self._by_table.move_to_end(id(info.table))
        while len(self._by_table) > self.size:
            self._by_table.popitem(last=False)

    def clear(self) -> None:
        self._by_table.clear()
