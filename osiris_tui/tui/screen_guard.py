"""The screen's masking boundary: the session as the widgets see it.

Records, configs, connections and step statuses are masked where they are produced (the run context,
`DebugSession.config`, `ResolvedConnection.masked`, the adapter's error messages). The app hands its
widgets a :class:`ScreenSession` instead of the session itself, which masks everything that can carry
text once more on its way to the screen, so a source that forgot to mask still shows nothing secret.
Widgets therefore do not mask; text that comes straight from the manifest (a step's connection
reference) goes through :func:`screen_text`.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from osiris_tui.errors import InputError
from osiris_tui.runtime.connections import EnvUse, ResolvedConnection
from osiris_tui.runtime.context import PLAIN_EVENT_KEYS
from osiris_tui.runtime.records import EventRecord, MetricRecord, Record
from osiris_tui.secrets import MASK, is_secret_key, mask_text, mask_value

if TYPE_CHECKING:
    from osiris_tui.runtime.session import DebugSession, StepStatus


def screen_text(value: Any) -> str:
    """Text for the screen that did not come through the session (e.g. from the manifest), masked."""
    return mask_text(str(value))


def mask_record(record: Any) -> Any:
    """An event or metric record (or a line as written), masked; a state change carries no text to mask."""
    if isinstance(record, dict):
        return mask_value(record, plain_keys=PLAIN_EVENT_KEYS)
    if isinstance(record, EventRecord):
        return dataclasses.replace(record, data=mask_value(dict(record.data), plain_keys=PLAIN_EVENT_KEYS))
    if isinstance(record, MetricRecord):
        data = mask_value(dict(record.data), plain_keys=PLAIN_EVENT_KEYS)
        return dataclasses.replace(record, data=data, value=data.get("value"))
    return record


def _mask_error(exc: InputError) -> InputError:
    masked = copy.copy(exc)
    masked.message = mask_text(exc.message)
    masked.hint = mask_text(exc.hint) if exc.hint else exc.hint
    masked.key = mask_text(exc.key) if exc.key else exc.key
    return masked


def _mask_default(use: EnvUse) -> str | None:
    if use.default is None:
        return None
    return MASK if use.secret or is_secret_key(use.name) or is_secret_key(use.field) else mask_text(use.default)


def _mask_status(status: StepStatus) -> StepStatus:
    if not status.error and not status.traceback:
        return status
    return dataclasses.replace(
        status,
        error=mask_text(status.error) if status.error else status.error,
        traceback=mask_text(status.traceback) if status.traceback else status.traceback,
    )


class _MaskedHistory:
    """A masked copy of an append-only record list, extended as the list grows (one mask per record)."""

    def __init__(self) -> None:
        self._source: list[Any] | None = None
        self._masked: list[Any] = []
        self._lock = threading.Lock()

    def view(self, source: list[Any]) -> list[Any]:
        with self._lock:
            if source is not self._source or len(source) < len(self._masked):
                self._source, self._masked = source, []
            n = len(source)
            if n > len(self._masked):
                self._masked.extend(mask_record(r) for r in source[len(self._masked):n])
            return self._masked[:n]


class _MaskedStream:
    """The session's record stream as the screen sees it: its history and its live records, masked."""

    def __init__(self, session: DebugSession) -> None:
        self._session = session
        self._history = _MaskedHistory()

    @property
    def history(self) -> list[Record]:
        return self._history.view(self._session.stream.history)

    @property
    def last_seq(self) -> int:
        return self._session.stream.last_seq

    def subscribe(self, callback: Callable[[Any], None], *, replay: bool = False) -> Callable[[], None]:
        return self._session.subscribe(lambda record: callback(mask_record(record)), replay=replay)


class ScreenSession:
    """A `DebugSession` whose text-carrying answers are masked; everything else is passed through."""

    def __init__(self, session: DebugSession) -> None:
        self._session = session
        self._events = _MaskedHistory()
        self._metrics = _MaskedHistory()
        self.stream = _MaskedStream(session)

    @property
    def unmasked(self) -> DebugSession:
        return self._session

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    def subscribe(self, callback: Callable[[Any], None], *, replay: bool = False) -> Callable[[], None]:
        return self.stream.subscribe(callback, replay=replay)

    @property
    def events(self) -> list[Any]:
        return self._events.view(self._session.events)

    @property
    def metrics(self) -> list[Any]:
        return self._metrics.view(self._session.metrics)

    def config(self, step_id: str) -> dict[str, Any]:
        try:
            return cast(dict[str, Any], mask_value(self._session.config(step_id)))
        except KeyError:
            raise
        except Exception as exc:
            raise RuntimeError(mask_text(str(exc))) from None

    def connection(self, step_id: str) -> ResolvedConnection | InputError | None:
        try:
            result = self._session.connection(step_id)
        except KeyError:
            raise
        except InputError as exc:
            return _mask_error(exc)
        except Exception as exc:
            raise RuntimeError(mask_text(f"{type(exc).__name__}: {exc}")) from None
        if isinstance(result, InputError):
            return _mask_error(result)
        if isinstance(result, ResolvedConnection):  # masked here, not by asking the connection to mask itself
            env = [dataclasses.replace(u, default=_mask_default(u)) for u in result.env]
            return dataclasses.replace(result, fields=mask_value(result.fields), env=env)
        return result

    def status(self, step_id: str) -> StepStatus:
        return _mask_status(self._session.status(step_id))

    def statuses(self) -> list[StepStatus]:
        return [_mask_status(s) for s in self._session.statuses()]


def screen_session(session: DebugSession | ScreenSession) -> DebugSession:
    """`session` behind the screen's masking boundary (it keeps the `DebugSession` interface)."""
    if isinstance(session, ScreenSession):
        return cast("DebugSession", session)
    return cast("DebugSession", ScreenSession(session))
