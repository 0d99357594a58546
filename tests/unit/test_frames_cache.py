"""DataFrameCache.table: Arrow once per frame, in the background, thread-safe; the session's tables."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pyarrow as pa
import pytest

from osiris_tui.frames import export as ex
from osiris_tui.runtime.cache import DataFrameCache


def test_table_is_converted_once_under_concurrent_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = ex.to_arrow

    def slow(df: pd.DataFrame) -> pa.Table:
        calls.append(threading.current_thread().name)
        time.sleep(0.2)
        return real(df)

    monkeypatch.setattr(ex, "to_arrow", slow)
    cache = DataFrameCache()  # (no background conversion: callers race for the one conversion)
    cache.put("a", pd.DataFrame({"x": [1, 2, 3]}))
    results: list[pa.Table | None] = []
    threads = [threading.Thread(target=lambda: results.append(cache.table("a"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(results) == 8 and all(r is results[0] for r in results)
    assert results[0] is not None and results[0].column("x").to_pylist() == [1, 2, 3]


def test_conversion_starts_in_the_background_on_put(monkeypatch: pytest.MonkeyPatch) -> None:
    started = threading.Event()
    real = ex.to_arrow

    def watched(df: pd.DataFrame) -> pa.Table:
        started.set()
        return real(df)

    monkeypatch.setattr(ex, "to_arrow", watched)
    cache = DataFrameCache(convert_in_background=True)
    cache.put("a", pd.DataFrame({"x": [1]}))
    assert started.wait(5)
    table = cache.table("a")
    assert table is not None and table is cache.table("a")


def test_tables_go_with_their_frames(tmp_path) -> None:
    cache = DataFrameCache(spill_dir=tmp_path)
    assert cache.table("nope") is None
    cache.put("a", pd.DataFrame({"x": [1]}))
    first = cache.table("a")
    cache.put("a", pd.DataFrame({"x": [2]}))
    second = cache.table("a")
    assert first is not second and second is not None and second.column("x").to_pylist() == [2]
    cache.spill("a")
    back = cache.table("a")  # read back from the spill file
    assert back is not None and back.column("x").to_pylist() == [2]
    cache.evict("a")
    assert cache.table("a") is None


def _frames() -> dict[str, pd.DataFrame]:
    return {
        "numbers": pd.DataFrame({"x": range(5000), "y": [0.5] * 5000}),
        "text": pd.DataFrame({"s": [f"row {i}" for i in range(5000)]}, index=pd.RangeIndex(5000)),
        "objects": pd.DataFrame({"o": [f"value {i}" * (i % 7) for i in range(5000)], "n": range(5000)})
        .astype({"o": object}),
        "object index": pd.DataFrame({"v": range(3000)}, index=pd.Index([f"k{i}" for i in range(3000)], dtype=object)),
        "empty": pd.DataFrame(),
        "small objects": pd.DataFrame({"o": [[1], {"a": 2}, "x"]}),
    }


@pytest.mark.parametrize("name", list(_frames()))
def test_frame_bytes_is_what_pandas_measures(name: str) -> None:
    from osiris_tui.runtime.cache import frame_bytes

    df = _frames()[name]
    assert frame_bytes(df) == int(df.memory_usage(index=True, deep=True).sum())


def test_long_object_columns_are_estimated_the_rest_measured() -> None:
    from osiris_tui.runtime.cache import SAMPLE_VALUES, estimated_bytes

    frames = _frames()
    for name in ("numbers", "text", "empty", "small objects"):
        df = frames[name]
        assert estimated_bytes(df) == (int(df.memory_usage(index=True, deep=True).sum()), True), name
    for name in ("objects", "object index"):
        df = frames[name]
        assert len(df) > SAMPLE_VALUES and object in (*df.dtypes, df.index.dtype)
        size, exact = estimated_bytes(df)
        assert not exact
        assert abs(size - df.memory_usage(index=True, deep=True).sum()) < 0.05 * size, name


def test_the_budget_keeps_a_running_total_of_what_is_in_memory(tmp_path) -> None:
    frames = _frames()
    sizes = {k: int(df.memory_usage(index=True, deep=True).sum()) for k, df in frames.items()}
    cache = DataFrameCache(budget_bytes=10**12, spill_dir=tmp_path)

    def running() -> int:
        return cache._resident

    cache.put("a", frames["numbers"])
    cache.put("b", frames["text"])
    assert running() == sizes["numbers"] + sizes["text"] == cache.total_bytes
    cache.put("a", frames["empty"])  # replaced
    assert running() == sizes["empty"] + sizes["text"]
    cache.spill("b")
    assert running() == sizes["empty"] == cache.total_bytes
    cache.get("b")  # read back
    assert running() == sizes["empty"] + sizes["text"] == cache.total_bytes
    cache.evict("a")
    cache.evict("b")
    assert running() == 0
    cache.put("c", frames["objects"])  # estimated
    cache.put("b", frames["text"])
    assert cache._estimated == 1 and 0 < running() - sizes["text"] != sizes["objects"]
    cache.budget_bytes = 1  # over: everything is measured, then frames go to disk
    cache.set_needed({"c"})
    assert cache._estimated == 0
    assert cache.is_spilled("b") and cache.is_spilled("c")
    assert running() == 0 == cache.total_bytes
    cache.clear()
    assert running() == 0 and cache._estimated == 0


def test_an_estimate_is_trusted_only_well_within_the_budget(tmp_path) -> None:
    df = _frames()["objects"]
    exact = int(df.memory_usage(index=True, deep=True).sum())
    cache = DataFrameCache(budget_bytes=int(exact * 1.5), spill_dir=tmp_path)  # within, not well within
    cache.put("a", df)
    cache.put("b", pd.DataFrame({"x": [1]}))
    assert cache._estimated == 0  # the estimate was replaced by the measurement
    assert not cache.is_spilled("a") and not cache.is_spilled("b")  # (and both fit)
    roomy = DataFrameCache(budget_bytes=exact * 3, spill_dir=tmp_path)
    roomy.put("a", df)
    roomy.put("b", pd.DataFrame({"x": [1]}))
    assert roomy._estimated == 1  # well within: never measured
