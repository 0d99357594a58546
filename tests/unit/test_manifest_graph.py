"""The DAG layout: layers, positions and edge routes (osiris_tui.manifest.graph)."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import pytest

from osiris_tui.manifest import load_pipeline
from osiris_tui.manifest.graph import DOWN, LEFT, RIGHT, UP, GraphLayout, layout, lineage, longest_path_layers
from osiris_tui.tui.widgets.step_list import names_line
from tests.support.dag_manifest import dag_steps, write_dag_manifest

QUICKSTART = [("extract-orders", []), ("extract-customers", []),
              ("revenue", ["extract-orders", "extract-customers"]), ("save-revenue", ["revenue"])]
STEP = {UP: (0, -1), DOWN: (0, 1), LEFT: (-1, 0), RIGHT: (1, 0)}
OPPOSITE = {UP: DOWN, DOWN: UP, LEFT: RIGHT, RIGHT: LEFT}


def node_cells(graph: GraphLayout) -> dict[tuple[int, int], str]:
    cells: dict[tuple[int, int], str] = {}
    for node in graph.nodes.values():
        for x in range(node.x, node.x + node.width):
            assert (x, node.y) not in cells, f"{node.id} overlaps {cells[(x, node.y)]}"
            cells[(x, node.y)] = node.id
    return cells


def edge_is_drawn(graph: GraphLayout, index: int) -> bool:
    """A line of edge `index`'s own cells joins the cell right of its upstream box to the cell left of
    its downstream box, each step along a direction both cells' glyphs draw."""
    u, v = graph.edges[index]
    a, b = graph.nodes[u], graph.nodes[v]
    start, end = (a.x + a.width, a.y), (b.x - 1, b.y)
    mine = set(graph.paths[index])
    if start not in mine or end not in mine:
        return False
    seen = {start}
    todo = deque([start])
    while todo:
        x, y = todo.popleft()
        if (x, y) == end:
            return True
        bits = graph.line(y)[x].bits
        for direction, (dx, dy) in STEP.items():
            nxt = (x + dx, y + dy)
            if (bits & direction and nxt in mine and nxt not in seen
                    and graph.line(nxt[1])[nxt[0]].bits & OPPOSITE[direction]):
                seen.add(nxt)
                todo.append(nxt)
    return False


def check(graph: GraphLayout) -> None:
    boxes = node_cells(graph)
    for y, line in graph.cells.items():
        for x in line:
            assert (x, y) not in boxes, f"an edge is drawn over {boxes[(x, y)]} at {(x, y)}"
            assert 0 <= x < graph.width and 0 <= y < graph.height
    for node in graph.nodes.values():
        assert node.x + node.width <= graph.width and node.y < graph.height
    for index, (u, v) in enumerate(graph.edges):
        assert graph.nodes[u].x < graph.nodes[v].x, "every edge points right"
        assert edge_is_drawn(graph, index), f"edge {u} -> {v} is not drawn"


def test_layers_are_longest_paths() -> None:
    steps = [("a", []), ("b", ["a"]), ("c", ["b"]), ("d", ["a", "c"]), ("e", [])]
    assert longest_path_layers(steps) == {"a": 0, "b": 1, "c": 2, "d": 3, "e": 0}


def test_lineage_both_ways() -> None:
    steps = [("a", []), ("b", ["a"]), ("c", ["b"]), ("d", ["a"]), ("e", ["c", "d"]), ("x", [])]
    assert lineage(steps, "c") == ({"a", "b"}, {"e"})
    assert lineage(steps, "a") == (set(), {"b", "c", "d", "e"})
    assert lineage(steps, "x") == (set(), set())


def test_quickstart_layout() -> None:
    graph = layout(QUICKSTART, node_width=10)
    check(graph)
    assert [g for g in graph.layers] == [["extract-orders", "extract-customers"], ["revenue"], ["save-revenue"]]
    revenue, save = graph.nodes["revenue"], graph.nodes["save-revenue"]
    assert revenue.y == graph.nodes["extract-orders"].y == save.y  # the main line is straight
    lines = ["".join(graph.line(y)[x].glyph if x in graph.line(y) else " " for x in range(graph.width)).rstrip()
             for y in range(graph.height)]
    assert lines == [
        "          ─┬─          ──",  # extract-orders ─┬─ revenue ── save-revenue
        "           │",
        "          ─┘",  # extract-customers joins revenue's line
    ]


def test_a_long_edge_goes_around_the_steps_between() -> None:
    graph = layout([("a", []), ("b", ["a"]), ("c", ["b"]), ("d", ["a", "c"])], node_width=6)
    check(graph)
    assert len({n.y for n in graph.nodes.values()}) == 1  # a b c d on one line, the long edge below
    assert graph.height == 3


def test_a_chain_of_200_is_one_line() -> None:
    steps = [(f"s{i}", [f"s{i - 1}"] if i else []) for i in range(200)]
    graph = layout(steps)
    check(graph)
    assert graph.height == 1
    assert [n.x for n in graph.nodes.values()] == sorted(n.x for n in graph.nodes.values())


@pytest.mark.parametrize("seed", [7, 11, 23])
def test_200_steps_with_fan_in_and_fan_out(seed: int) -> None:
    steps = dag_steps(200, seed)
    assert max(len(needs) for _, needs in steps) >= 10  # a fan-in
    readers: dict[str, int] = {}
    for _, needs in steps:
        for u in needs:
            readers[u] = readers.get(u, 0) + 1
    assert max(readers.values()) >= 8  # a fan-out
    graph = layout(steps)
    assert len(graph.nodes) == 200
    assert len(graph.edges) == sum(len(needs) for _, needs in steps)
    check(graph)
    assert sorted(s for layer in graph.layers for s in layer) == sorted(s for s, _ in steps)


def test_the_generated_manifest_loads_and_lays_out(tmp_path: Path) -> None:
    pipeline = load_pipeline(write_dag_manifest(tmp_path))
    graph = layout([(s.id, s.upstream) for s in pipeline.steps])
    assert len(graph.nodes) == 200
    check(graph)


def test_unknown_and_self_references_are_ignored() -> None:
    graph = layout([("a", ["a", "ghost"]), ("b", ["a", "a"])])
    assert graph.edges == [("a", "b")]
    check(graph)


def test_empty_pipeline() -> None:
    graph = layout([])
    assert (graph.width, graph.height, graph.nodes, graph.edges) == (0, 0, {}, [])


def test_names_line_counts_what_does_not_fit() -> None:
    assert names_line("→ ", ["a", "b"], 20) == "→ a, b"
    assert names_line("→ ", ["alpha", "beta", "gamma", "delta"], 18) == "→ alpha, beta +2"
    assert names_line("→ ", ["a_very_long_step_name", "b"], 12) == "→ a_very… +1"
    assert names_line("→ ", ["a_very_long_step_name"], 12) == "→ a_very_lo…"


def test_step_finds_the_current_step_after_the_list_changes() -> None:
    from osiris_tui.manifest.model import Pipeline, Step

    steps = [Step(f"s{i}", "duckdb.processor", {}) for i in range(5)]
    pipeline = Pipeline("p", Path("m.yaml"), "seed", list(steps))
    assert pipeline.step("s3") is steps[3]
    edited = Step("s3", "duckdb.processor", {"query": "SELECT 1"})
    pipeline.steps[3] = edited
    assert pipeline.step("s3") is edited
    pipeline.steps[:] = list(reversed(pipeline.steps))
    assert pipeline.step("s3") is edited and pipeline.step("s0") is steps[0]
    pipeline.steps.pop()
    with pytest.raises(KeyError):
        pipeline.step("s0")
