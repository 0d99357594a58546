"""The pipeline as a drawn graph: layers, positions and edge routes on a grid of cells (no UI code).

`layout(steps)` takes `(step id, upstream ids)` in run order and lays the DAG out left to right:

- **Layers** by longest path: a step with no upstream is in layer 0, any other one layer right of
  its furthest upstream, so every edge points right.
- **Long edges** (spanning more than one layer) pass through a placeholder slot in each layer between,
  drawn as a line, so an edge never crosses a step's label.
- **Order** within a layer by barycenter sweeps (fewer crossings), then **rows**: each slot as close to
  its upstream's row as the order allows, so a chain is one straight line.
- **Routes**: between two layers, each target with an edge that changes row gets a vertical bus (a
  track column), shared by the edges into it; a source's line runs right to the buses it feeds. Tracks
  are ordered so that, on one row, a source's line ends left of where the next layer's step on that
  row is entered (two different edges never share a line segment there).

The result is cells of box-drawing characters, each knowing which edges pass through it (to highlight
a lineage), and a box per step. `lineage` gives a step's ancestors and descendants.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

UP, DOWN, LEFT, RIGHT = 1, 2, 4, 8

GLYPHS: dict[int, str] = {
    LEFT | RIGHT: "─", LEFT: "─", RIGHT: "─",
    UP | DOWN: "│", UP: "│", DOWN: "│",
    RIGHT | DOWN: "┌", LEFT | DOWN: "┐", RIGHT | UP: "└", LEFT | UP: "┘",
    UP | DOWN | RIGHT: "├", UP | DOWN | LEFT: "┤", LEFT | RIGHT | DOWN: "┬", LEFT | RIGHT | UP: "┴",
    UP | DOWN | LEFT | RIGHT: "┼",
}

NODE_WIDTH = 16  # cells of a step's box: "✓ " and its (fitted) id
ROW_SPACING = 2  # steps sit on every other line, the lines between carry only edges


@dataclass(frozen=True, slots=True)
class NodeBox:
    """Where a step is drawn: cells `x` to `x + width - 1` of line `y`."""

    id: str
    layer: int
    x: int
    y: int
    width: int


@dataclass
class Cell:
    bits: int = 0
    edges: set[int] = field(default_factory=set)  # indexes into `GraphLayout.edges`

    @property
    def glyph(self) -> str:
        return GLYPHS.get(self.bits, " ")


@dataclass
class GraphLayout:
    nodes: dict[str, NodeBox]
    edges: list[tuple[str, str]]  # (upstream, downstream)
    cells: dict[int, dict[int, Cell]]  # line → x → the edge drawn there
    layers: list[list[str]]  # the steps of each layer, top to bottom
    width: int
    height: int
    paths: list[list[tuple[int, int]]] = field(default_factory=list)  # per edge, the cells it passes

    def line(self, y: int) -> dict[int, Cell]:
        return self.cells.get(y, {})

    def node_at(self, x: int, y: int) -> str | None:
        for node in self.nodes.values():
            if node.y == y and node.x <= x < node.x + node.width:
                return node.id
        return None


def longest_path_layers(steps: Sequence[tuple[str, Sequence[str]]]) -> dict[str, int]:
    """Each step's layer: 0 with no upstream, else one more than its furthest upstream's."""
    upstream = {sid: [u for u in ups if u != sid] for sid, ups in steps}
    layer: dict[str, int] = {}

    def visit(sid: str) -> int:
        # iterative, so a 10,000-step chain does not hit the recursion limit
        stack = [sid]
        while stack:
            top = stack[-1]
            if top in layer:
                stack.pop()
                continue
            todo = [u for u in upstream.get(top, []) if u in upstream and u not in layer]
            if todo:
                if any(u in stack for u in todo):  # a cycle (validation rejects those): cut it here
                    layer[top] = 0
                    stack.pop()
                    continue
                stack.extend(todo)
                continue
            layer[top] = 1 + max((layer[u] for u in upstream.get(top, []) if u in layer), default=-1)
            stack.pop()
        return layer[sid]

    for sid, _ in steps:
        visit(sid)
    return layer


def lineage(steps: Iterable[tuple[str, Sequence[str]]], step_id: str) -> tuple[set[str], set[str]]:
    """(ancestors, descendants) of `step_id`: every step it reads from, directly or not, and every step
    that reads from it."""
    up: dict[str, list[str]] = {}
    down: dict[str, list[str]] = defaultdict(list)
    for sid, ups in steps:
        up[sid] = list(ups)
        for u in ups:
            down[u].append(sid)

    def reach(graph: Mapping[str, Sequence[str]]) -> set[str]:
        seen: set[str] = set()
        stack = list(graph.get(step_id, []))
        while stack:
            sid = stack.pop()
            if sid not in seen and sid != step_id:
                seen.add(sid)
                stack.extend(graph.get(sid, []))
        return seen

    return reach(up), reach(down)


def downstream_map(steps: Iterable[tuple[str, Sequence[str]]]) -> dict[str, list[str]]:
    """Each step's direct downstream steps, in run order."""
    down: dict[str, list[str]] = {}
    for sid, ups in steps:
        down.setdefault(sid, [])
        for u in ups:
            down.setdefault(u, []).append(sid)
    return down


