"""StepList: the pipeline's steps in run order, with status, rows, duration, breakpoints, needs and
the steps that need it.

A step with a checkpoint for its current inputs and config shows its age instead of a duration: "cached
3h ago" (taken from the checkpoint when the run gets there, or already taken), or "off · 3h ago" when it
will run anyway (a database extractor not asked to be reused).

A virtual list on the Line API (a `ScrollView` whose `render_line` builds only the rows on screen):
each step is a block of 2 lines, then its needs ("← a, b", wrapped) and what needs it ("→ c, d +3",
one line, the rest counted), drawn from plain strings. It handles up/down/home/end/page keys, the
mouse (click selects, hover highlights) and keeps the selected block visible. (It was an OptionList
of Rich tables; that cost half of the app's startup.) The running step's icon is a spinner, advanced
by `tick()` from the app's timer.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from osiris_tui.manifest.graph import downstream_map
from osiris_tui.manifest.model import Pipeline
from osiris_tui.runtime.records import StepState
from osiris_tui.runtime.step_status import StepStatus
from osiris_tui.tui import format as fmt
from osiris_tui.tui.messages import StepHighlighted

if TYPE_CHECKING:
    from osiris_tui.runtime.checkpoints import CachedStep

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

ICONS: dict[StepState, tuple[str, str]] = {
    StepState.PENDING: ("·", "dim"),
    StepState.RUNNING: ("", "bold yellow"),  # spinner
    StepState.PAUSED: ("▶", "bold yellow"),
    StepState.DONE: ("✓", "bold green"),
    StepState.FAILED: ("✗", "bold red"),
    StepState.SKIPPED: ("\N{EN DASH}", "dim"),
}

ID_STYLES: dict[StepState, str] = {
    StepState.FAILED: "bold red",
    StepState.RUNNING: "bold yellow",
    StepState.PAUSED: "bold",
    StepState.DONE: "bold",
    StepState.SKIPPED: "dim strike",
}

BREAKPOINT = "●"
STALE = ("↻", "bold magenta")  # the icon of a step whose files changed since it ran
INDENT = 4  # the driver and needs lines start under the step id
PAD = 1  # left and right of every line

_STYLE_CACHE: dict[str, Style] = {}


def _style(spec: str) -> Style:
    style = _STYLE_CACHE.get(spec)
    if style is None:
        style = _STYLE_CACHE[spec] = Style.parse(spec) if spec else Style()
    return style


def spinner_frame(now: float | None = None) -> str:
    now = time.monotonic() if now is None else now
    return SPINNER[int(now * 10) % len(SPINNER)]


def _fit(text: str, width: int) -> str:
    """`text` cut to `width` cells with an ellipsis (ids and driver names are plain ASCII mostly)."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    return text[: width - 1] + "…"


def _cut(text: str, width: int, head: int) -> str:
    """`text` in `width` cells: its first `head` characters, "…", then its end."""
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


def names_line(prefix: str, ids: list[str], width: int) -> str:
    """`prefix` and as many of `ids` as fit in `width` cells, the others counted: "→ a, b +3"."""
    full = prefix + ", ".join(ids)
    if len(full) <= width:
        return full
    for shown in range(len(ids) - 1, 0, -1):
        text = prefix + ", ".join(ids[:shown]) + f" +{len(ids) - shown}"
        if len(text) <= width:
            return text
    more = f" +{len(ids) - 1}" if len(ids) > 1 else ""
    return prefix + _fit(ids[0], width - len(prefix) - len(more)) + more


def fit_labels(ids: Iterable[str], width: int) -> dict[str, str]:
    """Each id in `width` cells, cut in the middle when longer ("extract_cust…_prod_a"), so that ids
    sharing a long prefix (or suffix) keep the part that tells them apart. When two ids still get the
    same label, those labels move the cut until they differ (or no cut tells them apart)."""
    ids = list(dict.fromkeys(ids))
    if width <= 1:
        return {i: _fit(i, width) for i in ids}
    middle = width - 1 - (width - 1) // 2  # cells before the "…"; the end gets the rest
    labels = {i: i if len(i) <= width else _cut(i, width, middle) for i in ids}
    groups: dict[str, list[str]] = {}
    for i, label in labels.items():
        groups.setdefault(label, []).append(i)
    for label, same in groups.items():
        if len(same) < 2 or all(len(i) <= width for i in same):
            continue
        for head in sorted(range(width), key=lambda h: abs(h - middle)):  # nearest the middle first
            tried = {i: i if len(i) <= width else _cut(i, width, head) for i in same}
            if len(set(tried.values())) == len(same) and not set(tried.values()) & (set(labels.values()) - {label}):
                labels.update(tried)
                break
    return labels


