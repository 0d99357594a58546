"""Exact values on the Data tab: the table's cells, Describe and the row view (Enter), with `y`/`Y` copies."""

from __future__ import annotations

import html
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from rich.text import Text
from textual.app import App
from textual.coordinate import Coordinate

from osiris_tui.frames import format as vf
from osiris_tui.frames.export import to_arrow
from osiris_tui.manifest.model import Step
from osiris_tui.runtime.session import DebugSession, StepState
from osiris_tui.tui.app import DebuggerApp
from osiris_tui.tui.screens.row_view import RowViewScreen
from osiris_tui.tui.widgets.data_view import ColumnInfo, FrameSummary
from osiris_tui.tui.widgets.event_log import LineFormatter

try:
    from tests.tui.app_support import pipeline, registry, settle, wait_session
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from app_support import pipeline, registry, settle, wait_session  # type: ignore[no-redef]

SIZE = (240, 40)
BIG = Decimal("123456789012345678901234567.891")  # 30 digits
FLOATS = [10038.96, 123456.78, 1234567.891, 1.2345e-05]


def exact_frame() -> pd.DataFrame:
    decimals = [BIG, None, Decimal("0.001"), Decimal("-5.250")]
    return pd.DataFrame({
        "amount": FLOATS,
        "big": [9876543210, -1, 0, 42],
        "dec": pd.Series(decimals, dtype=object),
        "dec128": pd.Series(pd.array(decimals, dtype=pd.ArrowDtype(pa.decimal128(38, 3)))),
        "label": pd.Series(["None", None, "", "nan"], dtype=object),
        "when": pd.Series([pd.Timestamp("2024-01-02 03:04:05.123456789"), None, pd.Timestamp("2024-01-03"),
                           pd.Timestamp("2024-01-04 00:00:01")], dtype="datetime64[ns]"),
    })


class ExactDriver:
    def run(self, *, step_id: str, config: dict[str, Any], inputs: dict | None, ctx: Any) -> dict:
        return {"df": exact_frame()}


def exact_session(root: Path) -> DebugSession:
    reg = registry()
    reg.register("test.exact", ExactDriver)
    return DebugSession(pipeline(root, [Step("exact", "test.exact", {})]), registry=reg, run_dir=root / "run")


def table_lines(app: DebuggerApp) -> list[str]:
    table = app.data_view.table
    assert table is not None
    return ["".join(seg.text for seg in table.render_line(y)) for y in range(table.size.height)]


def screen_text(app: App) -> str:
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


