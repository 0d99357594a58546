"""Start-up without collector pauses.

Importing Textual and the debugger makes a few hundred thousand objects, and the cyclic garbage collector
walks all of them whenever it runs a full pass: a pass during the first paint holds the UI thread for
tens of milliseconds. Nothing made while starting is garbage worth collecting (reference counting frees
the rest), so the collector is held from the command's start until the first screen is painted, then
turned back on.
"""

from __future__ import annotations

import gc

_held = False


def hold_collection() -> None:
    """Pause the cyclic collector until `release_collection` (if it is running)."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def release_collection() -> None:
    """Turn the collector back on, if `hold_collection` paused it (idempotent)."""
    global _held
    if _held:
        _held = False
        gc.enable()
