"""Messages between widgets (and from worker threads): small dataclasses, posted with `post_message`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message


@dataclass
class StepHighlighted(Message):
    """The user moved the step list's cursor to `step_id`."""

    step_id: str


@dataclass
class FrameLoaded(Message):
    """A thread worker finished turning a DataFrame into an Arrow-backed table (posted from that thread)."""

    token: int
    key: tuple[Any, ...]
    backend: Any  # textual_fastdatatable.ArrowBackend
    summary: Any  # data_view.FrameSummary
    sort: tuple[str, str] | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class SessionUpdated(Message):
    """The session has new records for the app (posted from the thread that emitted them).

    Coalesced: a pending one stands for any number of later ones, so a flood of records costs one
    message, however fast it comes (as Toolong does with `can_replace`).
    """

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SessionUpdated)


class SessionBuilt(Message):
    """The session the app was planned with is built (posted from the thread that built it)."""


@dataclass
class SessionFailed(Message):
    """The session could not be built: the app exits with the error (exit code 2 for bad input)."""

    error: Exception
