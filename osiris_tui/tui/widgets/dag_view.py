"""The Graph tab: the pipeline as a DAG, left to right, the selected step's lineage highlighted.

The layout (layers, rows, edge routes) comes from `osiris_tui.manifest.graph`; `DagCanvas` draws it
on the Line API (only the lines on screen are built), scrolls both ways and keeps the selected step in
view. Each step shows its state with the step list's icons and colours. The selected step is shown
reversed; its ancestors and the edges between them in cyan, its descendants and theirs in magenta.
Arrows move the selection along the graph (← an upstream step, → a downstream one, ↑ ↓ within the
column) and post `StepHighlighted`, so the step list and the other tabs follow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from osiris_tui.manifest.graph import NODE_WIDTH, GraphLayout, downstream_map, layout, lineage
from osiris_tui.manifest.model import Pipeline
from osiris_tui.runtime.session import StepState, StepStatus
from osiris_tui.tui.messages import StepHighlighted
from osiris_tui.tui.widgets.step_list import ICONS, ID_STYLES, fit_labels, spinner_frame

ANCESTOR = "cyan"
DESCENDANT = "magenta"
EDGE = "grey50"
SELECTED = "reverse bold"

_STYLES: dict[str, Style] = {}


def _style(spec: str) -> Style:
    style = _STYLES.get(spec)
    if style is None:
        style = _STYLES[spec] = Style.parse(spec) if spec else Style()
    return style


def _names(ids: list[str], limit: int = 3) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" +{len(ids) - limit}" if len(ids) > limit else "")


class DagCanvas(ScrollView, can_focus=True):
    """The drawn graph. `selected` is the step whose lineage is highlighted."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move('up')", "Up", show=False),
        Binding("down", "move('down')", "Down", show=False),
        Binding("left", "move('left')", "Upstream", show=False),
        Binding("right", "move('right')", "Downstream", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
    ]

    DEFAULT_CSS = """
    DagCanvas {
        height: 1fr;
        scrollbar-size-vertical: 1;
        scrollbar-size-horizontal: 1;
    }
    """

    def __init__(self, pipeline: Pipeline, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.statuses: dict[str, StepStatus] = {}
        self.selected: str | None = None
        self.lineage_up: set[str] = set()
        self.lineage_down: set[str] = set()
        self.set_pipeline(pipeline)

    @dataclass
    class Ready(Message):
        """The layout of `steps` is done (posted from the thread that made it)."""

        steps: list[tuple[str, list[str]]]
        graph: GraphLayout

    # -- data ------------------------------------------------------------------------------------------
    def set_pipeline(self, pipeline: Pipeline) -> None:
        """Show `pipeline`: its layout is made off the UI thread (`ready` says when it is shown)."""
        self.pipeline = pipeline
        self.steps = [(s.id, s.upstream) for s in pipeline.steps]
        self.downstream = downstream_map(self.steps)
        self.upstream = dict(self.steps)
        self.graph: GraphLayout = layout([])
        self.ready = False
        self._by_line: dict[int, list[str]] = {}
        self.labels = fit_labels([sid for sid, _ in self.steps], NODE_WIDTH - 2)
        if self.selected not in self.upstream:
            self.selected = None
        self.select(self.selected)
        if self.is_mounted:
            self._lay_out(self.steps)

    def on_mount(self) -> None:
        self._lay_out(self.steps)

    @work(thread=True, exclusive=True, group="osiris-dag", description="lay out the pipeline's graph")
    def _lay_out(self, steps: list[tuple[str, list[str]]]) -> None:
        self.post_message(self.Ready(steps, layout(steps)))

    def on_dag_canvas_ready(self, message: Ready) -> None:
        message.stop()
        if message.steps is not self.steps:
            return  # a newer pipeline is being laid out
        self.graph = message.graph
        self.ready = True
        for node in self.graph.nodes.values():
            self._by_line.setdefault(node.y, []).append(node.id)
        self.virtual_size = Size(self.graph.width, self.graph.height)
        self.refresh()
        if self.selected is not None:
            self.call_after_refresh(self.scroll_to_step, self.selected)

    def update_steps(self, statuses: Iterable[StepStatus]) -> None:
        self.statuses = {s.step_id: s for s in statuses}
        self.refresh()

    def select(self, step_id: str | None, *, user: bool = False) -> None:
        """Highlight `step_id` and its lineage (`user`: the user moved here, tell the app)."""
        if step_id is not None and step_id not in self.upstream:
            return
        changed = step_id != self.selected
        self.selected = step_id
        if step_id is None:
            self.lineage_up, self.lineage_down = set(), set()
        else:
            self.lineage_up, self.lineage_down = lineage(self.steps, step_id)
        self.refresh()
        if step_id is not None:
            self.call_after_refresh(self.scroll_to_step, step_id)
        if user and changed and step_id is not None:
            self.post_message(StepHighlighted(step_id))

    def scroll_to_step(self, step_id: str) -> None:
        node = self.graph.nodes.get(step_id)
        if node is not None:
            # with a margin, so the edges into and out of the step show too
            region = Region(max(0, node.x - 6), max(0, node.y - 2), node.width + 12, 5)
            self.scroll_to_region(region, animate=False, force=True, immediate=True)

    def edge_role(self, index: int) -> str | None:
        """"ancestor" or "descendant" when edge `index` is part of the selected step's lineage."""
        if self.selected is None:
            return None
        u, v = self.graph.edges[index]
        if u in self.lineage_up and (v in self.lineage_up or v == self.selected):
            return "ancestor"
        if v in self.lineage_down and (u in self.lineage_down or u == self.selected):
            return "descendant"
        return None

    # -- rendering -------------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        line = scroll_y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if not self.ready:
            text = "laying out the graph…" if y == 0 else ""
            return Strip([Segment(text, base + _style("dim"))]).extend_cell_length(width, base)
        if not 0 <= line < self.graph.height:
            return Strip.blank(width, base)
        chars: dict[int, tuple[str, Style]] = {}
        roles: dict[int, str | None] = {}
        for x, cell in self.graph.line(line).items():
            if scroll_x <= x < scroll_x + width:
                role = None
                for index in cell.edges:
                    role = self.edge_role(index) or role
                    if role == "ancestor":
                        break
                spec = ANCESTOR if role == "ancestor" else DESCENDANT if role == "descendant" else EDGE
                chars[x] = (cell.glyph, base + _style(spec))
                roles[x] = role
        segments: list[Segment] = []
        for sid in self._by_line.get(line, []):
            node = self.graph.nodes[sid]
            if node.x + node.width <= scroll_x or node.x >= scroll_x + width:
                continue
            for x, (text, style) in enumerate(self._node_cells(sid, node.width, base), start=node.x):
                chars[x] = (text, style)
        run_text, run_style = "", None
        for x in range(scroll_x, scroll_x + width):
            text, style = chars.get(x, (" ", base))
            if style != run_style:
                if run_text:
                    segments.append(Segment(run_text, run_style))
                run_text, run_style = text, style
            else:
                run_text += text
        if run_text:
            segments.append(Segment(run_text, run_style))
        return Strip(segments, width)

    def _node_cells(self, sid: str, width: int, base: Style) -> list[tuple[str, Style]]:
        status = self.statuses.get(sid) or StepStatus(sid)
        icon, icon_style = ICONS[status.state]
        if status.state is StepState.RUNNING:
            icon = spinner_frame()
        label = self.labels.get(sid, sid).ljust(width - 2)
        if sid == self.selected:
            id_style = base + _style(SELECTED)
            icon_style_full = id_style
        else:
            lineage_spec = ANCESTOR if sid in self.lineage_up else DESCENDANT if sid in self.lineage_down else ""
            spec = " ".join(p for p in (ID_STYLES.get(status.state, ""), lineage_spec) if p)
            if lineage_spec:
                spec = spec.replace("dim", "").strip()
            id_style = base + _style(spec)
            icon_style_full = base + _style(icon_style)
        cells = [(icon, icon_style_full), (" ", id_style)]
        cells.extend((ch, id_style) for ch in label[: width - 2])
        return cells

    def tick(self) -> None:
        """Advance the running step's spinner."""
        if any(s.state is StepState.RUNNING for s in self.statuses.values()):
            self.refresh()

    # -- moving ----------------------------------------------------------------------------------------
    def _nearest(self, candidates: Iterable[str], y: int) -> str | None:
        nodes = [self.graph.nodes[c] for c in candidates if c in self.graph.nodes]
        if not nodes:
            return None
        return min(nodes, key=lambda n: (abs(n.y - y), n.y)).id

    def action_move(self, direction: str) -> None:
        if not self.steps or not self.ready:
            return
        if self.selected is None:
            self.select(self.steps[0][0], user=True)
            return
        node = self.graph.nodes[self.selected]
        column = self.graph.layers[node.layer]
        target: str | None = None
        if direction in ("up", "down"):
            k = column.index(self.selected) + (-1 if direction == "up" else 1)
            target = column[k] if 0 <= k < len(column) else None
        elif direction == "left":
            target = self._nearest(self.upstream.get(self.selected, []), node.y)
            if target is None and node.layer > 0:
                target = self._nearest(self.graph.layers[node.layer - 1], node.y)
        else:
            target = self._nearest(self.downstream.get(self.selected, []), node.y)
            if target is None and node.layer + 1 < len(self.graph.layers):
                target = self._nearest(self.graph.layers[node.layer + 1], node.y)
        if target is not None:
            self.select(target, user=True)

    def action_first(self) -> None:
        if self.steps:
            self.select(self.steps[0][0], user=True)

    def action_last(self) -> None:
        if self.steps:
            self.select(self.steps[-1][0], user=True)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        sid = self.graph.node_at(offset.x + self.scroll_offset.x, offset.y + self.scroll_offset.y)
        if sid is not None:
            event.stop()
            self.select(sid, user=True)


class DagView(Vertical):
    """The Graph tab: the canvas and a line about the selected step (its needs, what needs it)."""

    DEFAULT_CSS = """
    DagView {
        height: 1fr;
    }
    DagView > #dag-info {
        height: 2;
        padding: 0 1;
        color: $text-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, session: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.canvas = DagCanvas(session.pipeline, id="dag-canvas")
        self.info = Static(id="dag-info")

    def compose(self) -> ComposeResult:
        yield self.canvas
        yield self.info

    def on_mount(self) -> None:
        self.update_steps(self.session.statuses())

    def focus(self, scroll_visible: bool = True) -> DagView:
        self.canvas.focus(scroll_visible)
        return self

    def show_step(self, step_id: str | None) -> None:
        if step_id != self.canvas.selected:
            self.canvas.select(step_id)
        self._update_info()

    def update_steps(self, statuses: Iterable[StepStatus]) -> None:
        if self.session.pipeline is not self.canvas.pipeline:  # a restart reloaded the manifest
            self.canvas.set_pipeline(self.session.pipeline)
        self.canvas.update_steps(statuses)

    def tick(self) -> None:
        self.canvas.tick()

    def on_step_highlighted(self, message: StepHighlighted) -> None:
        self._update_info()  # (the message goes on to the app, which selects the step everywhere)

    def _update_info(self) -> None:
        canvas = self.canvas
        sid = canvas.selected
        if sid is None:
            self.info.update(Text(f"{len(canvas.steps)} steps · ← → ↑ ↓ move along the graph", style="dim"))
            return
        needs = canvas.upstream.get(sid, [])
        feeds = canvas.downstream.get(sid, [])
        up, down = len(canvas.lineage_up), len(canvas.lineage_down)
        text = Text.assemble((sid, "bold"), " ")
        text.append(f"← {_names(needs)} ({up} upstream in all)" if needs else "← no upstream", style=ANCESTOR)
        text.append("\n")
        text.append(f"→ {_names(feeds)} ({down} downstream in all)" if feeds else "→ no downstream",
                    style=DESCENDANT)
        text.append(" · ← → ↑ ↓ move", style="dim")
        self.info.update(text)
