"""The Data tab's operations over a whole frame: sort, filter, search, frequency and Describe.

Each is a plain function of a `FrameView` run by the view's thread worker (never on the UI thread),
returning its result and what the view needs to take it (`Done`), or raising `Failed` with the message
to show. The worker posts a `DataOpDone`; the view takes it only if it is still the operation in flight
(Esc abandons one: its thread finishes on its own and its result is dropped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from textual.message import Message

from osiris_tui.frames.describe import describe
from osiris_tui.frames.frequency import frequency
from osiris_tui.frames.search import Matches, search
from osiris_tui.frames.sql import FilterError
from osiris_tui.frames.view import FrameView
from osiris_tui.tui.widgets.data.frames import OpenedFrame
from osiris_tui.tui.widgets.data.frequency_view import frequency_table
from osiris_tui.tui.widgets.data.modes import frequency_mode_table
from osiris_tui.tui.widgets.data.search_bar import SearchQuery
from osiris_tui.tui.widgets.describe import stats_table

LABELS = {"sort": "sorting", "filter": "filtering", "search": "searching", "frequency": "counting values",
          "describe": "describing"}


@dataclass
class DataOpDone(Message):
    """A thread worker of the Data view finished (posted from that thread)."""

    token: int
    kind: str  # sort, filter, search, frequency, describe
    result: Any = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Done:
    result: Any
    extra: dict[str, Any] = field(default_factory=dict)


class Failed(Exception):
    """An operation that could not be done: `message` is shown, `extra` goes with it."""

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


def sort_view(view: FrameView, column: str, order: str) -> Done:
    try:
        result = view.sorted(column, order)
        result.rows(0, 1)  # the order is computed here, not on the UI thread
    except Exception as exc:
        raise Failed(f"cannot sort by {column}: {exc}") from exc
    return Done(result)


def filter_view(view: FrameView, condition: str) -> Done:
    """The view filtered to `condition` (empty: every row), counted here."""
    try:
        result = view.filtered(condition) if condition else view.unfiltered()
        result.rows(0, 1)
        result.num_rows  # noqa: B018 — counted here
    except FilterError as exc:
        raise Failed(str(exc.args[0]) if exc.args else str(exc), condition=condition,
                     position=exc.position) from exc
    except Exception as exc:
        raise Failed(f"{type(exc).__name__}: {exc}", condition=condition, position=None) from exc
    return Done(result, {"condition": condition})


def search_view(view: FrameView, query: SearchQuery, column: str | None, backwards: bool) -> Done:
    try:
        found: Matches = search(view, query.pattern, regex=query.regex, column=column, case_sensitive=False)
    except Exception as exc:
        raise Failed(f"cannot search: {exc}") from exc
    return Done(found, {"query": query, "column": column, "view": view, "backwards": backwards})


def count_values(view: FrameView, column: str) -> Done:
    """The frequency table of `column`, and its layout (`modes.frequency_mode_table`), measured here."""
    try:
        result = frequency_table(frequency(view, column))
        layout = frequency_mode_table(result, column)
    except Exception as exc:
        raise Failed(f"cannot count {column}: {exc}") from exc
    return Done(result, {"column": column, "layout": layout})


def describe_view(view: FrameView, info: OpenedFrame) -> Done:
    """The Describe table of the view's rows (the filter applies; the sort does not matter)."""
    try:
        table: pa.Table = view.table if not view.where else view.materialize()
        dates = {table.column_names[i] for i in info.dates}
        result = stats_table(describe(table, [c.dtype for c in info.summary.columns]), dates)
    except Exception as exc:
        raise Failed(f"cannot describe: {type(exc).__name__}: {exc}") from exc
    return Done(result, {"info": info, "where": view.where or ""})
