"""DAG checks over loaded steps (unknown references, cycles) and the stable topological run order."""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping
from typing import Any

from osiris_tui.manifest.common import Doc, did_you_mean, short
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
                    hint=did_you_mean(target, [i for i in ids if i != step.id]) or f"steps are: {_list(ids)}",
                )


def _list(ids: list[str], keep: int = 20) -> str:
    shown = ", ".join(short(i) for i in ids[:keep])
    return shown + (f", … ({len(ids) - keep} more)" if len(ids) > keep else "")


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
    """One cycle among `remaining` (id → upstream ids, all of them remaining), as a path a → … → a.

    Iterative depth-first search (an explicit stack), so a cycle of thousands of steps needs no recursion.
    """
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in remaining:
        if start in state:
            continue
        path: list[str] = [start]
        on_path: dict[str, int] = {start: 0}
        state[start] = 1
        todo: list[Iterator[str]] = [iter(remaining[start])]
        while todo:
            up = next(todo[-1], None)
            if up is None:
                todo.pop()
                done = path.pop()
                del on_path[done]
                state[done] = 2
            elif state.get(up) == 1:
                return [*path[on_path[up]:], up]
            elif up not in state:
                state[up] = 1
                on_path[up] = len(path)
                path.append(up)
                todo.append(iter(remaining[up]))
    return []  # pragma: no cover - Kahn only leaves nodes behind when there is a cycle


def _show_path(path: list[str], keep: int = 8) -> str:
    """`a → b → … → z`, shortened in the middle when the cycle is long."""
    names = [short(p) for p in path]
    if len(names) > 2 * keep:
        names = [*names[:keep], f"… ({len(path) - 2 * keep} more) …", *names[-keep:]]
    return " → ".join(names)


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
            f"Dependency cycle: {_show_path(path)}",
            node=raws.get(first), key=key, step_id=first,
            hint="remove one of these dependencies so the steps form a DAG",
        )
    return ordered


def order_steps(doc: Doc, steps: list[Step], raws: Mapping[str, Any]) -> tuple[list[Step], list[str]]:
    """Check references and cycles; return the steps in run order plus forward-reference warnings."""
    check_references(doc, steps, raws)
    ordered = topo_order(doc, steps, raws)
    return ordered, forward_warnings(steps)
