"""frames.diff: schema drift, rows, nulls, changed cells, multisets, exactness, duplicates, cancelling."""

from __future__ import annotations

import decimal
import sys
import threading

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from osiris_tui.frames.diff import DiffCancelled, DiffError, DiffJob, DuplicateKeyError, diff


def t(**columns):
    return pa.table(columns)


# -- schema ------------------------------------------------------------------------------------------
def test_added_dropped_and_retyped_columns():
    a = t(id=[1, 2], gone=["x", "y"], n=pa.array([1, 2], pa.int64()))
    b = t(id=[1, 2], n=pa.array([1.0, 2.0]), new=[True, False])
    r = diff(a, b, ["id"])
    assert [(c.name, c.type) for c in r.added_columns] == [("new", "bool")]
    assert [(c.name, c.type) for c in r.dropped_columns] == [("gone", "string")]
    assert [(x.name, x.before, x.after) for x in r.retyped] == [("n", "int64", "double")]
    assert r.compared == ("n",)
    assert r.changed == 0 and r.cells == {"n": 0}  # 1 == 1.0: the values did not change
    assert r.schema_changed and not r.equal
    assert r.shown_columns() == ["id", "n", "new", "gone"]


def test_string_layouts_are_not_a_retyping():
    a = t(s=pa.array(["a", "b"], pa.string()))
    b = t(s=pa.array(["a", "b"], pa.large_string()))
    assert diff(a, b).equal


def test_types_duckdb_cannot_compare_are_compared_by_text():
    a = t(id=[1, 2], v=pa.array([1, 2], pa.int64()))
    b = t(id=[1, 2], v=pa.array(["1", "3"]))
    r = diff(a, b, ["id"])
    assert r.retyped[0].name == "v"
    assert r.changed == 1 and r.page(0, 5).rows(["id"])[0].key == {"id": 2}


# -- rows and cells ----------------------------------------------------------------------------------
def test_rows_added_removed_and_changed_cells_by_key():
    a = t(id=[1, 2, 3, 4], amount=[10.0, 20.0, 30.0, 40.0], status=["a", "b", "c", "d"])
    b = t(id=[4, 3, 2, 5], amount=[40.0, 31.0, 20.0, 50.0], status=["d", "C", "b", "e"])
    r = diff(a, b, ["id"])
    assert (r.added, r.removed, r.changed, r.unchanged) == (1, 1, 1, 2)
    assert r.cells == {"amount": 1, "status": 1}
    assert r.differing == 3
    rows = r.page(0, 10).rows(r.keys)
    assert [(x.status, x.key["id"]) for x in rows] == [("removed", 1), ("changed", 3), ("added", 5)]  # key order
    by_id = {x.key["id"]: x for x in rows}
    assert by_id[3].changed == ("amount", "status")
    assert by_id[3].before["amount"] == 30.0 and by_id[3].after["amount"] == 31.0
    assert by_id[1].status == "removed" and by_id[1].after is None and by_id[1].before["status"] == "a"
    assert by_id[5].status == "added" and by_id[5].before is None


def test_composite_keys_and_null_keys_match():
    a = t(k1=[1, 1, None], k2=["x", "y", "z"], v=[1, 2, 3])
    b = t(k1=[1, 1, None], k2=["y", "x", "z"], v=[2, 9, 3])
    r = diff(a, b, ["k1", "k2"])
    assert (r.added, r.removed, r.changed) == (0, 0, 1)
    [row] = r.page(0, 5).rows(r.keys)
    assert row.key == {"k1": 1, "k2": "x"} and (row.before["v"], row.after["v"]) == (1, 9)


def test_null_count_deltas():
    a = t(id=[1, 2, 3], x=[1, None, 3], y=["a", "b", "c"])
    b = t(id=[1, 2, 3], x=[None, None, 3], y=["a", "b", "c"])
    r = diff(a, b, ["id"])
    assert [(n.name, n.before, n.after, n.delta) for n in r.null_changes] == [("x", 1, 2, 1)]
    assert r.cells["x"] == 1
    assert r.summary()["nulls"] == [{"name": "x", "a": 1, "b": 2, "delta": 1}]


def test_row_count_delta():
    r = diff(t(id=[1, 2, 3]), t(id=[1]), ["id"])
    assert (r.rows_a, r.rows_b, r.removed) == (3, 1, 2)
    assert r.summary()["rows"] == {"a": 3, "b": 1, "delta": -2}


def test_equal_inputs_in_any_row_order():
    a = t(id=[1, 2, 3], v=["a", None, "c"])
    b = t(id=[3, 1, 2], v=["c", "a", None])
    assert diff(a, b, ["id"]).equal
    assert diff(a, b).equal
    assert diff(a, a).summary()["equal"] is True


