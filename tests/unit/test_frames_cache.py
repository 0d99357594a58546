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