def _order(slots: list[list[str]], preds: dict[str, list[str]], succs: dict[str, list[str]],
           sweeps: int = 4) -> None:
    """Barycenter heuristic, in place: each layer sorted by the mean position of its neighbours in the
    layer before (down sweeps) or after (up sweeps); ties keep the current order."""
    for sweep in range(sweeps):
        down = sweep % 2 == 0
        rng = range(1, len(slots)) if down else range(len(slots) - 2, -1, -1)
        for i in rng:
            ref = slots[i - 1] if down else slots[i + 1]
            pos = {s: k for k, s in enumerate(ref)}
            neighbours = preds if down else succs

            def key(item: tuple[int, str], pos: dict[str, int] = pos,
                    neighbours: dict[str, list[str]] = neighbours) -> tuple[float, int]:
                k, s = item
                ns = [pos[n] for n in neighbours.get(s, []) if n in pos]
                return (sum(ns) / len(ns) if ns else float(k), k)

            slots[i] = [s for _, s in sorted(enumerate(slots[i]), key=key)]


def _rows(slots: list[list[str]], preds: dict[str, list[str]]) -> dict[str, int]:
    """A row per slot: in each layer, top to bottom, the median row of its upstream when that is below
    the previous slot's, else the next free row."""
    row: dict[str, int] = {}
    for i, layer in enumerate(slots):
        below = -1
        wanted = []
        for s in layer:
            ups = sorted(row[p] for p in preds.get(s, []) if p in row)
            wanted.append(ups[(len(ups) - 1) // 2] if ups and i else -1)
        for k, s in enumerate(layer):
            r = max(below + 1, wanted[k])
            row[s] = r
            below = r
    return row


def layout(steps: Sequence[tuple[str, Sequence[str]]], node_width: int = NODE_WIDTH) -> GraphLayout:
    """Lay the steps out (see the module's docstring). `steps` are in run order; unknown upstream ids
    are ignored."""
    known = {sid for sid, _ in steps}
    ups = {sid: [u for u in dict.fromkeys(us) if u in known and u != sid] for sid, us in steps}
    layer = longest_path_layers([(sid, ups[sid]) for sid, _ in steps])
    edges = [(u, sid) for sid, _ in steps for u in ups[sid]]
    depth = max(layer.values(), default=-1) + 1
    slots: list[list[str]] = [[] for _ in range(depth)]
    for sid, _ in steps:
        slots[layer[sid]].append(sid)

    # links between adjacent layers, through placeholder slots for the long edges
    preds: dict[str, list[str]] = defaultdict(list)
    succs: dict[str, list[str]] = defaultdict(list)
    chains: list[list[str]] = []  # per edge, the slots it passes (its ends included)
    for index, (u, v) in enumerate(edges):
        chain = [u]
        for lay in range(layer[u] + 1, layer[v]):
            dummy = f"\0{index}:{lay}"
            slots[lay].append(dummy)
            chain.append(dummy)
        chain.append(v)
        for a, b in pairwise(chain):
            preds[b].append(a)
            succs[a].append(b)
        chains.append(chain)
    _order(slots, preds, succs)
    row = _rows(slots, preds)

    # tracks per gap
    links_by_gap: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for chain in chains:
        for a, b in pairwise(chain):
            links_by_gap[layer_of(a, layer)].append((a, b))
    tracks: dict[int, dict[str, int]] = {}
    gap_width: dict[int, int] = {}
    for gap in range(max(0, depth - 1)):
        tracks[gap] = _tracks(links_by_gap.get(gap, []), row)
        gap_width[gap] = 2 + (max(tracks[gap].values()) + 1 if tracks[gap] else 0)

    xs: list[int] = []
    x = 0
    for lay in range(depth):
        xs.append(x)
        x += node_width + gap_width.get(lay, 0)
    width = x
    height = (max(row.values(), default=-1) + 1) * ROW_SPACING - (ROW_SPACING - 1) if row else 0

    nodes = {sid: NodeBox(sid, layer[sid], xs[layer[sid]], row[sid] * ROW_SPACING, node_width)
             for sid, _ in steps}
    cells: dict[int, dict[int, Cell]] = defaultdict(dict)
    paths: list[list[tuple[int, int]]] = []

    def mark(x: int, y: int, bits: int, edge: int, path: list[tuple[int, int]]) -> None:
        cell = cells[y].get(x)
        if cell is None:
            cell = cells[y][x] = Cell()
        cell.bits |= bits
        cell.edges.add(edge)
        path.append((x, y))

    for index, chain in enumerate(chains):
        path: list[tuple[int, int]] = []
        for k, (a, b) in enumerate(pairwise(chain)):
            gap = layer_of(a, layer)
            ya, yb = row[a] * ROW_SPACING, row[b] * ROW_SPACING
            start = xs[gap] + node_width
            end = xs[gap + 1] - 1
            if k:  # `a` is a placeholder: the edge runs through its slot
                for cx in range(xs[gap], start):
                    mark(cx, ya, LEFT | RIGHT, index, path)
            if ya == yb:
                for cx in range(start, end + 1):
                    mark(cx, ya, LEFT | RIGHT, index, path)
                continue
            t = start + 1 + tracks[gap][b]
            for cx in range(start, t):
                mark(cx, ya, LEFT | RIGHT, index, path)
            vertical = DOWN if yb > ya else UP
            mark(t, ya, LEFT | vertical, index, path)
            for cy in range(min(ya, yb) + 1, max(ya, yb)):
                mark(t, cy, UP | DOWN, index, path)
            mark(t, yb, (UP if yb > ya else DOWN) | RIGHT, index, path)
            for cx in range(t + 1, end + 1):
                mark(cx, yb, LEFT | RIGHT, index, path)
        paths.append(path)

    layers = [[s for s in sorted(lay, key=lambda s: row[s]) if not s.startswith("\0")] for lay in slots]
    return GraphLayout(nodes, edges, dict(cells), layers, width, height, paths)


def layer_of(slot: str, layer: Mapping[str, int]) -> int:
    """The layer of a step or of a placeholder slot (`\\0<edge>:<layer>`)."""
    if slot.startswith("\0"):
        return int(slot.rsplit(":", 1)[1])
    return layer[slot]


def _tracks(links: list[tuple[str, str]], row: Mapping[str, int]) -> dict[str, int]:
    """A track (0, 1, …) per target whose edges change row, in one gap.

    A target's bus spans the rows of its sources and its own; buses that overlap get different
    tracks. On a row where a source leaves and a target is entered, the source's buses come first
    (a lower track) whenever the constraints allow it, so the two lines stay apart.
    """
    spans: dict[str, tuple[int, int]] = {}
    feeds: dict[str, set[str]] = defaultdict(set)  # source → targets it reaches through a bus
    for a, b in links:
        if row[a] == row[b]:
            continue
        lo, hi = spans.get(b, (row[b], row[b]))
        spans[b] = (min(lo, row[a]), max(hi, row[a]))
        feeds[a].add(b)
    if not spans:
        return {}
    entered_at = {row[b]: b for b in spans}  # the target entered on each row (one slot per row)
    before: dict[str, set[str]] = defaultdict(set)  # bus → buses that must have a lower track
    for a, targets in feeds.items():
        entered = entered_at.get(row[a])
        if entered is not None:
            for target in targets:
                if target != entered:
                    before[entered].add(target)
    assigned: dict[str, int] = {}
    used: dict[int, list[tuple[int, int]]] = defaultdict(list)
    pending = sorted(spans, key=lambda b: (spans[b][0], spans[b][1]))
    while pending:
        ready = [b for b in pending if not (before[b] - assigned.keys())] or pending[:1]  # a cycle: break it
        b = ready[0]
        pending.remove(b)
        lo, hi = spans[b]
        t = max((assigned[p] + 1 for p in before[b] if p in assigned), default=0)
        while any(not (hi < ulo or lo > uhi) for ulo, uhi in used[t]):
            t += 1
        assigned[b] = t
        used[t].append((lo, hi))
    return assigned
