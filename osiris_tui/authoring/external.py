"""The command that opens a file in the user's editor at a line: `$EDITOR`, else `$VISUAL`, else `vi`."""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path

from osiris_tui.authoring.errors import EditRefused


def editor_command(file: Path, line: int, env: Mapping[str, str] | None = None) -> list[str]:
    """`[editor, *its arguments, "+LINE", file]` (vi, vim, nano, emacs, micro and kakoune read `+LINE`)."""
    env = os.environ if env is None else env
    spec = (env.get("EDITOR") or "").strip() or (env.get("VISUAL") or "").strip() or "vi"
    try:
        argv = shlex.split(spec)
    except ValueError:
        raise EditRefused(f"$EDITOR cannot be read as a command: {spec!r}",
                          hint="set EDITOR to a command such as 'vim' or 'code --wait'") from None
    return [*argv, f"+{max(1, line)}", str(file)]
