"""Shared builders for the inspector and event-log tests (no tests here).

A real seed-style pipeline written to a directory (csv_extractor → duckdb.processor → csv_writer),
optionally with a mysql and a supabase step whose connections resolve from an
`osiris_connections.yaml` holding `${CANARY_PW}`, and a real DebugSession over it.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from textual.widget import Widget

from osiris_tui.manifest.model import ConfigSource, Pipeline, Step
from osiris_tui.runtime.connections import Connections
from osiris_tui.runtime.session import DebugSession, RunState

CANARY = "canary-s3cr3t-value"
SUPABASE_KEY = "sb-service-role-canary-key-0123456789"

CONNECTIONS_YAML = f"""\
version: 1
connections:
  mysql:
    shop:
      default: true
      host: db.internal
      port: 3306
      database: shop
      user: etl
      password: ${{CANARY_PW}}
  supabase:
    main:
      default: true
      url: https://abcd.supabase.co
      service_role_key: {SUPABASE_KEY}
      pg_dsn: postgresql://u:${{CANARY_PW}}@h/db
      schema: ${{SB_SCHEMA:-public}}
"""

MANIFEST_YAML = """\
pipeline:
  id: movies
steps:
  - id: extract
    driver: filesystem.csv_extractor
    config:
      path: {data}/movies.csv
  - id: transform
    driver: duckdb.processor
    needs: [extract]
    config:
      query: SELECT title, year FROM df_extract WHERE year >= 2000 ORDER BY year
  - id: write
    driver: filesystem.csv_writer
    needs: [transform]
    config:
      path: {data}/out.csv
"""

MOVIES_CSV = "title,year\nAlien,1979\nHer,2013\nUp,2009\nHeat,1995\nDune,2021\n"


def write_files(root: Path) -> Path:
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "movies.csv").write_text(MOVIES_CSV)
    manifest = root / "manifest.yaml"
    manifest.write_text(MANIFEST_YAML.format(data=root / "data"))
    (root / "osiris_connections.yaml").write_text(CONNECTIONS_YAML)
    return manifest


def build_pipeline(root: Path, *, with_connections: bool = False) -> Pipeline:
    manifest = write_files(root)
    src = lambda line: ConfigSource("inline", manifest, line)  # noqa: E731
    data = root / "data"
    steps = [
        Step("extract", "filesystem.csv_extractor", {"path": str(data / "movies.csv")},
             component="filesystem.csv_extractor", source=src(7), position=0, line=4),
        Step("transform", "duckdb.processor",
             {"query": "SELECT title, year FROM df_extract WHERE year >= 2000 ORDER BY year"},
             needs=["extract"], component="duckdb.processor", source=src(12), position=1, line=9),
        Step("write", "filesystem.csv_writer", {"path": str(data / "out.csv")}, needs=["transform"],
             component="filesystem.csv_writer", source=src(17), position=2, line=14),
    ]
    if with_connections:
        steps += [
            Step("customers", "mysql.extractor", {"query": "SELECT * FROM customers", "connection": "@mysql.shop"},
                 component="mysql.extractor", source=ConfigSource("cfg", root / "cfg" / "customers.json"),
                 position=3),
            Step("publish", "supabase.writer", {"table": "movies", "mode": "append"}, needs=["transform"],
                 component="supabase.writer", source=ConfigSource("oml", root / "pipeline.yaml", 30), position=4),
        ]
    return Pipeline("movies", manifest, "seed", steps)


def make_session(root: Path, *, with_connections: bool = False, env: dict[str, str] | None = None) -> DebugSession:
    pipeline = build_pipeline(root, with_connections=with_connections)
    connections = Connections(root / "osiris_connections.yaml", env={"CANARY_PW": CANARY} if env is None else env)
    return DebugSession(pipeline, connections=connections, run_dir=root / "run")


def run_to_end(session: DebugSession) -> None:
    """Run the whole (connection-free) pipeline synchronously, waiting on state, never sleeping."""
    session.continue_()
    assert session.wait_until(lambda s: s.run_state is RunState.FINISHED and not s.busy, timeout=60)


class HostApp(App[None]):
    """A tiny app hosting one widget."""

    CSS = "Screen { layout: vertical; }"
    AUTO_FOCUS = None  # like the debugger: nothing focused until the user moves there

    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget
