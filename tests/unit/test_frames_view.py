"""FrameView, where_indices and FilterError: filters in DuckDB over the Arrow table, sorts, stacking."""

from __future__ import annotations

import pyarrow as pa
import pytest

from osiris_tui.frames.sql import FilterError, where_indices
from osiris_tui.frames.view import FrameView


@pytest.fixture
def table() -> pa.Table:
    return pa.table({
        "id": [0, 1, 2, 3, 4, 5],
        "amount": [50, 150, None, 300, 150, 20],
        "status": ["paid", "open", "paid", None, "paid", "open"],
    })


def test_where_indices_in_table_order(table: pa.Table) -> None:
    assert where_indices(table, "amount > 100").to_pylist() == [1, 3, 4]
    assert where_indices(table, "status = 'paid' AND amount > 100").to_pylist() == [4]
    assert where_indices(table, "amount IS NULL").to_pylist() == [2]
    assert where_indices(table, "amount > 100", within=pa.array([4, 3, 0, 1])).to_pylist() == [4, 3, 1]
    assert where_indices(table, "amount > 1000").type == pa.int64()


def test_where_indices_keeps_order_over_many_chunks() -> None:
    parts = [pa.table({"x": list(range(i * 1000, (i + 1) * 1000))}) for i in range(50)]
    table = pa.concat_tables(parts)
    assert where_indices(table, "x % 7 = 0").to_pylist() == list(range(0, 50_000, 7))


@pytest.mark.parametrize(("condition", "at"), [
    ("amount >", 8),  # the end of the condition
    ("amont > 1", 0),  # an unknown column
    ("amount > 1 AND \"stat us\" = 'x'", 15),
    ("amount > 'abc'", 9),  # a conversion error
    ("amount >> = 2", 10),
])
def test_filter_error_points_into_the_condition(table: pa.Table, condition: str, at: int) -> None:
    with pytest.raises(FilterError) as caught:
        FrameView.of(table).filtered(condition)
    error = caught.value
    assert error.position == at, (error.message, error.position)
    assert "SELECT" not in error.message and "coalesce" not in error.message
    assert "LINE 1" not in error.message


def test_filter_error_messages(table: pa.Table) -> None:
    with pytest.raises(FilterError) as caught:
        where_indices(table, "amont > 1")
    assert 'Referenced column "amont" not found' in caught.value.message
    with pytest.raises(FilterError, match="row by row"):
        where_indices(table, "count(*) > 1")
    with pytest.raises(FilterError, match="empty"):
        where_indices(table, "  ")
    with pytest.raises(FilterError) as caught:
        where_indices(table, "amount >")
    assert "end of the condition" in caught.value.message


def test_a_long_condition_still_has_its_position(table: pa.Table) -> None:
    condition = "amount > 1 AND " + "amount + " * 60 + "amont = 2"
    with pytest.raises(FilterError) as caught:
        where_indices(table, condition)
    assert caught.value.position == condition.index("amont ")


def test_filters_cannot_touch_files(table: pa.Table, tmp_path) -> None:
    (tmp_path / "x.csv").write_text("a\n1\n")
    with pytest.raises(FilterError):
        where_indices(table, f"amount IN (SELECT a FROM read_csv('{tmp_path / 'x.csv'}'))")


def test_rows_and_row_numbers(table: pa.Table) -> None:
    view = FrameView.of(table)
    assert view.num_rows == 6 and view.rows(4, 99).column("id").to_pylist() == [4, 5]
    assert view.row_number(3) == 3
    filtered = view.filtered("amount > 100")
    assert filtered.num_rows == 3 and filtered.where == "amount > 100"
    assert filtered.rows(1, 3).column("id").to_pylist() == [3, 4]
    assert filtered.row_number(2) == 4
    with pytest.raises(IndexError):
        filtered.row_number(3)
    assert filtered.materialize().column("id").to_pylist() == [1, 3, 4]
    assert view.materialize() is table


def test_sort_is_stable_with_nulls_last(table: pa.Table) -> None:
    view = FrameView.of(table).sorted("amount")
    assert view.materialize().column("id").to_pylist() == [5, 0, 1, 4, 3, 2]
    down = FrameView.of(table).sorted("amount", "descending")
    assert down.materialize().column("id").to_pylist() == [3, 1, 4, 0, 5, 2]
    by_status = FrameView.of(table).sorted("status")
    assert by_status.materialize().column("id").to_pylist() == [1, 5, 0, 2, 4, 3]
    assert by_status.sort == ("status", "ascending")
    with pytest.raises(ValueError):
        FrameView.of(table).sorted("amount", "up")


def test_filter_and_sort_stack_either_way(table: pa.Table) -> None:
    view = FrameView.of(table)
    one = view.filtered("status IS NOT NULL").sorted("amount", "descending")
    two = view.sorted("amount", "descending").filtered("status IS NOT NULL")
    assert one.materialize().column("id").to_pylist() == [1, 4, 0, 5, 2]
    assert two.materialize().equals(one.materialize())
    assert (one.where, one.sort) == (two.where, two.sort) == ("status IS NOT NULL", ("amount", "descending"))
    # a new filter replaces the old one and keeps the sort
    other = two.filtered("status = 'open'")
    assert other.materialize().column("id").to_pylist() == [1, 5]
    # re-sorting a filtered and sorted view starts from the filtered rows
    assert two.sorted("id", "descending").materialize().column("id").to_pylist() == [5, 4, 2, 1, 0]
    back = two.unfiltered()
    assert back.where is None and back.sort == ("amount", "descending")
    assert back.materialize().column("id").to_pylist() == [3, 1, 4, 0, 5, 2]
    assert view.filtered("id > 2").unfiltered().indices is None


def test_the_table_is_never_copied(table: pa.Table) -> None:
    view = FrameView.of(table).filtered("amount > 10").sorted("amount")
    assert view.table is table
