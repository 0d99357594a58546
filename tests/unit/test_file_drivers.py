"""filesystem.csv_extractor, filesystem.csv_writer and duckdb.processor against Osiris's driver tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from osiris_tui.drivers.duckdb_processor import DuckDBProcessor
from osiris_tui.drivers.filesystem import CsvExtractor, CsvWriter
from osiris_tui.runtime.context import ExecutionContext


@pytest.fixture
def ctx(tmp_path: Path):
    context = ExecutionContext(tmp_path / "run")
    yield context.for_step("s")
    context.close()


def metrics(ctx, name: str) -> list[dict]:
    return [m for m in ctx.parent.metrics if m["metric"] == name]


def test_csv_writer_sorts_columns_creates_dirs_and_logs_once(tmp_path: Path, ctx, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    df = pd.DataFrame({"b": [1, 2], "a": ["x", "y"], "C": [True, False]})
    result = CsvWriter().run(step_id="s", config={"path": "deep/er/out.csv"}, inputs={"df_up": df}, ctx=ctx)
    assert result == {}
    assert (tmp_path / "deep/er/out.csv").read_text() == "C,a,b\nTrue,x,1\nFalse,y,2\n"
    assert [(m["value"], m["step_id"]) for m in metrics(ctx, "rows_written")] == [(2, "s")]


def test_csv_writer_empty_frame_options_and_base_dir(tmp_path: Path, ctx) -> None:
    empty = pd.DataFrame({"z": [], "a": []})
    config = {"path": "e.csv", "delimiter": ";", "newline": "crlf", "resolved_connection": {"base_dir": str(tmp_path)}}
    CsvWriter().run(step_id="s", config=config, inputs={"df": empty}, ctx=ctx)
    assert (tmp_path / "e.csv").read_bytes() == b"a;z\r\n"


def test_csv_writer_needs_an_input(ctx) -> None:
    with pytest.raises(ValueError, match="needs an input DataFrame"):
        CsvWriter().run(step_id="s", config={"path": "x.csv"}, inputs=None, ctx=ctx)


def test_csv_extractor_options(tmp_path: Path, ctx) -> None:
    (tmp_path / "in.csv").write_text("# comment\nid|name|when\n1|a|2024-01-02\n2|NA|2024-02-03\n3|c|2024-03-04\n")
    config = {"path": str(tmp_path / "in.csv"), "delimiter": "|", "comment": "#", "columns": ["when", "id"],
              "limit": 2, "parse_dates": ["when"]}
    df = CsvExtractor().run(step_id="s", config=config, inputs=None, ctx=ctx)["df"]
    assert list(df.columns) == ["when", "id"] and len(df) == 2
    assert str(df["when"].dtype).startswith("datetime64")
    assert [m["tags"] for m in metrics(ctx, "rows_read")] == [{"step": "s"}]


def test_csv_extractor_errors_and_empty_file(tmp_path: Path, ctx) -> None:
    with pytest.raises(FileNotFoundError, match="CSV file not found"):
        CsvExtractor().run(step_id="s", config={"path": str(tmp_path / "nope.csv")}, inputs=None, ctx=ctx)
    (tmp_path / "empty.csv").write_text("")
    assert CsvExtractor().run(step_id="s", config={"path": str(tmp_path / "empty.csv")}, inputs=None,
                              ctx=ctx)["df"].empty
    (tmp_path / "latin.csv").write_bytes("name\nžluťoučký\n".encode("cp1250"))
    with pytest.raises(RuntimeError, match="CSV encoding error"):
        CsvExtractor().run(step_id="s", config={"path": str(tmp_path / "latin.csv")}, inputs=None, ctx=ctx)


def test_csv_writer_sorts_integer_names_as_numbers_like_osiris(tmp_path: Path, ctx) -> None:
    """Osiris writes `df[sorted(df.columns)]`: names from `header: false` (0..n) sort as numbers."""
    (tmp_path / "in.csv").write_text(",".join(str(i) for i in range(12)) + "\n")
    df = CsvExtractor().run(step_id="s", config={"path": str(tmp_path / "in.csv"), "header": False},
                            inputs=None, ctx=ctx)["df"]
    assert list(df.columns) == list(range(12))
    CsvWriter().run(step_id="s", config={"path": str(tmp_path / "out.csv")}, inputs={"df": df}, ctx=ctx)
    assert (tmp_path / "out.csv").read_text().splitlines()[0] == ",".join(str(i) for i in range(12))
    # Osiris's `sorted` fails on mixed names; we put the numbers first, then the names as text.
    mixed = pd.DataFrame({"b": [1], 10: [2], "a": [3], 2: [4]})
    CsvWriter().run(step_id="s", config={"path": str(tmp_path / "mixed.csv")}, inputs={"df": mixed}, ctx=ctx)
    assert (tmp_path / "mixed.csv").read_text() == "2,10,a,b\n4,2,3,1\n"


@pytest.mark.parametrize("text", ["\n\n\n", "# only a comment\n# and another\n", "\r\n  \n"])
def test_csv_extractor_nothing_to_parse_is_an_empty_frame(tmp_path: Path, ctx, text: str) -> None:
    """pandas raises EmptyDataError ("No columns to parse"); Osiris returns an empty DataFrame and rows_read 0."""
    (tmp_path / "blank.csv").write_text(text)
    config = {"path": str(tmp_path / "blank.csv"), "comment": "#", "columns": ["a"]}
    df = CsvExtractor().run(step_id="s", config=config, inputs=None, ctx=ctx)["df"]
    assert df.empty and list(df.columns) == []
    assert [m["value"] for m in metrics(ctx, "rows_read")] == [0]


def test_duckdb_joins_inputs_ignores_non_frames_and_counts_rows(ctx) -> None:
    a = pd.DataFrame({"id": [1, 2, 3], "v": [10, 20, 30]})
    b = pd.DataFrame({"id": [2, 3], "w": ["x", "y"]})
    inputs = {"df_a": a, "df_b": b, "a": {"df": a}, "b": {"df": b}, "df": a, "input_df": a}
    out = DuckDBProcessor().run(step_id="s", config={"query": "SELECT a.id, v, w FROM df_a a JOIN df_b USING (id) "
                                                             "ORDER BY id"}, inputs=inputs, ctx=ctx)["df"]
    assert out.to_dict("list") == {"id": [2, 3], "v": [20, 30], "w": ["x", "y"]}
    assert [m["value"] for m in metrics(ctx, "rows_read")] == [5]
    assert [m["value"] for m in metrics(ctx, "rows_written")] == [2]


def test_duckdb_generator_query_and_errors(ctx) -> None:
    assert DuckDBProcessor().run(step_id="s", config={"query": "SELECT 1 AS x"}, inputs=None, ctx=ctx)["df"][
        "x"].tolist() == [1]
    with pytest.raises(RuntimeError, match="DuckDB transformation failed"):
        DuckDBProcessor().run(step_id="s", config={"query": "SELECT * FROM nope"}, inputs=None, ctx=ctx)
    with pytest.raises(ValueError, match="'query' is required"):
        DuckDBProcessor().run(step_id="s", config={}, inputs=None, ctx=ctx)
