"""A diff told in words: the summary the app's diff view and `osiris-tui diff` both show, and the
differing rows as lines and as JSON. Values are written by `frames.format` (exact, never rounded)."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from osiris_tui.frames import format as vf
from osiris_tui.frames.diff import ChangedRow, DiffResult

ADDED_STYLE, REMOVED_STYLE, CHANGED_STYLE = "green", "red", "yellow"
MARKS = {"added": "+", "removed": "-", "changed": "~"}
STATUS_STYLE = {"added": ADDED_STYLE, "removed": REMOVED_STYLE, "changed": CHANGED_STYLE}


def _signed(n: int) -> str:
    return f"+{vf.count(n)}" if n > 0 else ("±0" if n == 0 else f"-{vf.count(-n)}")


def summary_text(result: DiffResult) -> Text:
    """Lines: what was compared, rows, schema drift, null deltas, the row counts and the changed cells."""
    text = Text()
    a, b = result.names
    text.append("A ", style="bold")
    text.append(f"{a} · {vf.plural(result.rows_a, 'row')}\n")
    text.append("B ", style="bold")
    text.append(f"{b} · {vf.plural(result.rows_b, 'row')}\n")
    if result.equal:
        text.append("equal", style="bold green")
        text.append(f": same columns, same types, same rows{' (by key)' if result.keys else ''}")
        if result.kind == "keyed":
            text.append(f" · key {', '.join(result.keys)}", style="dim")
        return text
    text.append("rows ", style="bold")
    text.append(f"{vf.count(result.rows_a)} → {vf.count(result.rows_b)} ({_signed(result.rows_b - result.rows_a)})")
    text.append("\nschema ", style="bold")
    if not result.schema_changed:
        text.append("unchanged", style="dim")
    parts: list[tuple[str, str]] = []
    parts += [(f"+ {c.name} {c.type}", ADDED_STYLE) for c in result.added_columns]
    parts += [(f"- {c.name} {c.type}", REMOVED_STYLE) for c in result.dropped_columns]
    parts += [(f"~ {r.name} {r.before} → {r.after}", CHANGED_STYLE) for r in result.retyped]
    for i, (part, style) in enumerate(parts):
        text.append(" · " if i else "", style="dim")
        text.append(part, style=style)
    text.append("\nnulls ", style="bold")
    nulls = result.null_changes
    if not nulls:
        text.append("unchanged", style="dim")
    for i, n in enumerate(nulls):
        text.append(" · " if i else "", style="dim")
        text.append(n.name, style="bold")
        text.append(f" {vf.count(n.before or 0)} → {vf.count(n.after or 0)} ({_signed(n.delta)})")
    text.append("\n")
    if result.kind == "keyed":
        text.append(f"by key {', '.join(result.keys)} ", style="bold")
        text.append(f"{vf.count(result.added)} added", style=ADDED_STYLE)
        text.append(" · ")
        text.append(f"{vf.count(result.removed)} removed", style=REMOVED_STYLE)
        text.append(" · ")
        text.append(f"{vf.count(result.changed)} changed", style=CHANGED_STYLE)
        text.append(f" · {vf.count(result.unchanged)} unchanged")
        cells = [(name, count) for name, count in result.cells.items() if count]
        if cells:
            text.append("\nchanged cells ", style="bold")
            for i, (name, count) in enumerate(cells):
                text.append(" · " if i else "", style="dim")
                text.append(name, style="bold")
                text.append(f" {vf.count(count)}")
    else:
        compared = len(result.compared)
        text.append("whole rows ", style="bold")
        text.append(f"(no key, on {vf.plural(compared, 'common column')}) ", style="dim")
        text.append(f"{vf.count(result.removed)} only in A", style=REMOVED_STYLE)
        text.append(" · ")
        text.append(f"{vf.count(result.added)} only in B", style=ADDED_STYLE)
        text.append(f" · {vf.count(result.unchanged)} in both")
    return text


def _pairs(values: dict[str, Any], names: list[str]) -> str:
    return " ".join(f"{name}={vf.plain(values[name])}" for name in names if name in values)


def row_line(row: ChangedRow, keys: tuple[str, ...]) -> Text:
    """`~ id=7: amount 10.5 → 10.51`, `+ id=9: id=9 amount=3.25 …`, `- …` (every value exact)."""
    text = Text()
    text.append(MARKS[row.status], style=f"bold {STATUS_STYLE[row.status]}")
    where = _pairs(row.key, list(keys))
    text.append(f" {where}:" if where else "")
    if row.status == "changed" and row.before is not None and row.after is not None:
        for name in row.changed:
            text.append(" ")
            text.append(name, style="bold")
            text.append(f" {vf.plain(row.before[name])} → {vf.plain(row.after[name])}")
    else:
        side = row.after if row.status == "added" else row.before
        if side is not None:
            text.append(" " + _pairs(side, [n for n in side if n not in keys]))
    return text


def row_json(row: ChangedRow) -> dict[str, Any]:
    """A differing row as JSON: its status, key, and the changed cells as [A, B] (or the whole row)."""
    out: dict[str, Any] = {"status": row.status, "key": {k: vf.json_value(v) for k, v in row.key.items()}}
    if row.status == "changed" and row.before is not None and row.after is not None:
        out["changes"] = {n: [vf.json_value(row.before[n]), vf.json_value(row.after[n])] for n in row.changed}
    else:
        side = row.after if row.status == "added" else row.before
        out["row"] = {k: vf.json_value(v) for k, v in (side or {}).items()}
    return out
