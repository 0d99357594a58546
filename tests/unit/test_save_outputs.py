"""`osiris-tui run MANIFEST --save-outputs DIR`, end to end, and the session's Arrow tables."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from tests.support.plugins import install_plugin

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "sample_manifests" / "quickstart"


def _run(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    work = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, work)
    return subprocess.run(
        [sys.executable, "-m", "osiris_tui", "run", "manifest.yaml", "--run-dir", str(tmp_path / "run"), *extra],
        cwd=work, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )


def test_save_outputs_writes_each_frame_as_parquet(tmp_path: Path) -> None:
    out = tmp_path / "outputs" / "nested"
    result = _run(tmp_path, "--save-outputs", str(out))
    assert result.returncode == 0, result.stderr
    files = sorted(p.name for p in out.iterdir())
    assert files == ["extract-customers.parquet", "extract-orders.parquet", "revenue.parquet"]  # no writer
    assert f"saved revenue -> {out / 'revenue.parquet'} (24 rows)" in result.stdout
    revenue = pq.read_table(out / "revenue.parquet")
    assert revenue.num_rows == 24
    orders = pq.read_table(out / "extract-orders.parquet")
    assert orders.num_rows == 5000
    import pandas as pd

    source = pd.read_csv(tmp_path / "quickstart" / "data" / "orders.csv")
    assert orders.num_columns == len(source.columns)
    import pyarrow as pa

    assert pa.types.is_timestamp(orders.schema.field("order_date").type)


def test_save_outputs_in_json_mode(tmp_path: Path) -> None:
    out = tmp_path / "o"
    result = _run(tmp_path, "--json", "--save-outputs", str(out))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert [s["step_id"] for s in summary["saved_outputs"]] == ["extract-orders", "extract-customers", "revenue"]
    assert all(line.startswith("{") for line in result.stdout.strip().splitlines())


def test_save_outputs_keeps_decimals_and_timestamp_units(tmp_path: Path) -> None:
    from decimal import Decimal

    import pandas as pd
    import pyarrow as pa

    from osiris_tui.headless import save_outputs

    class Pipeline:
        step_ids = ["a", "b"]

    class Session:
        pipeline = Pipeline()

        def output_table(self, step_id: str) -> pa.Table | None:
            if step_id == "b":
                return None
            from osiris_tui.frames.export import to_arrow

            return to_arrow(pd.DataFrame({
                "amount": [Decimal("1.10"), Decimal("22.05")],
                "at": pd.to_datetime(["2024-01-02 03:04:05.123456789", "2024-01-02 00:00:00.000000001"]),
            }))

    saved = save_outputs(Session(), tmp_path / "x")  # type: ignore[arg-type]
    assert [s["step_id"] for s in saved] == ["a"]
    table = pq.read_table(tmp_path / "x" / "a.parquet")
    assert table.schema.field("amount").type == pa.decimal128(4, 2)
    assert table.schema.field("at").type == pa.timestamp("ns")
    assert table.column("amount").to_pylist() == [Decimal("1.10"), Decimal("22.05")]
    assert not (tmp_path / "x" / "b.parquet").exists()


def test_session_tables_are_the_cached_outputs(tmp_path: Path) -> None:
    from osiris_tui.drivers.registry import default_registry
    from osiris_tui.manifest import load_pipeline
    from osiris_tui.runtime.connections import Connections
    from osiris_tui.runtime.session import DebugSession

    path = tmp_path / "m.yaml"
    path.write_text(
        "name: s\nsteps:\n"
        '  - {id: a, driver: duckdb.processor, config: {query: "SELECT 1 AS x"}}\n'
        '  - {id: b, driver: duckdb.processor, config: {query: "SELECT 2 AS z"}}\n'
        '  - {id: c, driver: duckdb.processor, needs: [a, b], config: {query: "SELECT x FROM df_a"}}\n'
    )
    registry = default_registry()
    session = DebugSession(load_pipeline(path, drivers=registry.names()), registry=registry,
                           connections=Connections(None, {}), run_dir=tmp_path / "run").start()
    try:
        assert session.output_table("a") is None and session.input_tables("c") == []
        session.run_to("c")
        assert session.wait_until(lambda s: s.next_step_id() == "c" and s.idle, 30)
        a, b = session.output_table("a"), session.output_table("b")
        assert a is not None and a.column("x").to_pylist() == [1]
        inputs = session.input_tables("c")
        assert [(name, step) for name, step, _ in inputs] == [("df_a", "a"), ("df_b", "b")]
        assert inputs[0][2] is a and inputs[1][2] is b  # converted once, shared
        assert session.output_table("c") is None
    finally:
        session.close()


def test_run_save_outputs_reads_back_with_decimals_and_timestamp_units(tmp_path: Path) -> None:
    """End to end through the CLI: a plugin's frame of Decimals and of second, milli-, micro- and
    nanosecond timestamps, and a DuckDB step's TIMESTAMP (microseconds), read back with pyarrow."""
    from decimal import Decimal

    import pyarrow as pa

    site = install_plugin(tmp_path / "site", "exact_plugin", (
        "from decimal import Decimal\n"
        "import pandas as pd\n\n"
        "class Exact:\n"
        "    def run(self, *, step_id, config, inputs, ctx):\n"
        "        at = pd.Series(pd.to_datetime(['2024-01-02 03:04:05.123456789', '1999-12-31 23:59:59.000000000']))\n"
        "        return {'df': pd.DataFrame({\n"
        "            'amount': [Decimal('12345678901234.5678'), Decimal('-0.0001')],\n"
        "            'ns': at, 'us': at.astype('datetime64[us]'), 'ms': at.astype('datetime64[ms]'),\n"
        "            's': at.astype('datetime64[s]').dt.tz_localize('Europe/Oslo'),\n"
        "        })}\n"), {"test.exact": "exact_plugin:Exact"})
    (tmp_path / "m.yaml").write_text(
        "steps:\n  - {id: exact, driver: test.exact, config: {}}\n"
        "  - {id: stamp, driver: duckdb.processor, needs: [exact], config: {query: \"SELECT amount, "
        "TIMESTAMP '2024-05-06 07:08:09.123456' AS at FROM df_exact\"}}\n")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "osiris_tui", "run", str(tmp_path / "m.yaml"), "--run-dir", str(tmp_path / "run"),
         "--save-outputs", str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": f"{site}:{ROOT}", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    exact = pq.read_table(out / "exact.parquet")
    schema = exact.schema
    assert pa.types.is_decimal(schema.field("amount").type) and schema.field("amount").type.bit_width == 128
    assert schema.field("amount").type.scale == 4
    assert exact.column("amount").to_pylist() == [Decimal("12345678901234.5678"), Decimal("-0.0001")]
    assert [schema.field(u).type for u in ("ns", "us", "ms")] == [pa.timestamp(u) for u in ("ns", "us", "ms")]
    assert exact.column("ns").cast(pa.int64()).to_pylist() == [1704164645123456789, 946684799000000000]
    assert exact.column("us").cast(pa.int64()).to_pylist() == [1704164645123456, 946684799000000]
    assert exact.column("ms").cast(pa.int64()).to_pylist() == [1704164645123, 946684799000]
    # Parquet has no unit of seconds: they come back as milliseconds, the same instants, the zone kept
    assert schema.field("s").type == pa.timestamp("ms", tz="Europe/Oslo")
    assert exact.column("s").cast(pa.int64()).to_pylist() == [(1704164645 - 3600) * 1000, (946684799 - 3600) * 1000]
    stamp = pq.read_table(out / "stamp.parquet")
    assert stamp.schema.field("at").type == pa.timestamp("us")
    assert stamp.column("at").cast(pa.int64()).to_pylist() == [1714979289123456] * 2
