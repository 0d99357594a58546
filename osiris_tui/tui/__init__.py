"""The Textual app: `DebuggerApp(session).run()` (the only import the CLI needs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from osiris_tui.tui.app import DebuggerApp

__all__ = ["DebuggerApp"]


def __getattr__(name: str) -> Any:
    # Lazy, so `import osiris_tui.tui` (or the headless CLI) does not pay for importing Textual.
    if name == "DebuggerApp":
        from osiris_tui.tui.app import DebuggerApp

        return DebuggerApp
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
