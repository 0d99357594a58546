"""DataFrameCache: step outputs kept between steps, with their memory size, within a memory budget.

With a budget, frames leave memory once the total exceeds it and come back from disk when asked for:
first those on disk already (a checkpoint holds them: `back`) that no later step needs, then the others
on disk, then — when no checkpoint is coming for them — frames written to a spill file. Frames on
screen (`pin`) and the one just put stay.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (a frame's arrival imports them; the app paints before)
    import pandas as pd
    import pyarrow as pa


logger = logging.getLogger(__name__)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


def give_back_memory() -> None:
    """Return freed memory to the system. Big frames are freed into malloc's heap (glibc stops using
    mmap for them once one has been freed), where it would stay, counted as ours, without this."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def frame_bytes(df: pd.DataFrame) -> int:
    """Memory a frame holds (object columns measured deeply): `df.memory_usage(index=True, deep=True).sum()`,
    without the Series that builds (which costs more than measuring a small frame does)."""
    return int(df.index.memory_usage(deep=True)) + sum(int(c.memory_usage(index=False, deep=True))
                                                        for _, c in df.items())


SAMPLE_VALUES = 1000  # values measured of each object column by `estimated_bytes`


def estimated_bytes(df: pd.DataFrame) -> tuple[int, bool]:
    """`frame_bytes`, and whether it is exact. Measuring a column of Python objects deeply walks every
    value (a second or so for a few million strings), so such a column longer than `SAMPLE_VALUES` is
    estimated from that many values spread over it; every other column costs the same either way."""
    import pandas as pd  # (loaded: there is a frame)

    def deep(values: pd.Series | pd.Index) -> bool:
        return values.dtype == object or getattr(values.dtype, "storage", None) == "python"

    def measure(values: pd.Series | pd.Index) -> tuple[int, bool]:
        n = len(values)
        if n <= SAMPLE_VALUES or not deep(values):
            size = values.memory_usage(deep=True) if isinstance(values, pd.Index) else \
                values.memory_usage(index=False, deep=True)
            return int(size), True
        sample = values[:: -(-n // SAMPLE_VALUES)]
        size = sample.memory_usage(deep=True) if isinstance(sample, pd.Index) else \
            sample.memory_usage(index=False, deep=True)
        return int(size * n / len(sample)), False

    total, exact = measure(df.index)
    for _, column in df.items():
        size, whole = measure(column)
        total += size
        exact = exact and whole
    return total, exact


@dataclass
class CacheEntry:
    df: pd.DataFrame | None
    rows: int
    spill_path: Path | None = None  # a spill file of ours (removed with the entry)
    _nbytes: int | None = None
    arrow: pa.Table | None = None  # the frame as Arrow, converted once (see DataFrameCache.table)
    arrow_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    backing: Path | None = None  # a checkpoint file holding the frame exactly (not ours to remove)
    backing_soon: bool = False  # a checkpoint of it is being written
    counted: int | None = None  # what the cache's running total holds for it (None: not in memory)
    counted_exact: bool = True  # `counted` is `nbytes`, not an estimate

    @property
    def nbytes(self) -> int:
        """Measured on first use: a deep measurement of a big frame is not free, and not every step needs it."""
        if self._nbytes is None:
            self._nbytes = frame_bytes(self.df) if self.df is not None else 0
        return self._nbytes

    def size_for_budget(self) -> tuple[int, bool]:
        """`nbytes` once measured, else `estimated_bytes` (and whether it is exact)."""
        if self._nbytes is not None or self.df is None:
            return self.nbytes, True
        size, exact = estimated_bytes(self.df)
        if exact:
            self._nbytes = size
        return size, exact

    @property
    def on_disk(self) -> Path | None:
        return self.backing if self.backing is not None and self.backing.is_file() else self.spill_path


class DataFrameCache:
    """Step id → DataFrame. Thread-safe.

    With a `budget_bytes`, frames leave memory when the total exceeds the budget (see the module's
    docstring) and are read back on `get`/`table`. `needed` (the frames later steps read) and `pin`
    (the frames on screen) steer which go first; a frame with no file on disk is spilled to Parquet in
    `spill_dir` only when no checkpoint of it is on its way. The budget is checked against a running
    total, so a step costs the same however many frames came before it; a frame is counted when it
    comes (long object columns by an estimate, trusted only while the total is well within the budget).

    Each frame is also kept as Arrow (`table`), converted once by `frames.to_arrow` on first use or,
    with `convert_in_background` (what the app sets: it shows frames), in a background thread started by
    `put`, so showing a frame never waits for a conversion it can avoid. A headless run leaves it off:
    nothing there looks at most frames, and the conversion would compete with the next step. Data flows
    DataFrame -> Arrow; the table is dropped with the frame (evict, replace, spill).
    """

    def __init__(self, budget_bytes: int | None = None, spill_dir: Path | None = None,
                 convert_in_background: bool = False) -> None:
        self.spill_dir = spill_dir
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._lock = threading.RLock()
        self._budget = budget_bytes
        self.convert_in_background = convert_in_background
        self._pinned: set[str] = set()
        self._needed: set[str] | None = None  # None: unknown (every frame counts as needed)
        # What the budget checks each time, kept as frames come and go (not summed over every frame).
        self._resident = 0  # bytes of the frames in memory (`CacheEntry.counted`)
        self._estimated = 0  # how many of those are counted by an estimate
        self._filed: set[str] = set()  # steps whose frame has a file (a checkpoint or a spill file)

    @property
    def budget_bytes(self) -> int | None:
        return self._budget

    @budget_bytes.setter
    def budget_bytes(self, value: int | None) -> None:
        with self._lock:
            self._budget = value
            for entry in self._entries.values():
                self._uncount(entry)
                if entry.df is not None:
                    self._count(entry)

    def put(self, step_id: str, df: pd.DataFrame, *, backing: Path | None = None, backing_soon: bool = False) -> None:
        """Keep `df`; `backing`: a file that already holds it exactly; `backing_soon`: one is being written."""
        with self._lock:
            self._drop_spill(step_id)
            self._forget(step_id)
            entry = CacheEntry(df, len(df), backing=backing, backing_soon=backing_soon)
            self._entries[step_id] = entry
            self._entries.move_to_end(step_id)
            if backing is not None:
                self._filed.add(step_id)
            self._count(entry)
            self._enforce_budget(keep=step_id)
        if self.convert_in_background:
            threading.Thread(target=self._convert, args=(entry,), name=f"osiris-arrow-{step_id}",
                             daemon=True).start()

    def back(self, step_id: str, path: Path | None) -> None:
        """The checkpoint of `step_id`'s frame is written (`path`), or could not be (None)."""
        with self._lock:
            entry = self._entries.get(step_id)
            if entry is None:
                return
            entry.backing_soon = False
            if path is not None:
                entry.backing = path
                self._filed.add(step_id)
            self._enforce_budget(keep=None)

    def pin(self, step_ids: Iterable[str]) -> None:
        """The frames on screen: they stay in memory (replaces the previous set)."""
        with self._lock:
            self._pinned = set(step_ids)

    def set_needed(self, step_ids: Iterable[str] | None) -> None:
        """The frames a later step reads (None: unknown); the others leave memory first."""
        with self._lock:
            self._needed = None if step_ids is None else set(step_ids)
            self._enforce_budget(keep=None)

    def table(self, step_id: str) -> pa.Table | None:
        """The cached frame as an Arrow table (None when there is none), converted once: concurrent
        callers wait for the one conversion in progress instead of starting another."""
        with self._lock:
            entry = self._entries.get(step_id)
        if entry is None:
            return None
        for _ in range(3):  # the budget may move the frame out again between reading it back and converting
            table = entry.arrow
            if table is not None:
                return table
            df = entry.df if entry.df is not None else self.get(step_id)  # out of memory: read back first
            if df is None or self._entries.get(step_id) is not entry:
                return None
            table = self._convert(entry, df)
            if table is not None:
                return table
        return None

    def _convert(self, entry: CacheEntry, frame: pd.DataFrame | None = None) -> pa.Table | None:
        from osiris_tui.frames.export import to_arrow

        with entry.arrow_lock:
            if entry.arrow is None:
                df = frame if frame is not None else entry.df
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
            if entry.df is None:
                from osiris_tui.runtime import frame_files

                path = entry.on_disk
                if path is None:  # a step must fail loudly rather than run without one of its inputs
                    raise FileNotFoundError(f"the file holding the output of {step_id!r} is gone (was the cache "
                                            f"cleared?): re-run {step_id!r}")
                entry.df = frame_files.read_frame(path)
                self._count(entry)
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
        """The frame is out of memory (on disk, read back when asked for)."""
        entry = self._entries.get(step_id)
        return bool(entry and entry.df is None)

    def over_budget_until_written(self, extra: int = 0) -> bool:
        """Over the budget (with `extra` bytes more), with frames in memory only until their checkpoints
        are written."""
        if self.budget_bytes is None:
            return False
        entries = list(self._entries.values())
        return self.total_bytes + extra > self.budget_bytes and any(e.df is not None and e.backing_soon
                                                                    for e in entries)

    @property
    def total_bytes(self) -> int:
        return sum(e.nbytes for e in list(self._entries.values()) if e.df is not None)

    def evict(self, step_id: str) -> None:
        with self._lock:
            self._drop_spill(step_id)
            self._forget(step_id)
            self._entries.pop(step_id, None)

    def clear(self) -> None:
        with self._lock:
            for step_id in list(self._entries):
                self._drop_spill(step_id)
            self._entries.clear()
            self._resident, self._estimated = 0, 0
            self._filed.clear()

    def spill(self, step_id: str) -> Path | None:
        """Write a frame to Parquet and drop it from memory; returns the file."""
        from osiris_tui.runtime import frame_files

        with self._lock:
            entry = self._entries.get(step_id)
            if entry is None or entry.df is None or self.spill_dir is None:
                return None
            self.spill_dir.mkdir(parents=True, exist_ok=True)
            path = self.spill_dir / f"{step_id}.parquet"
            _ = entry.nbytes  # keep the in-memory size for display after the frame leaves memory
            try:
                frame_files.write_frame(entry.df, path)
            except (frame_files.NotExact, OSError):  # it stays in memory
                logger.warning("cannot spill the frame of %s", step_id, exc_info=True)
                return None
            self._uncount(entry)
            entry.spill_path, entry.df, entry.arrow = path, None, None
            self._filed.add(step_id)
            return path

    def _release(self, entry: CacheEntry) -> None:
        _ = entry.nbytes
        self._uncount(entry)
        entry.df, entry.arrow = None, None

    def _count(self, entry: CacheEntry, *, exactly: bool = False) -> None:
        """Add a frame now in memory to the running total (measured, or estimated: see `estimated_bytes`)."""
        if self._budget is None:
            return  # (nothing to keep to: no frame is measured)
        size, exact = (entry.nbytes, True) if exactly else entry.size_for_budget()
        entry.counted, entry.counted_exact = size, exact
        self._resident += size
        self._estimated += not exact

    def _uncount(self, entry: CacheEntry) -> None:
        if entry.counted is not None:
            self._resident -= entry.counted
            self._estimated -= not entry.counted_exact
            entry.counted, entry.counted_exact = None, True

    def _forget(self, step_id: str) -> None:
        entry = self._entries.get(step_id)
        if entry is not None:
            self._uncount(entry)
        self._filed.discard(step_id)

    def _within_budget(self) -> bool:
        """Whether the running total is surely within the budget (an estimate only when well within it)."""
        assert self.budget_bytes is not None
        if self._estimated:
            return self._resident * 2 <= self.budget_bytes
        return self._resident <= self.budget_bytes

    def _enforce_budget(self, keep: str | None) -> None:
        if self.budget_bytes is None:
            return
        if not self._filed and self._within_budget():
            return  # nothing to release: no frame on disk, and the frames in memory fit
        for entry in self._entries.values():  # what follows goes by exact sizes
            if entry.counted is not None and not entry.counted_exact:
                self._uncount(entry)
                self._count(entry, exactly=True)
        needed = self._needed
        resident = [(sid, e) for sid, e in self._entries.items()
                    if e.df is not None and sid != keep and sid not in self._pinned]

        def later(sid: str) -> bool:
            return needed is None or sid in needed

        on_disk = [(sid, e) for sid, e in resident if e.on_disk is not None]
        released = False
        for _, entry in on_disk:  # on disk, on no screen and read by no later step: out, whatever the room
            if not later(_):
                self._release(entry)
                released = True
        total = self.total_bytes
        order = [p for p in on_disk if later(p[0])]
        if self.spill_dir is not None:
            spillable = [(sid, e) for sid, e in resident if e.on_disk is None and not e.backing_soon]
            order += [p for p in spillable if not later(p[0])] + [p for p in spillable if later(p[0])]
        for sid, entry in order:
            if total <= self.budget_bytes:
                break
            size = entry.nbytes
            if entry.on_disk is not None:
                self._release(entry)
            elif self.spill(sid) is None:
                continue
            total -= size
            released = True
        if released:
            give_back_memory()

    def _drop_spill(self, step_id: str) -> None:
        entry = self._entries.get(step_id)
        if entry and entry.spill_path is not None:
            entry.spill_path.unlink(missing_ok=True)
