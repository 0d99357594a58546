"""DataFrameCache: step outputs kept between steps, with their memory size, spilled to Parquet over budget."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (a frame's arrival imports them; the app paints before)
    import pandas as pd
    import pyarrow as pa

logger = logging.getLogger(__name__)


def frame_bytes(df: pd.DataFrame) -> int:
    """Memory a frame holds (object columns measured deeply)."""
    return int(df.memory_usage(index=True, deep=True).sum())


@dataclass
class CacheEntry:
    df: pd.DataFrame | None
    rows: int
    spill_path: Path | None = None
    _nbytes: int | None = None
    arrow: pa.Table | None = None  # the frame as Arrow, converted once (see DataFrameCache.table)
    arrow_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def nbytes(self) -> int:
        """Measured on first use: a deep measurement of a big frame is not free, and not every step needs it."""
        if self._nbytes is None:
            self._nbytes = frame_bytes(self.df) if self.df is not None else 0
        return self._nbytes


class DataFrameCache:
    """Step id → DataFrame. Thread-safe.

    With a `budget_bytes`, the least recently used frames are written to Parquet in `spill_dir` once the
    total exceeds the budget, and read back on `get`.

    Each frame is also kept as Arrow (`table`), converted once by `frames.to_arrow` on first use or,
    with `convert_in_background` (what the app sets: it shows frames), in a background thread started by
    `put`, so showing a frame never waits for a conversion it can avoid. A headless run leaves it off:
    nothing there looks at most frames, and the conversion would compete with the next step. Data flows
    DataFrame -> Arrow; the table is dropped with the frame (evict, replace, spill).
    """

    def __init__(self, budget_bytes: int | None = None, spill_dir: Path | None = None,
                 convert_in_background: bool = False) -> None:
        self.budget_bytes = budget_bytes
        self.spill_dir = spill_dir
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._lock = threading.RLock()
        self.convert_in_background = convert_in_background

    def put(self, step_id: str, df: pd.DataFrame) -> None:
        with self._lock:
            self._drop_spill(step_id)
            entry = CacheEntry(df, len(df))
            self._entries[step_id] = entry
            self._entries.move_to_end(step_id)
            self._enforce_budget(keep=step_id)
        if self.convert_in_background:
            threading.Thread(target=self._convert, args=(entry,), name=f"osiris-arrow-{step_id}",
                             daemon=True).start()

    def table(self, step_id: str) -> pa.Table | None:
        """The cached frame as an Arrow table (None when there is none), converted once: concurrent
        callers wait for the one conversion in progress instead of starting another."""
        with self._lock:
            entry = self._entries.get(step_id)
        if entry is None:
            return None
        if entry.arrow is not None:
            return entry.arrow
        if entry.df is None and self.get(step_id) is None:  # spilled: read back first
            return None
        return self._convert(entry)

    def _convert(self, entry: CacheEntry) -> pa.Table | None:
        from osiris_tui.frames.export import to_arrow

        with entry.arrow_lock:
            if entry.arrow is None:
                df = entry.df
                if df is None:
                    return None
                try:
                    entry.arrow = to_arrow(df)
                except Exception:  # a frame Arrow cannot hold: the caller gets None
                    logger.exception("cannot convert a cached frame to Arrow")
                    return None
            return entry.arrow

    def get(self, step_id: str) -> pd.DataFrame | None:
        with self._lock:
            entry = self._entries.get(step_id)
            if entry is None:
                return None
            if entry.df is None and entry.spill_path is not None:
                import pandas as pd

                entry.df = pd.read_parquet(entry.spill_path)
            self._entries.move_to_end(step_id)
            df = entry.df
            self._enforce_budget(keep=step_id)
            return df

    def __contains__(self, step_id: object) -> bool:
        return step_id in self._entries

    def nbytes(self, step_id: str) -> int | None:
        entry = self._entries.get(step_id)
        return entry.nbytes if entry else None

    def rows(self, step_id: str) -> int | None:
        entry = self._entries.get(step_id)
        return entry.rows if entry else None

    def is_spilled(self, step_id: str) -> bool:
        entry = self._entries.get(step_id)
        return bool(entry and entry.df is None)

    @property
    def total_bytes(self) -> int:
        return sum(e.nbytes for e in self._entries.values() if e.df is not None)

    def evict(self, step_id: str) -> None:
        with self._lock:
            self._drop_spill(step_id)
            self._entries.pop(step_id, None)

    def clear(self) -> None:
        with self._lock:
            for step_id in list(self._entries):
                self._drop_spill(step_id)
            self._entries.clear()

    def spill(self, step_id: str) -> Path | None:
        """Write a frame to Parquet and drop it from memory; returns the file."""
        with self._lock:
            entry = self._entries.get(step_id)
            if entry is None or entry.df is None or self.spill_dir is None:
                return None
            self.spill_dir.mkdir(parents=True, exist_ok=True)
            path = self.spill_dir / f"{step_id}.parquet"
            _ = entry.nbytes  # keep the in-memory size for display after the frame leaves memory
            entry.df.to_parquet(path)
            entry.spill_path, entry.df, entry.arrow = path, None, None
            return path

    def _enforce_budget(self, keep: str) -> None:
        if self.budget_bytes is None or self.spill_dir is None:
            return
        for step_id in list(self._entries):
            if self.total_bytes <= self.budget_bytes:
                break
            if step_id != keep:
                self.spill(step_id)

    def _drop_spill(self, step_id: str) -> None:
        entry = self._entries.get(step_id)
        if entry and entry.spill_path is not None:
            entry.spill_path.unlink(missing_ok=True)
