"""Reading a pipeline file for editing and writing it back atomically, with one level of undo."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from osiris_tui.authoring.errors import EditRefused
from osiris_tui.errors import InputError
from osiris_tui.manifest.yamlio import read_bytes

BOM = "\ufeff"


@dataclass(frozen=True)
class Text:
    """A file's text (a leading BOM kept apart, so offsets match what the parsers see) and its bytes."""

    file: Path
    body: str
    bom: bool
    raw: bytes

    def encode(self, body: str) -> bytes:
        return ((BOM if self.bom else "") + body).encode("utf-8")


def read(file: Path) -> Text:
    """The UTF-8 text of `file`, or EditRefused saying why it cannot be edited."""
    try:
        raw = read_bytes(file, what="File")
    except InputError as exc:
        raise EditRefused(exc.message, file=file, hint=exc.hint) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise EditRefused("the file is not UTF-8 text", file=file, hint="save it as UTF-8 first") from None
    bom = text.startswith(BOM)
    return Text(file, text[1:] if bom else text, bom, raw)


def write_atomic(file: Path, data: bytes) -> None:
    """Replace `file` with `data` in one step (a temp file next to it, then `os.replace`); a symlink's
    target is replaced, and the file keeps its permissions."""
    target = Path(os.path.realpath(file))
    try:
        mode = os.stat(target).st_mode & 0o7777
    except OSError:
        mode = 0o644
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise EditRefused(f"cannot write next to the file: {exc.strerror or exc}", file=file,
                          hint="check the directory's permissions") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise EditRefused(f"cannot write the file: {exc.strerror or exc}", file=file,
                          hint="check the file's permissions and free space") from None


@dataclass(frozen=True)
class Saved:
    """One save: the file's bytes before and after, so it can be undone while the file is unchanged."""

    file: Path
    before: bytes
    after: bytes
    what: str  # "query of step 'x'"

    def undo(self) -> None:
        """Put the previous content back, unless the file changed since the save."""
        try:
            current = read_bytes(self.file, what="File")
        except InputError as exc:
            raise EditRefused(exc.message, file=self.file, hint=exc.hint) from None
        if current != self.after:
            raise EditRefused("the file changed since the save; undo would lose those changes", file=self.file,
                              hint="edit the file to go back")
        write_atomic(self.file, self.before)
