"""The error every authoring operation raises when it cannot (or must not) change a file."""

from __future__ import annotations

from osiris_tui.errors import InputError


class EditRefused(InputError):
    """A value cannot be read or rewritten safely; the message names the file, the place and what to do."""
