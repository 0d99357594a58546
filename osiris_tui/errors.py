"""Error types that carry where a problem is and how to fix it.

Every layer raises an :class:`InputError` subclass for bad input. The CLI turns it into one line
(`render()`) and exit code 2; the app shows the same text in a panel.
"""

from __future__ import annotations

import re
from pathlib import Path

from osiris_tui.secrets import mask_text

# Control characters (newlines included) and lone surrogates, which would break the one-line message.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def one_line(text: str) -> str:
    """`text` with control characters and lone surrogates written as escapes (`\\n`, `\\x00`, `\\ud800`)."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)

# Exit codes of both commands.
EXIT_OK, EXIT_STEP_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143
EXIT_BREAKPOINT = 3  # `osiris-tui run --break …`: the run stopped at a breakpoint


class OsirisTuiError(Exception):
    """Base class for errors this package raises on purpose."""


class InputError(OsirisTuiError):
    """Bad input (manifest, cfg, connections, params): one message naming the file, the place and the fix."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        column: int | None = None,
        step_id: str | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.column = column
        self.step_id = step_id
        self.key = key
        self.hint = hint
        super().__init__(self.render())

    @property
    def location(self) -> str:
        """`file:line:col` (as much of it as is known)."""
        if not self.file:
            return ""
        place = self.file
        if self.line is not None:
            place += f":{self.line}"
            if self.column is not None:
                place += f":{self.column}"
        return place

    def render(self) -> str:
        parts = []
        if self.location:
            parts.append(f"{self.location}:")
        where = []
        if self.step_id is not None:
            where.append(f"step '{self.step_id}'")
        if self.key is not None:
            where.append(f"key '{self.key}'")
        if where:
            parts.append(", ".join(where) + ":")
        # Only the message and hint can carry values; the place and key are names.
        parts.append(mask_text(self.message))
        text = " ".join(parts)
        if self.hint:
            text += f" (hint: {mask_text(self.hint)})"
        return one_line(text)


class ManifestError(InputError):
    """A manifest, cfg file or OML pipeline cannot be loaded or is invalid."""


class ConnectionConfigError(InputError):
    """A connection file or reference cannot be resolved."""


class StepError(OsirisTuiError):
    """A step failed while running (its message is already masked)."""

    def __init__(self, step_id: str, message: str) -> None:
        self.step_id = step_id
        self.message = message
        super().__init__(f"step '{step_id}' failed: {message}")
