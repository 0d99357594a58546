"""filesystem.csv_extractor and filesystem.csv_writer, with Osiris's options (compat §6).

Unlike Osiris, a `filesystem` connection's `base_dir` is honoured for relative paths.
"""

from __future__ import annotations

import io
import numbers
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import pandas as pd

from osiris_tui.drivers.base import StepContext, require_input_df, resolve_path

_NEWLINES = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}
# Values compiled cfgs carry that mean "pandas' default".
_DEFAULTS: dict[str, Any] = {"skip_rows": 0, "skip_blank_lines": True, "compression": "infer", "parse_dates": False}
_COMPRESSED = (".gz", ".bz2", ".zip", ".xz", ".zst", ".tar")
_READ_BUFFER = 1 << 20


class _CancellableReader(io.RawIOBase):
    """A file whose every read first checks the step's cancellation: pandas' parser reads through it in
    blocks, so a cancel stops a 10M-row parse within one block."""

    def __init__(self, path: Path, ctx: StepContext) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 (closed with this reader)
        self._ctx = ctx

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._ctx.check_cancelled()
        return self._file.readinto(buffer)

    def close(self) -> None:
        self._file.close()
        super().close()


class _CancellableWriter(io.TextIOBase):
    """A text file whose every write first checks the step's cancellation (pandas writes in chunks)."""

    def __init__(self, handle: Any, ctx: StepContext) -> None:
        self._handle = handle
        self._ctx = ctx

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._ctx.check_cancelled()
        return self._handle.write(text)


class CsvExtractor:
    """Reads a CSV file into a DataFrame."""

    def run(self, *, step_id: str, config: dict[str, Any], inputs: dict | None, ctx: StepContext) -> dict:
        if not config.get("path"):
            raise ValueError(f"Step '{step_id}': 'path' is required for filesystem.csv_extractor")
        path = resolve_path(str(config["path"]), config, ctx)
        if not path.is_file():
            raise FileNotFoundError(f"CSV file not found: {path}")
        header = config.get("header", True)
        kwargs: dict[str, Any] = {
            "sep": config.get("delimiter", ","),
            "encoding": config.get("encoding", "utf-8"),
            "header": (0 if header else None) if isinstance(header, bool) else header,
        }
        optional = {"columns": "usecols", "skip_rows": "skiprows", "limit": "nrows", "parse_dates": "parse_dates",
                    "dtype": "dtype", "na_values": "na_values", "comment": "comment",
                    "skip_blank_lines": "skip_blank_lines", "compression": "compression"}
        for key, arg in optional.items():
            if config.get(key) is not None and config[key] != _DEFAULTS.get(key):
                kwargs[arg] = config[key]
        try:
            df = pd.DataFrame() if path.stat().st_size == 0 else _read(path, kwargs, ctx)
        except pd.errors.EmptyDataError:  # nothing to parse (blank lines, comments): Osiris gives an empty frame
            df = pd.DataFrame()
        except UnicodeDecodeError as exc:
            raise RuntimeError(f"CSV encoding error in {path}: {exc}") from exc
        except (pd.errors.ParserError, ValueError) as exc:
            raise RuntimeError(f"CSV parsing failed for {path}: {exc}") from exc
        if config.get("columns") and len(df.columns):
            df = df[list(config["columns"])]
        ctx.log_metric("rows_read", len(df), tags={"step": step_id})
        return {"df": df}


def sorted_columns(columns: pd.Index) -> list[Hashable]:
    """Column names in Osiris's order: Python's `sorted` (integer names from `header: false` sort as
    numbers). Where Osiris's `sorted` fails on mixed names, numbers come first, then the rest as text."""
    try:
        return sorted(columns)
    except TypeError:
        return sorted(columns, key=lambda c: (0, c, "") if isinstance(c, numbers.Real) else (1, 0, str(c)))


def _read(path: Path, kwargs: dict[str, Any], ctx: StepContext) -> pd.DataFrame:
    # pandas' C engine: what Osiris uses, and faster here than the pyarrow engine, whose parse_dates
    # path is many times slower. A compressed file is read by path (pandas decompresses it itself).
    if kwargs.get("compression") is not None or path.suffix.lower() in _COMPRESSED:
        return pd.read_csv(path, **kwargs)
    with io.BufferedReader(_CancellableReader(path, ctx), _READ_BUFFER) as reader:
        return pd.read_csv(reader, **kwargs)


class CsvWriter:
    """Writes the input DataFrame to CSV, columns sorted as Osiris sorts them (`sorted_columns`)."""

    def run(self, *, step_id: str, config: dict[str, Any], inputs: dict | None, ctx: StepContext) -> dict:
        df = require_input_df(step_id, inputs)
        if not config.get("path"):
            raise ValueError(f"Step '{step_id}': 'path' is required for filesystem.csv_writer")
        path = resolve_path(str(config["path"]), config, ctx)
        newline = config.get("newline", "lf")
        if newline not in _NEWLINES:
            raise ValueError(f"Step '{step_id}': newline must be one of lf, crlf, cr (got {newline!r})")
        path.parent.mkdir(parents=True, exist_ok=True)
        ordered = df[sorted_columns(df.columns)]
        # A regular file is replaced whole or not at all; anything else (a FIFO, /dev/stdout) is written to.
        special = path.exists() and not path.is_file()
        target = path if special else path.with_name(f".{path.name}.osiris-tui-tmp")
        try:
            with open(target, "w", encoding=config.get("encoding", "utf-8"), newline="") as handle:
                ordered.to_csv(_CancellableWriter(handle, ctx), sep=config.get("delimiter", ","),
                               header=bool(config.get("header", True)), index=False,
                               lineterminator=_NEWLINES[newline])
            ctx.check_cancelled()
            if not special:
                target.replace(path)
        except OSError as exc:  # a full disk: say which file (the error from a flush names none)
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        finally:
            if not special:
                target.unlink(missing_ok=True)
        ctx.log_metric("rows_written", len(df))
        return {}
