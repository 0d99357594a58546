"""`osiris-tui diff A B [--key COL]... [--step STEP] [--json]`: what changed between two saved outputs.

A and B are Parquet files (as `osiris-tui run --save-outputs DIR` writes them), or directories holding
`<step>.parquet` files, with `--step` naming the step. Exit codes follow diff(1): 0 equal, 1 different,
2 bad input (a missing file, a file that is not Parquet, an unknown or non-unique key column).

Where a step's output is looked for in a directory is a list of finders (`OUTPUT_FINDERS`): the saved
outputs (`<dir>/<step>.parquet`, or `<dir>/outputs/<step>.parquet` in a run directory). A store of
checkpoints adds its own finder there (`register_output_finder`), and `osiris-tui diff` reads from it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from osiris_tui.errors import EXIT_OK, EXIT_STEP_FAILED, InputError

SAMPLE_ROWS = 20  # differing rows printed after the summary
EXIT_DIFFERENT = EXIT_STEP_FAILED  # 1, as diff(1)

OutputFinder = Callable[[Path, str], Path | None]


def saved_output(directory: Path, step: str) -> Path | None:
    """`<dir>/<step>.parquet` (what `--save-outputs DIR` writes), or `<dir>/outputs/<step>.parquet`."""
    for candidate in (directory / f"{step}.parquet", directory / "outputs" / f"{step}.parquet"):
        if candidate.is_file():
            return candidate
    return None


OUTPUT_FINDERS: list[OutputFinder] = [saved_output]


def register_output_finder(finder: OutputFinder) -> None:
    """Let `osiris-tui diff DIR DIR --step S` find outputs elsewhere too (e.g. checkpoints)."""
    if finder not in OUTPUT_FINDERS:
        OUTPUT_FINDERS.append(finder)


def diff_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="osiris-tui diff", description="Compare two saved step outputs (Parquet).",
        epilog="exit codes: 0 equal, 1 different, 2 bad input (as diff(1))")
    parser.add_argument("a", type=Path, metavar="A", help="a .parquet file, or a directory of them (with --step)")
    parser.add_argument("b", type=Path, metavar="B", help="the same for the other side")
    parser.add_argument("--key", action="append", default=[], metavar="COL",
                        help="match rows by this column (repeatable); without: compare whole rows")
    parser.add_argument("--step", metavar="STEP", help="with directories: compare <dir>/<STEP>.parquet")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    return parser


def _is_run_dir(directory: Path) -> bool:
    return (directory / "status.json").is_file() or (directory / "events.jsonl").is_file()


def _steps_in(directory: Path) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.parquet"))


def resolve(path: Path, step: str | None, option: str) -> Path:
    """The Parquet file `path` names: itself, or the step's output in the directory it is."""
    if not path.exists():
        raise InputError(f"{option}: no such file or directory", file=path,
                         hint="give a .parquet file saved by `osiris-tui run --save-outputs DIR`, or that DIR")
    if not path.is_dir():
        return path
    if step is None:
        steps = _steps_in(path)
        raise InputError("this is a directory: add --step to say which step's output to compare", file=path,
                         hint=f"it holds: {', '.join(steps)}" if steps else "it holds no .parquet file")
    for finder in OUTPUT_FINDERS:
        found = finder(path, step)
        if found is not None:
            return found
    if _is_run_dir(path):
        raise InputError("a run directory holds events and metrics, not the step outputs", file=path,
                         step_id=step, hint="run with `--save-outputs DIR` and compare those directories")
    steps = _steps_in(path)
    hint = f"it holds: {', '.join(steps)}" if steps else "save outputs with `osiris-tui run --save-outputs DIR`"
    raise InputError(f"no {step}.parquet here", file=path, step_id=step, hint=hint)


def read_parquet(path: Path) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0].rpartition("': ")[2].rstrip(".")
        if isinstance(exc, PermissionError):
            raise InputError(f"cannot read {path}: permission denied", file=path,
                             hint="give a file you can read") from None
        raise InputError(f"not a Parquet file ({reason})", file=path,
                         hint="give a .parquet file saved by `osiris-tui run --save-outputs DIR`") from None


def read_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return list(pq.read_schema(path).names)


def _input_error(exc: Exception, paths: tuple[Path, Path]) -> InputError:
    from osiris_tui.frames.diff import DiffError, DuplicateKeyError

    assert isinstance(exc, DiffError)
    side = {str(paths[0]): paths[0], str(paths[1]): paths[1]}.get(exc.side or "")
    if isinstance(exc, DuplicateKeyError):
        keys = " ".join(f"--key {k}" for k in exc.keys)
        return InputError(f"{keys} is not unique: {exc.detail}", file=side,
                          hint="give --key columns that identify one row, or no --key to compare whole rows")
    if exc.column is not None and side is not None:
        columns = read_columns(side)
        return InputError(f"--key {exc.column}: no such column", file=side,
                          hint=f"the key must be a column of both files; this one has: {', '.join(columns)}")
    return InputError(exc.message, key=exc.column, hint=exc.hint)


def compare(a: Any, b: Any, keys: Sequence[str], names: tuple[str, str]) -> Any:
    """The diff, computed in a thread so that Ctrl+C interrupts it at once (DuckDB is told to stop)."""
    from osiris_tui.frames.diff import DiffJob

    job = DiffJob(a, b, keys, names=names)
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = job.run()
        except BaseException as exc:  # handed to the main thread
            outcome["error"] = exc

    thread = threading.Thread(target=work, name="osiris-diff", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.1)
    except KeyboardInterrupt:
        job.cancel()
        thread.join(2.0)
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _preload() -> threading.Thread:
    """Import the report (and pandas, which `frames.format` needs) in a thread while the files are read and
    compared: DuckDB and Parquet reads release the GIL, so the import costs next to nothing then."""
    thread = threading.Thread(target=importlib.import_module, args=("osiris_tui.frames.diff_report",),
                              name="osiris-diff-import", daemon=True)
    thread.start()
    return thread


def run_diff(argv: Sequence[str], out: TextIO | None = None) -> int:
    """`osiris-tui diff …`: print the summary (or JSON); 0 equal, 1 different; bad input raises InputError."""
    out = out or sys.stdout
    args = diff_parser().parse_args(argv)
    preload = _preload()
    from osiris_tui.frames.diff import DiffError
    if args.step is not None and not (args.a.is_dir() or args.b.is_dir()):
        raise InputError(f"--step {args.step}: A and B are files, not directories of outputs",
                         hint="leave out --step, or give two directories")
    paths = (resolve(args.a, args.step, "A"), resolve(args.b, args.step, "B"))
    tables = (read_parquet(paths[0]), read_parquet(paths[1]))
    try:
        result = compare(tables[0], tables[1], args.key, (str(paths[0]), str(paths[1])))
    except DiffError as exc:
        raise _input_error(exc, paths) from None
    preload.join()
    from osiris_tui.frames.diff_report import row_json, row_line, summary_text

    page = result.page(0, SAMPLE_ROWS)
    rows = page.rows(result.keys)
    if args.json:
        record = {"type": "diff", **result.summary(), "differing": result.differing,
                  "sample": [row_json(r) for r in rows]}
        out.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")
    else:
        out.write(summary_text(result).plain + "\n")
        if rows:
            shown = "" if len(rows) == result.differing else f"the first {len(rows)} of "
            out.write(f"\n{shown}{result.differing:,} differing rows:\n")
            for row in rows:
                out.write(row_line(row, result.keys).plain + "\n")
    out.flush()
    return EXIT_OK if result.equal else EXIT_DIFFERENT
