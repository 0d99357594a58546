"""DataFrameCache: step outputs kept between steps, with their memory size, spilled to Parquet over budget."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


def frame_bytes(df: pd.DataFrame) -> int:
    """Memory a frame holds (object columns measured deeply)."""
    return int(df.memory_usage(index=True, deep=True).sum())


@dataclass
class CacheEntry:
    df: pd.DataFrame | None
    rows: int
    spill_path: Path | None = None
    _nbytes: int | None = None

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
    """

    def __init__(self, budget_bytes: int | None = None, spill_dir: Path | None = None) -> None:
        self.budget_bytes = budget_bytes
        self.spill_dir = spill_dir
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._lock = threading.RLock()

    def put(self, step_id: str, df: pd.DataFrame) -> None:
        with self._lock:
            self._drop_spill(step_id)
            self._entries[step_id] = CacheEntry(df, len(df))
            self._entries.move_to_end(step_id)
            self._enforce_budget(keep=step_id)

    def get(self, step_id: str) -> pd.DataFrame | None:
        with self._lock:
            entry = self._entries.get(step_id)
            if entry is None:
                return None
            if entry.df is None and entry.spill_path is not None:
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
            entry.spill_path, entry.df = path, None
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
