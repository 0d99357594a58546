"""A reused run directory: the new run writes its files over the previous run's instead of deleting
them all first and making each anew.

When a run starts clean in a directory an earlier run used, that run's `artifacts/` and `cfg/` are set
aside (renamed, out of sight); the new run then takes the step directories and files it writes from
there, and what is left goes when it closes. Freeing hundreds of files and making as many again costs
far more than rewriting them on some file systems (ext4 without a journal looks past every inode freed
in the last minutes each time it makes a file: a run directory reused every few seconds made each new
file cost a few tenths of a millisecond, more than a small step's own work).

Only real directories and regular files with a single link are taken over; anything else (a symlink, a
file also linked elsewhere) is left to be removed, and the new file is made afresh.
"""

from __future__ import annotations

import os
import shutil
import stat
import threading
from pathlib import Path

SET_ASIDE = ("artifacts", "cfg")
_CLEANED = "cleaned_config.json"
_OPEN = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def aside(run_dir: Path, name: str) -> Path:
    return run_dir / f".osiris-tui-previous-{name}"


def set_aside(run_dir: Path) -> None:
    """At the start of a clean run in `run_dir`: move the previous run's `artifacts/` and `cfg/` aside
    (what a run that ended badly left aside is removed first). Raises OSError."""
    for name in SET_ASIDE:
        entry, target = run_dir / name, aside(run_dir, name)
        _remove(target)
        if _is_dir(entry):
            os.rename(entry, target)


def write_over(path: Path, text: str) -> None:
    """Write `text` to `path`: over the file there when it is a regular file with a single link (without
    emptying it first: emptying a file makes ext4 write its old blocks out when it closes), else afresh."""
    data = text.encode("utf-8")
    try:
        fd = -1 if os.path.islink(path) else os.open(path, _OPEN, 0o666)  # (a symlink is replaced below)
    except OSError:
        if not os.path.lexists(path):
            raise
        fd = -1  # a file we may not write to: replaced below
    try:
        info = os.fstat(fd) if fd >= 0 else None
        if info is None or not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:  # not ours to change in place
            if fd >= 0:
                os.close(fd)
                fd = -1
            os.unlink(path)
            fd = os.open(path, _CREATE, 0o666)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.ftruncate(fd, len(data))
    finally:
        if fd >= 0:
            os.close(fd)


class PreviousRun:
    """What `set_aside` kept of an earlier run in `run_dir`, for this run to write over. Thread-safe."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self._artifacts: Path | None = aside(run_dir, "artifacts")
        self._cfg: Path | None = aside(run_dir, "cfg")
        if not _is_dir(self._artifacts):
            self._artifacts = None
        if not _is_dir(self._cfg):
            self._cfg = None
        self._kept: set[Path] = set()  # the previous run's files in place, not yet written by this run
        self._lock = threading.Lock()

    def take_step_dir(self, path: Path) -> bool:
        """Make step directory `path` the previous run's one of the same name, when that holds no more than
        its cleaned config (anything else it held would be left behind). False: make it yourself."""
        if self._artifacts is None:
            return False
        old = self._artifacts / path.name
        try:
            if not _is_dir(old):
                return False
            with os.scandir(old) as entries:
                held = [e for e in entries]
            if any(e.name != _CLEANED or not _single(e) for e in held):
                return False
            os.rename(old, path)
        except OSError:
            return False
        if held:
            with self._lock:
                self._kept.add(path / _CLEANED)
        return True

    def take_cfg_dir(self, path: Path) -> bool:
        """Make `path` (the run's cfg directory) the previous run's, when it holds regular files only."""
        old = self._cfg
        if old is None:
            return False
        try:
            with os.scandir(old) as entries:
                held = [e for e in entries]
            if not all(_single(e) for e in held):
                return False
            os.rename(old, path)
        except OSError:
            return False
        self._cfg = None
        with self._lock:
            self._kept.update(path / e.name for e in held)
        return True

    def is_new(self, path: Path) -> bool:
        """Whether this run has not written `path` yet (a previous run's file kept in its place counts as new)."""
        with self._lock:
            if path in self._kept:
                return True
        return not path.exists()

    def written(self, path: Path) -> None:
        with self._lock:
            self._kept.discard(path)

    def drop_kept(self, under: Path) -> None:
        """Remove the previous run's files under `under` that this run did not write over."""
        with self._lock:
            gone = {p for p in self._kept if p.parent == under}
            self._kept -= gone
        for p in gone:
            try:
                _remove(p)
            except OSError:
                pass

    def close(self) -> None:
        """Remove whatever of the previous run this run did not take over (what cannot be removed now is
        removed when the next run starts)."""
        with self._lock:
            gone, self._kept = self._kept, set()
        for path in [*gone, *(p for p in (self._artifacts, self._cfg) if p is not None)]:
            try:
                _remove(path)
            except OSError:
                pass
        self._artifacts = self._cfg = None


def _is_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _single(entry: os.DirEntry[str]) -> bool:
    """A regular file (not a symlink) with one link."""
    try:
        info = entry.stat(follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_nlink == 1


def _remove(path: Path) -> None:
    try:
        if _is_dir(path):
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        pass
