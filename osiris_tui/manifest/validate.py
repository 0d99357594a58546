"""DAG checks over loaded steps (unknown references, cycles) and the stable topological run order."""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from typing import Any

from osiris_tui.manifest.common import Doc, did_you_mean
from osiris_tui.manifest.model import Step


def check_references(doc: Doc, steps: list[Step], raws: Mapping[str, Any]) -> None:
    """Every `needs` and `inputs` target names an existing step."""
    ids = [s.id for s in steps]
    known = set(ids)
    for step in steps:
        refs = [("needs", n) for n in step.needs] + [("inputs", t) for t in step.input_refs.values()]
        for key, target in refs:
            if target not in known:
                raise doc.error(
                    f"Unknown step '{target}' in '{key}'",
                    node=raws.get(step.id), key=key, step_id=step.id,
                    hint=did_you_mean(target, [i for i in ids if i != step.id]) or f"steps are: {', '.join(ids)}",
                )


def forward_warnings(steps: list[Step]) -> list[str]:
    """Warnings for `needs` that point to a step later in the list (Osiris runs steps in list order)."""
    pos = {s.id: s.position for s in steps}
    out = []
    for step in steps:
        later = [u for u in step.upstream if pos.get(u, -1) > step.position]
        if later:
            names = ", ".join(f"'{u}'" for u in later)
            out.append(
                f"step '{step.id}' depends on {names}, which comes later in the file; Osiris would run the steps"
                " in list order, osiris-tui runs them in dependency order"
            )
    return out


def _find_cycle(remaining: Mapping[str, list[str]]) -> list[str]:
    """One cycle among `remaining` (id → upstream ids, all of them remaining), as a path a → … → a."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for up in remaining[node]:
            if state.get(up) == 1:
                return [*stack[stack.index(up):], up]
            if up not in state and (found := visit(up)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in remaining:
        if start not in state and (found := visit(start)):
            return found
    return []  # pragma: no cover - Kahn only leaves nodes behind when there is a cycle


def topo_order(doc: Doc, steps: list[Step], raws: Mapping[str, Any]) -> list[Step]:
    """Steps in dependency order (Kahn's algorithm, ties broken by list position); a cycle is an error."""
    by_id = {s.id: s for s in steps}
    waiting = {s.id: len(s.upstream) for s in steps}
    users: dict[str, list[str]] = {s.id: [] for s in steps}
    for s in steps:
        for up in s.upstream:
            users[up].append(s.id)
    ready = [(s.position, s.id) for s in steps if waiting[s.id] == 0]
    heapq.heapify(ready)
    ordered: list[Step] = []
    while ready:
        _, sid = heapq.heappop(ready)
        ordered.append(by_id[sid])
        for user in users[sid]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, (by_id[user].position, user))
    if len(ordered) < len(steps):
        left = {s.id: [u for u in s.upstream if waiting.get(u, 0) > 0] for s in steps if waiting[s.id] > 0}
        cycle = _find_cycle(left)
        # Reported at the step of the cycle that comes first in the file, on its dependency key.
        # The path reads in the direction of data flow: a → b means b depends on a.
        path = list(reversed(cycle))
        first = min(cycle, key=lambda i: by_id[i].position)
        step = by_id[first]
        key = "needs" if any(u in cycle for u in step.needs) else "inputs"
        raise doc.error(
            f"Dependency cycle: {' → '.join(path)}",
            node=raws.get(first), key=key, step_id=first,
            hint="remove one of these dependencies so the steps form a DAG",
        )
    return ordered


def order_steps(doc: Doc, steps: list[Step], raws: Mapping[str, Any]) -> tuple[list[Step], list[str]]:
    """Check references and cycles; return the steps in run order plus forward-reference warnings."""
    check_references(doc, steps, raws)
    ordered = topo_order(doc, steps, raws)
    return ordered, forward_warnings(steps)
