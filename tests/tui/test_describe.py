"""The Data tab's Describe view: the per-column summary (unit) and `d` in the app (Pilot)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from osiris_tui.frames.describe import describe
from osiris_tui.frames.export import to_arrow
from osiris_tui.runtime.session import RunState, StepState
from osiris_tui.tui.app import DebuggerApp
from osiris_tui.tui.widgets.describe import STATS_COLUMNS, stats_table

try:
    from tests.tui.app_support import quickstart_session, settle, wait_session
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from app_support import quickstart_session, settle, wait_session  # type: ignore[no-redef]

SIZE = (120, 36)


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "n": pd.array([3, None, 1, 3], dtype="Int64"),
        "x": [1.5, np.nan, 2.5, 5.0],
        "s": pd.Series(["b", None, "a", "b"], dtype="string"),
        "day": pd.to_datetime(["2024-03-01", None, "2024-01-05", "2024-03-01"]),
        "cat": pd.Series(["lo", "hi", "lo", None], dtype="category"),
        "flag": [True, False, True, True],
    })


def test_describe_counts_nulls_distinct_and_stats_per_type() -> None:
    df = _frame()
    stats = {s.name: s for s in describe(to_arrow(df), [str(t) for t in df.dtypes])}
    n, x, s, day, cat, flag = (stats[c] for c in df.columns)
    assert (n.dtype, n.count, n.nulls, n.distinct, n.min, n.max) == ("Int64", 3, 1, 2, 1, 3)
    assert n.mean == pytest.approx(7 / 3) and n.median == 3 and n.stdev == pytest.approx(df["n"].std())
    assert (x.count, x.nulls, x.distinct, x.min, x.max) == (3, 1, 3, 1.5, 5.0)
    assert x.mean == pytest.approx(3.0) and x.median == 2.5 and x.stdev == pytest.approx(df["x"].std())
    # strings, dates: min and max, no mean
    assert (s.count, s.nulls, s.distinct, s.min, s.max, s.mean, s.stdev) == (3, 1, 2, "a", "b", None, None)
    assert (day.count, day.nulls, day.distinct) == (3, 1, 2)
    assert (day.min, day.max, day.mean) == (dt.datetime(2024, 1, 5), dt.datetime(2024, 3, 1), None)
    # a category is described by its values; a boolean is not a number
    assert (cat.count, cat.nulls, cat.distinct, cat.min, cat.max) == (3, 1, 2, "hi", "lo")
    assert (flag.count, flag.distinct, flag.mean) == (4, 2, None)
    table = stats_table(list(stats.values()), dates={"day"})  # the view shows an all-midnight column as dates
    assert tuple(table.column_names) == STATS_COLUMNS
    rows = {r["column"]: r for r in table.to_pylist()}
    assert rows["day"]["min"] == "2024-01-05" and rows["x"]["max"] == "5.0" and rows["s"]["mean"] is None
    assert rows["n"]["nulls"] == 1 and rows["cat"]["distinct"] == 2


def test_describe_an_empty_and_an_all_null_column() -> None:
    df = pd.DataFrame({"a": pd.Series([], dtype="float64"), "b": pd.Series([], dtype="object")})
    stats = describe(to_arrow(df))
    assert [(s.count, s.nulls, s.min, s.mean) for s in stats] == [(0, 0, None, None), (0, 0, None, None)]
    nulls = describe(to_arrow(pd.DataFrame({"z": [None, None]})))[0]
    assert (nulls.count, nulls.nulls, nulls.distinct, nulls.min) == (0, 2, 0, None)


def test_describing_a_million_rows_works_column_group_by_group() -> None:
    rows = 1_000_000
    rng = np.random.default_rng(0)
    df = pd.DataFrame({
        "id": np.arange(rows), "v": rng.random(rows), "k": rng.integers(0, 1000, rows),
        "s": pd.Series(rng.choice(["alpha", "beta", "gamma"], rows), dtype="string"),
        "d": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), unit="D"),
        "f": np.where(rng.random(rows) < 0.1, np.nan, rng.random(rows)),
    })
    table = to_arrow(df)
    stats = describe(table)
    assert stats[0].distinct == rows and stats[2].distinct == 1000 and stats[5].nulls > 0
    assert (stats[0].min, stats[0].max, stats[0].mean) == (0, rows - 1, (rows - 1) / 2)


async def test_d_toggles_the_describe_view_and_keeps_it_across_inputs(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path, breakpoints=["revenue"])
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.status("revenue").state is StepState.PAUSED
                           and s.run_state is RunState.PAUSED)
        if app.selected_step_id != "revenue":
            await pilot.press("down")
            await settle(pilot)
        view = app.data_view
        assert view.table is not None and view.table.row_count == 5000  # the orders input
        await pilot.press("2", "d", "1")  # `d` acts on the Data tab only
        await settle(pilot)
        assert not view.describing
        await pilot.press("d")  # from the step list
        await settle(pilot)
        assert view.describing
        table = view.table
        assert table is not None and table.row_count == 6
        assert table.backend is not None and tuple(table.backend.columns) == STATS_COLUMNS
        rows = {r["column"]: r for r in table.backend.data.to_pylist()}
        order_id = rows["order_id"]
        assert (order_id["count"], order_id["nulls"], order_id["distinct"]) == (5000, 0, 5000)
        assert (order_id["min"], order_id["max"], order_id["mean"]) == ("100001", "105000", 102500.5)
        assert rows["order_date"]["dtype"].startswith("datetime64")
        assert rows["status"]["distinct"] == 4 and rows["status"]["mean"] is None
        assert rows["currency"]["min"] == rows["currency"]["max"] == "EUR"
        orders = session.output("extract-orders")
        assert orders is not None
        assert rows["amount"]["mean"] == pytest.approx(orders["amount"].mean())
        assert rows["amount"]["max"] == repr(float(orders["amount"].max()))  # exact, not rounded
        shape = str(view.query_one("#data-shape").render())
        assert "describe" in shape and "d rows" in shape
        # as shown: counts with separators, values exact
        lines = ["".join(seg.text for seg in table.render_line(y)) for y in range(table.size.height)]
        shown = next(line for line in lines if line.lstrip().startswith("order_id "))
        assert shown.count(" 5,000 ") == 2
        # mode and empty strings; nothing is cut: the view scrolls sideways to the other statistics
        assert rows["status"]["empty"] == 0 and rows["status"]["mode"] == "paid"
        assert rows["order_id"]["empty"] is None and rows["order_id"]["mode"] is None  # no value repeats
        assert all(c.max_content_width is None for c in table.ordered_columns)
        table.focus()
        await pilot.press(*["l"] * STATS_COLUMNS.index("max"))
        await pilot.pause()
        lines = ["".join(seg.text for seg in table.render_line(y)) for y in range(table.size.height)]
        shown = next(line for line in lines if " 105000 " in line)
        assert " 100001 " in shown and "…" not in shown
        await pilot.press("escape")  # Describe back to the rows, then again into Describe
        assert not view.describing
        await pilot.press("d")
        await settle(pilot)
        assert view.describing and view.table is not None and view.table.row_count == 6
        # the mode stays on the next input
        await pilot.press("i")
        await settle(pilot)
        assert view.input_header.startswith("not run yet — input df_extract_customers of revenue")
        assert view.table is not None and view.table.row_count == 5  # customers: 5 columns
        customers = {r["column"]: r for r in view.table.backend.data.to_pylist()}
        assert customers["customer_id"]["count"] == 300
        # `d` again: the rows
        view.table.focus()
        await pilot.press("d")
        await settle(pilot)
        assert not view.describing
        assert view.table is not None and view.table.row_count == 300
        assert view.table.has_focus