def test_pandas_frames_are_compared_as_the_cache_converts_them():
    a = pd.DataFrame({"id": [1, 2], "v": [1.5, 2.5]})
    b = pd.DataFrame({"id": [1, 2], "v": [1.5, 2.75]})
    r = diff(a, b, ["id"])
    assert r.changed == 1 and r.cells == {"v": 1}


def test_awkward_column_names():
    a = pa.table({'we"ird': [1, 2], "A": [1, 2], "a": [3, 4]})
    b = pa.table({'we"ird': [1, 2], "A": [1, 2], "a": [3, 5]})
    r = diff(a, b, ['we"ird'])
    assert r.cells == {"A": 0, "a": 1}


# -- without keys: multisets -------------------------------------------------------------------------
def test_without_keys_duplicated_rows_count_with_their_multiplicity():
    a = t(v=[1, 1, 1, 2], w=["x", "x", "x", "y"])
    b = t(v=[1, 2, 2], w=["x", "y", "y"])
    r = diff(a, b)
    assert r.kind == "rows" and r.keys == ()
    assert (r.removed, r.added, r.unchanged) == (2, 1, 2)
    page = r.page(0, 10)
    assert page.status == ["added", "removed", "removed"]
    assert page.after.column("v").to_pylist()[0] == 2
    assert page.before.column("v").to_pylist()[1:] == [1, 1]


def _except_all(a: pa.Table, b: pa.Table) -> tuple[int, int]:
    con = duckdb.connect()
    con.register("a", a)
    con.register("b", b)
    only_a = con.sql("SELECT count(*) FROM (SELECT * FROM a EXCEPT ALL SELECT * FROM b)").fetchall()[0][0]
    only_b = con.sql("SELECT count(*) FROM (SELECT * FROM b EXCEPT ALL SELECT * FROM a)").fetchall()[0][0]
    return only_a, only_b


values = st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 3)), st.sampled_from(["x", "y", None])),
                  max_size=12)


@settings(max_examples=30, deadline=None)
@given(values, values)
def test_multiset_counts_agree_with_except_all(rows_a, rows_b):
    def table(rows):
        return pa.table({"v": pa.array([r[0] for r in rows], pa.int64()),
                         "s": pa.array([r[1] for r in rows], pa.string())})

    a, b = table(rows_a), table(rows_b)
    r = diff(a, b)
    assert (r.removed, r.added) == _except_all(a, b)


# -- exact values ------------------------------------------------------------------------------------
def test_floats_compare_exactly():
    a = t(id=[1, 2, 3, 4], f=[0.0, float("nan"), float("nan"), 0.1 + 0.2])
    b = t(id=[1, 2, 3, 4], f=[-0.0, float("nan"), None, 0.3])
    r = diff(a, b, ["id"])
    changed = {row.key["id"] for row in r.page(0, 10).rows(r.keys)}
    assert changed == {1, 3, 4}  # -0.0 is not 0.0; NaN is NaN; NaN is not NULL; 0.1 + 0.2 is not 0.3
    assert diff(t(f=[0.0, -0.0]), t(f=[-0.0, 0.0])).equal  # the same multiset


def test_decimals_compare_by_value():
    a = t(id=[1, 2], d=pa.array([decimal.Decimal("1.10"), decimal.Decimal("2.00")], pa.decimal128(10, 2)))
    b = t(id=[1, 2], d=pa.array([decimal.Decimal("1.1000"), decimal.Decimal("2.0001")], pa.decimal128(12, 4)))
    r = diff(a, b, ["id"])
    assert r.changed == 1
    [row] = r.page(0, 5).rows(r.keys)
    assert row.key == {"id": 2} and row.after["d"] == decimal.Decimal("2.0001")


def test_timestamps_compare_at_the_finer_unit():
    a = t(id=[1, 2, 3], ts=pa.array([1, 1000, 5_000], pa.timestamp("ns")))
    b = t(id=[1, 2, 3], ts=pa.array([0, 1, 5], pa.timestamp("us")))
    r = diff(a, b, ["id"])
    assert [row.key["id"] for row in r.page(0, 5).rows(r.keys)] == [1]  # 1 ns is not 0 µs; 1000 ns is 1 µs
    [row] = r.page(0, 5).rows(r.keys)
    assert row.before["ts"].nanosecond == 1  # the page keeps nanoseconds


def test_big_integers_against_floats_compare_exactly():
    a = t(id=[1, 2], n=pa.array([2**53 + 1, 5], pa.int64()))
    b = t(id=[1, 2], n=pa.array([float(2**53), 5.0]))
    r = diff(a, b, ["id"])
    assert r.changed == 1 and r.page(0, 5).rows(r.keys)[0].key == {"id": 1}
    assert diff(a, b).removed == 1