async def test_cells_describe_and_the_row_view_show_exact_values(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    app = DebuggerApp(exact_session(tmp_path))
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await wait_session(pilot, lambda s: s.status("exact").state is StepState.DONE)
        view = app.data_view
        assert view.table is not None and view.table.row_count == 4
        lines = table_lines(app)
        header, rows = lines[0], lines[1:5]
        assert all(name in header for name in ("amount", "big", "dec", "dec128", "label", "when"))
        for row, number in zip(rows, FLOATS, strict=True):
            assert f" {vf.plain(number)} " in row
        assert "10038.96" in rows[0] and "9876543210" in rows[0] and "1234567.891" in rows[2]
        assert rows[0].count(str(BIG)) == 2  # the object column of Decimals and the decimal128 one
        assert "2024-01-02 03:04:05.123456789" in rows[0]
        # the string "None" reads as None, NULL as the mark, the empty string as ""
        assert " None " in rows[0] and "None" not in rows[1]
        assert rows[1].count(vf.NULL_MARK) == 4 and vf.NULL_MARK not in rows[0]
        assert '""' in rows[2] and " nan " in rows[3]
        # numbers are right-aligned: the column's cells end at the same place
        ends = [row.index(vf.plain(n)) + len(vf.plain(n)) for row, n in zip(rows, FLOATS, strict=True)]
        assert len(set(ends)) == 1
        shape = str(view.query_one("#data-shape").render())
        assert "4 rows \N{MULTIPLICATION SIGN} 6 columns" in shape

        # Describe: min, max and the stats exact; counts with separators
        await pilot.press("d")
        await settle(pilot)
        assert view.describing and view.table is not None
        lines = table_lines(app)
        amount = next(line for line in lines if line.lstrip().startswith("amount "))
        assert "1.2345e-05" in amount and "1234567.891" in amount
        assert vf.plain(float(pd.Series(FLOATS).mean())) in amount
        dec128 = next(line for line in lines if line.lstrip().startswith("dec128 "))
        assert str(BIG) in dec128 and "-5.250" in dec128
        label = next(line for line in lines if line.lstrip().startswith("label "))
        assert ' "" ' in label and " nan " in label  # min is the empty string, max "nan"
        await pilot.press("d")
        await settle(pilot)
        assert not view.describing

        # the row view: Enter on a cell
        table = view.table
        assert table is not None
        table.focus()
        await pilot.press("right", "right")  # the `dec` column
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RowViewScreen)
        assert [f.name for f in screen.fields] == ["amount", "big", "dec", "dec128", "label", "when"]
        assert screen.current == 2
        assert screen.query(".row-field")[2].has_class("-current")
        text = screen_text(app)
        assert "10038.96" in text and "9876543210" in text and str(BIG) in text
        assert "2024-01-02 03:04:05.123456789" in text and "datetime64" in text and "object" in text
        await pilot.press("y")
        assert copied[-1] == str(BIG)
        await pilot.press("up", "up", "y")
        assert copied[-1] == "10038.96"
        await pilot.press("Y")
        assert json.loads(copied[-1]) == {
            "amount": 10038.96, "big": 9876543210, "dec": str(BIG), "dec128": str(BIG), "label": "None",
            "when": "2024-01-02T03:04:05.123456789",
        }
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, RowViewScreen)

        # a row of NULLs: styled as the mark, copied as null
        table = view.table
        assert table is not None
        table.focus()
        await pilot.press("down", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RowViewScreen)
        await pilot.press("Y")
        row = json.loads(copied[-1])
        assert row["dec"] is None and row["label"] is None and row["when"] is None and row["amount"] == 123456.78
        await pilot.press("q")
        await settle(pilot)
        assert not isinstance(app.screen, RowViewScreen)


async def test_a_cell_wider_than_its_column_ends_in_an_ellipsis(tmp_path: Path) -> None:
    app = DebuggerApp(exact_session(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        long = pd.DataFrame({"s": ["x" * 30, "y" * 200]})  # the widths come from a sample: cap at 40
        view = app.data_view
        view.show_table(to_arrow(long), "test")
        await settle(pilot)
        lines = table_lines(app)
        assert "y" * 39 + "…" in lines[2]
        assert "x" * 30 in lines[1]
        # hovering the cut cell: the whole value, through the same formatter; an uncut one has no tooltip
        table = view.table
        assert table is not None
        table._set_tooltip_from_cell_at(Coordinate(1, 0))
        assert isinstance(table.tooltip, Text) and table.tooltip.plain == "y" * 200
        table._set_tooltip_from_cell_at(Coordinate(0, 0))
        assert table.tooltip is None


def test_shape_says_one_row_one_column_and_the_dtype_line_says_what_is_left_out() -> None:
    one = FrameSummary(1, [ColumnInfo("a", "int64", 0)], None, "output of x")
    assert "1 row \N{MULTIPLICATION SIGN} 1 column" in one.shape_text().plain
    columns = [ColumnInfo(f"column_{i}", "float64", i % 2) for i in range(40)]
    summary = FrameSummary(10, columns, None, "")
    text = summary.columns_text(60, lines=2).plain
    lines = text.split("\n")
    assert len(lines) == 2 and all(len(line) <= 60 for line in lines)
    assert lines[-1].endswith(" more") and "… +" in lines[-1]
    shown = sum(line.count("column_") for line in lines)
    assert lines[-1].endswith(f"… +{40 - shown} more")
    # a name and its dtype never split across lines
    for line in lines:
        for part in line.split("  "):
            assert part.startswith(("column_", "…")), part
            if part.startswith("column_"):
                assert "float64" in part
    # everything fits: no marker
    assert "more" not in FrameSummary(1, columns[:2], None, "").columns_text(200).plain


def test_event_log_values_read_exactly() -> None:
    lines = LineFormatter()
    assert lines.fields("metric", {"metric": "ratio", "value": 0.1234567890123}) == "= 0.1234567890123"
    fields = lines.fields("event", {"event": "e", "score": 1 / 3, "amount": Decimal("10038.960"), "rows": 3})
    assert "score=0.3333333333333333" in fields and "amount=10038.960" in fields and "rows=3" in fields
