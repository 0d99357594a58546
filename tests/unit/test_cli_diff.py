"""`osiris-tui diff A B`: exit codes as diff(1) (0 equal, 1 different, 2 bad input), text and JSON output."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from osiris_tui.cli import main
from osiris_tui.diff_command import OUTPUT_FINDERS, register_output_finder, run_diff
from osiris_tui.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "sample_manifests" / "quickstart"


def write(path: Path, **columns) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)
    return path


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    a = write(tmp_path / "a.parquet", id=[1, 2, 3], amount=[10.5, 20.0, 30.0], note=["x", None, "z"])
    b = write(tmp_path / "b.parquet", id=[1, 2, 4], amount=[10.5, 20.25, 40.0], note=["x", None, None])
    return a, b


def test_equal_files_exit_0(pair, capsys) -> None:
    a, _ = pair
    assert main(["diff", str(a), str(a), "--key", "id"]) == 0
    out = capsys.readouterr().out
    assert "equal" in out and "differing" not in out


def test_different_files_exit_1_with_the_summary_and_the_rows(pair, capsys) -> None:
    a, b = pair
    assert main(["diff", str(a), str(b), "--key", "id"]) == 1
    out = capsys.readouterr().out
    assert "rows 3 → 3 (±0)" in out
    assert "nulls note 1 → 2 (+1)" in out
    assert "by key id 1 added · 1 removed · 1 changed · 1 unchanged" in out
    assert "changed cells amount 1" in out
    assert "3 differing rows:" in out
    assert "~ id=2: amount 20.0 → 20.25" in out
    assert "+ id=4: amount=40.0 note=∅" in out
    assert "- id=3: amount=30.0 note=z" in out


def test_without_keys_whole_rows_are_compared(pair, capsys) -> None:
    a, b = pair
    assert main(["diff", str(a), str(b)]) == 1
    assert "2 only in A · 2 only in B · 1 in both" in capsys.readouterr().out


def test_json_shape(pair) -> None:
    a, b = pair
    out = io.StringIO()
    assert run_diff([str(a), str(b), "--key", "id", "--json"], out) == 1
    record = json.loads(out.getvalue())
    assert record["type"] == "diff" and record["equal"] is False
    assert record["keys"] == ["id"]
    assert record["rows"] == {"a": 3, "b": 3, "delta": 0}
    assert record["schema"] == {"added": [], "dropped": [], "retyped": []}
    assert record["nulls"] == [{"name": "note", "a": 1, "b": 2, "delta": 1}]
    assert (record["added"], record["removed"], record["changed"], record["unchanged"]) == (1, 1, 1, 1)
    assert record["changed_cells"] == {"amount": 1, "note": 0}
    assert record["differing"] == 3
    assert record["sample"][0] == {"status": "changed", "key": {"id": 2}, "changes": {"amount": [20.0, 20.25]}}
    assert record["sample"][2] == {"status": "added", "key": {"id": 4}, "row": {"id": 4, "amount": 40.0, "note": None}}
    out = io.StringIO()
    assert run_diff([str(a), str(a), "--json"], out) == 0
    assert json.loads(out.getvalue())["equal"] is True


def test_schema_drift_is_a_difference(tmp_path: Path, capsys) -> None:
    a = write(tmp_path / "a.parquet", id=[1], n=pa.array([1], pa.int64()), gone=["x"])
    b = write(tmp_path / "b.parquet", id=[1], n=pa.array([1.0]), new=[True])
    assert main(["diff", str(a), str(b), "--key", "id"]) == 1
    assert "schema + new bool · - gone string · ~ n int64 → double" in capsys.readouterr().out


# -- bad input: exit 2, one line naming the file or column and the fix ---------------------------------
def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


def test_missing_file(pair, tmp_path, capsys) -> None:
    assert main(["diff", str(pair[0]), str(tmp_path / "nope.parquet")]) == 2
    err = _error(capsys)
    assert "nope.parquet: B: no such file or directory" in err and "--save-outputs" in err


def test_not_parquet(pair, tmp_path, capsys) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_text("id,amount\n1,2\n")
    assert main(["diff", str(bad), str(pair[1])]) == 2
    assert "bad.parquet: not a Parquet file" in _error(capsys)


def test_unknown_key_column(pair, capsys) -> None:
    assert main(["diff", str(pair[0]), str(pair[1]), "--key", "customer"]) == 2
    err = _error(capsys)
    assert "a.parquet: --key customer: no such column" in err and "has: id, amount, note" in err


def test_duplicate_key(tmp_path, capsys) -> None:
    a = write(tmp_path / "a.parquet", id=[1, 1], v=[1, 2])
    b = write(tmp_path / "b.parquet", id=[1], v=[1])
    assert main(["diff", str(a), str(b), "--key", "id"]) == 2
    err = _error(capsys)
    assert "a.parquet: --key id is not unique: 1 key value occurs more than once (e.g. id=1: 2 rows)" in err


def test_step_with_two_files(pair, capsys) -> None:
    assert main(["diff", str(pair[0]), str(pair[1]), "--step", "x"]) == 2
    assert "--step x: A and B are files" in _error(capsys)


# -- directories --------------------------------------------------------------------------------------
def test_directories_of_saved_outputs_with_step(tmp_path, capsys) -> None:
    write(tmp_path / "one" / "revenue.parquet", id=[1, 2], v=[1, 2])
    write(tmp_path / "two" / "revenue.parquet", id=[1, 2], v=[1, 3])
    write(tmp_path / "two" / "orders.parquet", id=[1], v=[1])
    assert main(["diff", str(tmp_path / "one"), str(tmp_path / "two"), "--step", "revenue", "--key", "id"]) == 1
    assert "1 changed" in capsys.readouterr().out
    assert main(["diff", str(tmp_path / "one"), str(tmp_path / "two")]) == 2
    assert "add --step" in (err := _error(capsys)) and "it holds: revenue" in err
    assert main(["diff", str(tmp_path / "one"), str(tmp_path / "two"), "--step", "orders"]) == 2
    assert "step 'orders': no orders.parquet here" in _error(capsys)


def test_a_run_directory_without_outputs_says_how_to_get_them(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "status.json").write_text("{}")
    (run / "events.jsonl").write_text("")
    assert main(["diff", str(run), str(run), "--step", "revenue"]) == 2
    err = _error(capsys)
    assert "a run directory holds events and metrics, not the step outputs" in err and "--save-outputs" in err


def test_an_output_finder_can_be_registered(tmp_path) -> None:
    store = write(tmp_path / "store" / "abc.parquet", id=[1])

    def checkpoints(directory: Path, step: str) -> Path | None:
        return store if step == "revenue" and directory.name == "run" else None

    (tmp_path / "run").mkdir()
    register_output_finder(checkpoints)
    try:
        assert run_diff([str(tmp_path / "run"), str(store), "--step", "revenue"], io.StringIO()) == 0
    finally:
        OUTPUT_FINDERS.remove(checkpoints)
    with pytest.raises(InputError):
        run_diff([str(tmp_path / "run"), str(store), "--step", "revenue"], io.StringIO())


def test_outputs_saved_by_two_runs(tmp_path: Path) -> None:
    """End to end: `run --save-outputs` twice, the revenue query edited in between, then `diff`."""
    work = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, work)
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "osiris_tui", *args], cwd=work, capture_output=True,
                              text=True, timeout=120, env=env)

    assert run("run", "manifest.yaml", "--save-outputs", "one", "--until", "revenue").returncode == 0
    manifest = work / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("round(sum(o.amount), 2)", "round(sum(o.amount), 0)"))
    assert run("run", "manifest.yaml", "--save-outputs", "two", "--until", "revenue").returncode == 0
    same = run("diff", "one", "one", "--step", "extract-orders")
    assert same.returncode == 0, same.stderr
    done = run("diff", "one", "two", "--step", "revenue", "--key", "country", "--key", "segment", "--json")
    assert done.returncode == 1, done.stderr
    record = json.loads(done.stdout)
    assert record["changed"] > 0 and record["changed_cells"]["revenue"] == record["changed"]
    assert record["changed_cells"]["orders"] == 0