# -- keys --------------------------------------------------------------------------------------------
def test_duplicate_keys_are_an_error_naming_the_side_and_an_example():
    a = t(id=[1, 1, 2], v=[1, 2, 3])
    b = t(id=[1, 2], v=[1, 3])
    with pytest.raises(DuplicateKeyError) as info:
        diff(a, b, ["id"], names=("before", "after"))
    err = info.value
    assert err.side == "before" and err.count == 1 and err.example == {"id": 1} and err.times == 2
    assert "id is not unique in before" in str(err)


def test_a_key_repeated_on_one_side_only_is_just_removed_rows():
    r = diff(t(id=[1, 7, 7], v=[1, 2, 3]), t(id=[1], v=[1]), ["id"])
    assert (r.removed, r.added, r.changed) == (2, 0, 0)


def test_an_unknown_key_column_names_the_column_and_side():
    with pytest.raises(DiffError) as info:
        diff(t(id=[1]), t(key=[1]), ["id"], names=("a.parquet", "b.parquet"))
    assert info.value.column == "id" and info.value.side == "b.parquet"
    assert "no column 'id' in b.parquet" in str(info.value)


def test_keys_of_incomparable_types_are_an_error():
    with pytest.raises(DiffError, match="cannot match rows by id"):
        diff(t(id=pa.array([1, 2])), t(id=pa.array([[1], [2]])), ["id"])


# -- pages and size ----------------------------------------------------------------------------------
def test_pages_are_taken_lazily_from_the_tables():
    n = 100_000
    ids = np.arange(n)
    a = t(id=ids, v=ids * 2)
    b = t(id=ids, v=np.where(ids % 10 == 0, ids * 2 + 1, ids * 2))
    r = diff(a, b, ["id"])
    assert r.changed == n // 10 and r.differing == n // 10
    page = r.page(5, 8)
    assert len(page) == 3 and page.start == 5
    assert page.after.column("id").to_pylist() == [50, 60, 70]
    assert r.page(n, n + 10).status == []
    assert r._rows.num_columns == 3  # row numbers and one flag per compared column, not the values


# -- cancelling --------------------------------------------------------------------------------------
def test_a_set_flag_cancels_before_any_query():
    flag = threading.Event()
    flag.set()
    with pytest.raises(DiffCancelled):
        diff(t(v=[1]), t(v=[2]), cancel=flag)


def test_cancel_from_another_thread_interrupts_the_query():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        n = 2_000_000
        rng = np.random.default_rng(1)
        a = t(v=rng.integers(0, n, n), w=rng.random(n))
        b = t(v=rng.integers(0, n, n), w=rng.random(n))
        job = DiffJob(a, b)
        outcome: list[BaseException | object] = []

        def run() -> None:
            try:
                outcome.append(job.run())
            except BaseException as exc:
                outcome.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        job.cancel()
        thread.join(10)
        assert not thread.is_alive()
        assert isinstance(outcome[0], DiffCancelled)
    finally:
        sys.setswitchinterval(old)


def test_outputs_in_key_order_are_matched_by_position_with_the_same_answer():
    rng = np.random.default_rng(5)
    n = 5_000
    ids = np.arange(n) * 3
    a = t(id=ids, v=rng.integers(0, 5, n), f=rng.random(n), s=pa.array(rng.choice(["x", "y", None], n)))
    hit = rng.random(n) < 0.05
    b = t(id=ids, v=np.where(hit, a.column("v").to_numpy() + 1, a.column("v").to_numpy()),
          f=np.where(rng.random(n) < 0.01, -0.0, a.column("f").to_numpy()), s=a.column("s"))
    job = DiffJob(a, b, ["id"])
    assert job._aligned()
    shuffled = b.take(pa.array(rng.permutation(n)))
    assert not DiffJob(a, shuffled, ["id"])._aligned()
    fast, general = diff(a, b, ["id"]), diff(a, shuffled, ["id"])
    assert (fast.changed, fast.added, fast.removed, fast.cells) == \
        (general.changed, general.added, general.removed, general.cells)
    assert fast.changed > 0
    assert fast.page(0, 50).rows(["id"]) == general.page(0, 50).rows(["id"])
    assert not DiffJob(t(id=[1, 1, 2]), t(id=[1, 1, 2]), ["id"])._aligned()  # not strictly ascending
    with pytest.raises(DuplicateKeyError):
        diff(t(id=[1, 1, 2]), t(id=[1, 1, 2]), ["id"])
