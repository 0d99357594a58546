"""What the Config tab draws: SQL as SQL (line numbers, the error's place marked), the other fields as a
tree, and an OML pipeline's parameters with where each value came from."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.style import Style
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from osiris_tui.authoring.parameters import ParamRow
from osiris_tui.authoring.sql_errors import SqlPlace, error_place

ERROR_MARK = Style(color="white", bgcolor="red", bold=True)
ERROR_LINE = "#5f0000"


def sql_view(sql: str, error: str | None = None) -> RenderableType:
    """`sql` highlighted with line numbers; with `error`, the line (and column) it points at marked."""
    place: SqlPlace | None = error_place(error, sql) if error else None
    if sql.endswith("\n"):
        sql = sql[:-1]  # a block scalar's last line break is no line of its own
    syntax = Syntax(sql, "sql", theme="ansi_dark", line_numbers=True, word_wrap=True,
                    background_color="default", highlight_lines={place.line} if place else None)
    if place is None:
        return syntax if not error else Group(syntax, Text(f"✗ {_first_line(error)}", style="red"))
    if place.column is not None:
        start = place.column - 1
        syntax.stylize_range(ERROR_MARK, (place.line, start), (place.line, start + place.width))
    where = f"line {place.line}" + (f", column {place.column}" if place.column is not None else "")
    return Group(syntax, Text(f"✗ {where}: {_first_line(error or '')}", style="red"))


_DB_MESSAGE = re.compile(r"\b(?:\w+ )?Error: .*")


def _first_line(error: str) -> str:
    """The database's own message (`Binder Error: …`) from the first line of a step error."""
    for line in error.splitlines():
        if line.strip():
            m = _DB_MESSAGE.search(line)
            return m.group() if m else line.strip()
    return error


def _scalar(value: Any) -> Text:
    if isinstance(value, str):
        return Text(value)
    return Text(json.dumps(value, default=str, ensure_ascii=False), style="cyan")


def _add(tree: Tree, key: str, value: Any) -> None:
    label = Text(f"{key}", style="bold")
    if isinstance(value, dict):
        branch = tree.add(label if value else label + Text(": {}", style="dim"))
        for k, v in value.items():
            _add(branch, str(k), v)
    elif isinstance(value, list):
        branch = tree.add(label if value else label + Text(": []", style="dim"))
        for i, v in enumerate(value):
            _add(branch, f"[{i}]", v)
    elif isinstance(value, str) and "\n" in value:
        branch = tree.add(label)
        for line in value.split("\n"):
            branch.add(Text(line or " "))
    else:
        tree.add(label + Text(": ") + _scalar(value))


def config_tree(config: dict[str, Any], skip: Sequence[str] = ()) -> RenderableType:
    """The config's fields (but `skip`) as a tree: nested mappings and lists as branches."""
    tree = Tree(Text("config", style="dim"), guide_style="dim")
    for key, value in config.items():
        if key not in skip:
            _add(tree, str(key), value)
    if not tree.children:
        tree.add(Text("(no other fields)", style="dim"))
    return tree


def params_table(rows: Sequence[ParamRow]) -> RenderableType:
    table = Table(title="Parameters", title_justify="left", title_style="bold", box=None, padding=(0, 2),
                  header_style="bold dim")
    table.add_column("name", no_wrap=True)
    table.add_column("value")
    table.add_column("from", no_wrap=True)
    table.add_column("used by")
    for row in rows:
        source = Text(row.source, style="yellow" if row.source == "set here" else "")
        table.add_row(row.name, row.shown, source, ", ".join(row.steps) or Text("(no step)", style="dim"))
    return table
