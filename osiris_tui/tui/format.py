"""How numbers look on screen: durations, elapsed time, row counts, byte sizes.

Every widget formats through these functions, called as attributes of this module
(`fmt.duration(x)`), so snapshot tests can monkeypatch the time-dependent ones to fixed strings.
"""

from __future__ import annotations


def duration(seconds: float | None) -> str:
    """A step's duration: `850µs`, `31ms`, `1.24s`, `12.3s`, `2m05s`, `1h02m`; empty when unknown."""
    if seconds is None:
        return ""
    if seconds < 0.001:
        return f"{seconds * 1_000_000:.0f}µs"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    return _long(seconds)


def seconds(value: float | None) -> str:
    """A measured duration as it was recorded, for the event log: `0.1234s` (never rounded further)."""
    if value is None:
        return ""
    from osiris_tui.frames.format import plain

    return f"{plain(value)}s"


def elapsed(seconds: float | None) -> str:
    """The run's elapsed time in the header: `0.0s`, `12.3s`, `2m05s`, `1h02m`."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    return _long(seconds)


def _long(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def age(seconds: float | None) -> str:
    """How long ago, for checkpoints: `now`, `40s ago`, `12m ago`, `3h ago`, `2d ago`; empty when unknown."""
    if seconds is None:
        return ""
    if seconds < 1:
        return "now"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return f"{int(seconds)}s ago"


def rows(count: int | None) -> str:
    """`1 row`, `1,204 rows`; empty when unknown."""
    if count is None:
        return ""
    return f"{count:,} row" + ("" if count == 1 else "s")


def count(n: int) -> str:
    """A plain number with thousands separators."""
    return f"{n:,}"


def nbytes(size: int | None) -> str:
    """`512 B`, `1.5 KB`, `38.1 MB`, `2.0 GB` (powers of 1024); empty when unknown."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"  # pragma: no cover


def traceback(text: str) -> str:
    """A traceback with long paths shortened: the working directory dropped, `…/site-packages/` kept."""
    import os
    import re

    cwd = os.getcwd().rstrip(os.sep) + os.sep
    text = text.replace(cwd, "")
    return re.sub(r'File "[^"]*?[/\\](site-packages|dist-packages)[/\\]', r'File "…/\1/', text)