class StepList(ScrollView, can_focus=True):
    """The steps; the highlighted block is the selected step.

    `StepHighlighted` is posted only when the user moves the cursor (keys or mouse), never for
    `select_step`, so the app can tell "follow the run" from "the user looked elsewhere".
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"step-list--highlighted", "step-list--hover"}

    DEFAULT_CSS = """
    StepList {
        height: 1fr;
        overflow-x: hidden;
        & > .step-list--highlighted {
            color: $foreground;
            background: $block-cursor-blurred-background;
        }
        &:focus > .step-list--highlighted {
            color: $block-cursor-foreground;
            background: $block-cursor-background;
            text-style: $block-cursor-text-style;
        }
        & > .step-list--hover {
            background: $block-hover-background;
        }
    }
    """

    def __init__(self, pipeline: Pipeline, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pipeline = pipeline
        self._ids: list[str] = [s.id for s in pipeline.steps]
        self._statuses: dict[str, StepStatus] = {}
        self._breakpoints: Mapping[str, str] = {}  # step id → its marker (● enabled, ○ disabled)
        self._stale: Mapping[str, str] = {}  # step id → why it is stale
        self._cached: dict[str, CachedStep] = {}
        self.highlighted: int | None = 0 if self._ids else None
        self._hover: int | None = None
        self._width = -1  # the width the layout below was made for
        self._starts: list[int] = []  # first line of each step
        self._lines: list[tuple[int, int]] = []  # (step index, line within the step) per line
        self._needs: list[list[str]] = []  # each step's wrapped "← a, b" lines, then its "→ c, d" line
        self._cache: dict[tuple[int, int], tuple[tuple[Any, ...], Strip]] = {}
        self._row_styles: dict[tuple[str, bool], Style] = {}
        self._labels: dict[int, dict[str, str]] = {}  # the step ids fitted to a width, by width

    # -- data ------------------------------------------------------------------------------------------
    def set_pipeline(self, pipeline: Pipeline) -> None:
        """After a restart reloaded the manifest (steps may have been added or removed)."""
        selected = self.selected_step_id
        self._pipeline = pipeline
        self._ids = [s.id for s in pipeline.steps]
        self.highlighted = self._ids.index(selected) if selected in self._ids else (0 if self._ids else None)
        self._relayout(force=True)

    @property
    def step_ids(self) -> list[str]:
        return list(self._ids)

    @property
    def stale(self) -> dict[str, str]:
        """The steps shown stale, with why."""
        return dict(self._stale)

    @property
    def markers(self) -> dict[str, str]:
        """The breakpoint marker shown by each step that has one."""
        return dict(self._breakpoints)

    def update_steps(self, statuses: Iterable[StepStatus], breakpoints: Iterable[str] | Mapping[str, str],
                     stale: Mapping[str, str] | None = None, cached: dict[str, CachedStep] | None = None) -> None:
        """Re-render the steps whose status, breakpoint, staleness or checkpoint changed (the line cache
        compares signatures). `breakpoints`: step ids, or step id → marker; `stale`: step id → reason;
        `cached`: the steps not run yet that have a checkpoint."""
        self._statuses = {s.step_id: s for s in statuses}
        self._breakpoints = dict(breakpoints) if isinstance(breakpoints, Mapping) else dict.fromkeys(
            breakpoints, BREAKPOINT)
        self._stale = dict(stale or {})
        self._cached = dict(cached or {})
        if [s.id for s in self._pipeline.steps] != self._ids:
            self.set_pipeline(self._pipeline)
            return
        self.refresh()

    def tick(self) -> None:
        """Advance the spinner (and the live duration) of the running step."""
        if any(s.state is StepState.RUNNING for s in self._statuses.values()):
            self.refresh()

    @staticmethod
    def _live_duration(status: StepStatus) -> str:
        if status.state is StepState.RUNNING and status.started_at is not None:
            return fmt.duration(max(0.0, time.monotonic() - status.started_at))
        return fmt.duration(status.duration)

    # -- layout ----------------------------------------------------------------------------------------
    def _relayout(self, *, force: bool = False) -> None:
        width = self.scrollable_content_region.width
        if width == self._width and not force:
            return
        self._width = width
        inner = max(1, width - 2 * PAD - INDENT)
        self._starts, self._lines, self._needs = [], [], []
        downstream = downstream_map((s.id, s.upstream) for s in self._pipeline.steps)
        for index, step in enumerate(self._pipeline.steps):
            needs = textwrap.wrap("← " + ", ".join(step.upstream), inner, break_on_hyphens=False) \
                if step.upstream else []
            if downstream.get(step.id):
                needs.append(names_line("→ ", downstream[step.id], inner))
            self._starts.append(len(self._lines))
            self._needs.append(needs)
            self._lines.extend((index, line) for line in range(2 + len(needs)))
        self._cache.clear()
        self._labels.clear()
        self.virtual_size = Size(width, len(self._lines))
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._relayout()

    def on_mount(self) -> None:
        self._relayout()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()
        self._row_styles.clear()

    def _row_style(self, component: str) -> Style:
        """The base style of a line (plain, highlighted or hovered), cached until the styles change."""
        key = (component, self.has_focus)
        style = self._row_styles.get(key)
        if style is None:
            style = self.rich_style
            if component:
                style = style + self.get_component_rich_style(component)
            self._row_styles[key] = style
        return style

    # -- rendering -------------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        if self._width != self.scrollable_content_region.width:
            self._relayout()
        scroll_y = self.scroll_offset.y
        index = scroll_y + y
        width = self._width
        if not 0 <= index < len(self._lines):
            return Strip.blank(width, self._row_style(""))
        step_index, line = self._lines[index]
        step_id = self._ids[step_index]
        status = self._statuses.get(step_id) or StepStatus(step_id)
        live = (spinner_frame(), self._live_duration(status)) if status.state is StepState.RUNNING else None
        if step_index == self.highlighted:
            component = "step-list--highlighted"
        elif step_index == self._hover:
            component = "step-list--hover"
        else:
            component = ""
        age = self.cached_text(status, self._cached.get(step_id))
        signature = (status, self._breakpoints.get(step_id), self._stale.get(step_id), live, component,
                     self.has_focus, width, age)
        cached = self._cache.get((step_index, line))
        if cached is not None and cached[0] == signature:
            return cached[1]
        strip = self._render_step_line(step_index, line, status, self._row_style(component), width)
        self._cache[(step_index, line)] = (signature, strip)
        return strip

    def _render_step_line(self, step_index: int, line: int, status: StepStatus, row: Style, width: int) -> Strip:
        step = self._pipeline.steps[step_index]
        inner = max(0, width - 2 * PAD)
        parts: list[tuple[str, str]] = []  # (text, style spec)
        if line == 0:
            icon, icon_style = ICONS[status.state]
            if status.state is StepState.RUNNING:
                icon = spinner_frame()
            elif step.id in self._stale:
                icon, icon_style = STALE
            marker = self._breakpoints.get(step.id)
            bp = (marker, "bold red" if marker == BREAKPOINT else "dim red") if marker else (" ", "")
            cached = self.cached_text(status, self._cached.get(step.id))
            if status.state is StepState.FAILED:
                right = ("failed", "red")
            elif cached is not None:
                right = cached
            else:
                right = (self._live_duration(status), "yellow" if status.state is StepState.RUNNING else "dim")
            room = inner - 4 - (len(right[0]) + 1 if right[0] else 0)
            name = self._label(step.id, room)
            parts = [bp, (" ", ""), (icon, icon_style), (" ", ""), (name, ID_STYLES.get(status.state, "")),
                     (" " * max(0, room - len(name)), "")]
            if right[0]:
                parts += [(" ", ""), right]
        elif line == 1:
            rows = fmt.rows(status.rows) if status.rows is not None else ""
            if step.id in self._stale:
                rows = "stale"
            room = inner - INDENT - (len(rows) + 1 if rows else 0)
            driver = _fit(step.driver, room)
            parts = [(" " * INDENT, ""), (driver, "dim"), (" " * max(0, room - len(driver)), "")]
            if rows:
                parts += [(" ", ""), (rows, "magenta" if step.id in self._stale else "cyan")]
        else:
            parts = [(" " * INDENT, ""), (self._needs[step_index][line - 2], "dim italic")]
        segments = [Segment(" " * PAD, row)]
        used = PAD
        for text, spec in parts:
            if text:
                segments.append(Segment(text, row + _style(spec) if spec else row))
                used += len(text)
        segments.append(Segment(" " * max(0, width - used), row))
        return Strip(segments).crop(0, width).simplify()

    @staticmethod
    def cached_text(status: StepStatus, cached: CachedStep | None) -> tuple[str, str] | None:
        """(text, style) of a step's checkpoint in the list, None when it has none to show."""
        if status.state is StepState.DONE and status.cached_age is not None:
            return f"cached {fmt.age(status.cached_age)}", "cyan"
        if status.state in (StepState.DONE, StepState.RUNNING, StepState.FAILED) or cached is None:
            return None
        if cached.reuse:
            return f"cached {fmt.age(cached.age)}", "cyan"
        return f"off · {fmt.age(cached.age)}", "dim"

    def _label(self, step_id: str, width: int) -> str:
        """`step_id` as shown in `width` cells, distinct from the other steps' ids at that width."""
        labels = self._labels.get(width)
        if labels is None:
            labels = self._labels[width] = fit_labels(self._ids, width)
        return labels.get(step_id) or _fit(step_id, width)

    # -- selection -------------------------------------------------------------------------------------
    @property
    def selected_step_id(self) -> str | None:
        if self.highlighted is None or not 0 <= self.highlighted < len(self._ids):
            return None
        return self._ids[self.highlighted]

    def select_step(self, step_id: str) -> None:
        """Highlight `step_id` (no StepHighlighted: the app asked for it)."""
        if step_id in self._ids:
            self._set_highlighted(self._ids.index(step_id), user=False)

    def _set_highlighted(self, index: int, *, user: bool) -> None:
        if not self._ids:
            return
        index = max(0, min(index, len(self._ids) - 1))
        if index == self.highlighted:
            return
        self.highlighted = index
        self.refresh()
        self._scroll_to_highlighted()
        if user:
            self.post_message(StepHighlighted(self._ids[index]))

    def _scroll_to_highlighted(self) -> None:
        if self.highlighted is None or not self._starts:
            if self.highlighted is not None:
                self.call_after_refresh(self._scroll_to_highlighted)
            return
        start = self._starts[self.highlighted]
        end = self._starts[self.highlighted + 1] if self.highlighted + 1 < len(self._starts) else len(self._lines)
        self.scroll_to_region(Region(0, start, max(1, self._width), end - start), animate=False, force=True,
                              immediate=True)

    def action_cursor_up(self) -> None:
        self._set_highlighted((self.highlighted or 0) - 1, user=True)

    def action_cursor_down(self) -> None:
        self._set_highlighted(0 if self.highlighted is None else self.highlighted + 1, user=True)

    def action_first(self) -> None:
        self._set_highlighted(0, user=True)

    def action_last(self) -> None:
        self._set_highlighted(len(self._ids) - 1, user=True)

    def _step_at_line(self, line: int) -> int | None:
        return self._lines[line][0] if 0 <= line < len(self._lines) else None

    def action_page_up(self) -> None:
        self._page(-1)

    def action_page_down(self) -> None:
        self._page(1)

    def _page(self, direction: int) -> None:
        if self.highlighted is None or not self._starts:
            return
        target = self._starts[self.highlighted] + direction * max(1, self.scrollable_content_region.height)
        target = max(0, min(target, len(self._lines) - 1))
        step = self._step_at_line(target)
        if step is not None:
            self._set_highlighted(step, user=True)

    # -- mouse -----------------------------------------------------------------------------------------
    def _step_at(self, event: events.MouseEvent) -> int | None:
        offset = event.get_content_offset(self)
        if offset is None:
            return None
        return self._step_at_line(offset.y + self.scroll_offset.y)

    def on_click(self, event: events.Click) -> None:
        step = self._step_at(event)
        if step is not None:
            event.stop()
            self._set_highlighted(step, user=True)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._set_hover(self._step_at(event))

    def on_leave(self, event: events.Leave) -> None:
        self._set_hover(None)

    def _set_hover(self, step: int | None) -> None:
        if step != self._hover:
            self._hover = step
            self.refresh()
