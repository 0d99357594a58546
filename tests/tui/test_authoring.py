"""Editing where you look: the inline SQL editor saves to the step's own file (cfg JSON, OML), `r` re-runs
with it, $EDITOR opens the file at the step's line, undo restores it, and OML parameters can be set."""

from __future__ import annotations

import json
import os
import shutil
import stat
from contextlib import nullcontext
from pathlib import Path

import pytest

from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime.session import DebugSession, StepState
from osiris_tui.tui.app import DebuggerApp
from osiris_tui.tui.widgets.sql_editor import ConfirmDiscard, SqlEditor

try:
    from tests.tui.app_support import REPO, settle, wait_session
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from app_support import REPO, settle, wait_session  # type: ignore[no-redef]

SIZE = (120, 36)
SAMPLES = REPO / "sample_manifests"


def copy_samples(root: Path, *names: str) -> Path:
    for name in ("quickstart", *names):
        shutil.copytree(SAMPLES / name, root / name, ignore=shutil.ignore_patterns("out", ".osiris-tui"))
    return root


def session_of(manifest: Path, root: Path) -> DebugSession:
    return DebugSession(load_pipeline(manifest), run_dir=root / "run", reload=lambda: load_pipeline(manifest))


async def select(pilot, step_id: str) -> None:
    app = pilot.app
    app.step_list.focus()
    await pilot.press("home", *["down"] * app.session.pipeline.step_ids.index(step_id))
    await settle(pilot)
    assert app.selected_step_id == step_id


async def open_editor(pilot) -> SqlEditor:
    app = pilot.app
    await pilot.press("v")
    await settle(pilot)
    editor = app.config_view.editor
    assert editor is not None and app.tabs.active == "config"
    return editor


async def test_inline_edit_of_a_cfg_json_query_then_rerun(tmp_path: Path) -> None:
    root = copy_samples(tmp_path, "osiris_compiled")
    manifest = root / "osiris_compiled" / "manifest.yaml"
    cfg = root / "osiris_compiled" / "cfg" / "join-movies.json"
    before = cfg.read_bytes()
    old_query = json.loads(before)["query"]
    app = DebuggerApp(session_of(manifest, tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.status("write-report").state is StepState.DONE)
        full = app.session.output("join-movies")
        assert full is not None and len(full) > 2
        await select(pilot, "join-movies")
        editor = await open_editor(pilot)
        assert editor.text == old_query
        editor.area.move_cursor(editor.area.document.end)
        await pilot.press("space", *"LIMIT 2", "ctrl+s")
        await settle(pilot)
        assert app.config_view.editor is None
        new_query = old_query + " LIMIT 2"
        expected = before.replace(json.dumps(old_query).encode(), json.dumps(new_query).encode())
        assert cfg.read_bytes() == expected
        await wait_session(pilot, lambda s: s.pipeline.step("join-movies").config["query"] == new_query)
        assert "LIMIT 2" in app.config_view.text
        await pilot.press("r")
        await wait_session(pilot, lambda s: s.status("join-movies").runs == 2)
        await pilot.press("1")
        await settle(pilot)
        table = app.data_view.table
        assert table is not None and table.row_count == 2
        # downstream must run again with the new output
        assert app.session.status("write-report").state is StepState.PAUSED  # next, not done

        await pilot.press("u")
        await settle(pilot)
        assert cfg.read_bytes() == before
        await wait_session(pilot, lambda s: s.pipeline.step("join-movies").config["query"] == old_query)


OML_EDITED_QUERY = """\
SELECT strftime(CAST(order_date AS DATE), '%Y-%m') AS month, count(*) AS orders
FROM df_load_orders
WHERE status = '${params.status}'
GROUP BY month
ORDER BY month
"""


async def test_inline_edit_of_an_oml_query_keeps_comments_then_rerun(tmp_path: Path) -> None:
    root = copy_samples(tmp_path, "oml_params")
    oml = root / "oml_params" / "orders_report.yaml"
    before = oml.read_bytes().decode()
    app = DebuggerApp(session_of(oml, tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n", "n")
        await wait_session(pilot, lambda s: s.status("monthly").state is StepState.DONE)
        assert list(app.session.output("monthly").columns) == ["month", "orders", "revenue"]
        await select(pilot, "monthly")
        editor = await open_editor(pilot)
        assert "${params.status}" in editor.text  # the file's text, parameters unresolved
        editor.area.text = ""
        await pilot.press(*["enter" if c == "\n" else c for c in OML_EDITED_QUERY])
        assert editor.area.text == OML_EDITED_QUERY
        await pilot.press("ctrl+s")
        await settle(pilot)
        old_block = before.split("      query: |\n")[1].split("\n\n")[0] + "\n"
        new_block = "".join("        " + line + "\n" for line in OML_EDITED_QUERY.splitlines())
        assert before.count(old_block) == 1
        assert oml.read_bytes() == before.replace(old_block, new_block).encode()  # comments and all kept
        await wait_session(pilot, lambda s: "revenue" not in s.pipeline.step("monthly").config["query"])
        await pilot.press("r")
        await wait_session(pilot, lambda s: s.status("monthly").runs == 2)
        await pilot.press("1")
        await settle(pilot)
        assert list(app.session.output("monthly").columns) == ["month", "orders"]
        assert app.data_view.table is not None and app.data_view.step_id == "monthly"


async def test_escape_asks_before_throwing_away_changes(tmp_path: Path) -> None:
    root = copy_samples(tmp_path, "osiris_compiled")
    manifest = root / "osiris_compiled" / "manifest.yaml"
    cfg = root / "osiris_compiled" / "cfg" / "join-movies.json"
    before = cfg.read_bytes()
    app = DebuggerApp(session_of(manifest, tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, "join-movies")
        editor = await open_editor(pilot)
        await pilot.press("escape")  # nothing changed: closes at once
        await settle(pilot)
        assert app.config_view.editor is None
        editor = await open_editor(pilot)
        await pilot.press("x", "escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDiscard)
        await pilot.press("n")  # keep editing
        await settle(pilot)
        assert app.config_view.editor is editor and editor.modified
        await pilot.press("escape", "y")
        await settle(pilot)
        assert app.config_view.editor is None
    assert cfg.read_bytes() == before


async def test_external_editor_edits_the_file_at_the_step_line(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_samples(tmp_path, "failing")
    manifest = root / "failing" / "manifest.yaml"
    script = tmp_path / "fake-editor"
    log = tmp_path / "editor-args"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > "{log}"\n'
        'file="$2"\n'
        "sed -i 's/segmnt AS segment/segment/' \"$file\"\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("EDITOR", str(script))
    app = DebuggerApp(session_of(manifest, tmp_path))
    monkeypatch.setattr(app, "suspend", nullcontext)  # the test terminal cannot be handed over
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.status("enrich").state is StepState.FAILED)
        await select(pilot, "enrich")
        await pilot.press("o")
        await settle(pilot)
        assert log.read_text().split() == ["+19", str(manifest)]
        await wait_session(pilot, lambda s: "segmnt" not in s.pipeline.step("enrich").config["query"])
        await pilot.press("r")
        await wait_session(pilot, lambda s: s.status("enrich").state is StepState.DONE)
        assert "segment" in app.session.output("enrich").columns


async def test_setting_a_parameter_reprepares_and_marks_its_steps(tmp_path: Path) -> None:
    root = copy_samples(tmp_path, "oml_params")
    oml = root / "oml_params" / "orders_report.yaml"
    before = oml.read_bytes()
    app = DebuggerApp(session_of(oml, tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.status("save").state is StepState.DONE)
        await pilot.press("2")
        await settle(pilot)
        rows = {r.name: r for r in app.config_view.param_rows}
        assert (rows["status"].shown, rows["status"].source, rows["status"].steps) == \
            ("paid", "default", ("monthly", "save"))
        assert (rows["min_amount"].shown, rows["min_amount"].steps) == ("50", ("monthly",))
        await pilot.press("P")
        await settle(pilot)
        assert app.screen.query_one("#param-value").value == "paid"
        await pilot.press(*["backspace"] * 4, *"refunded", "enter")
        await wait_session(pilot, lambda s: s.pipeline.params.get("status") == "refunded")
        assert app.session.status("load-orders").state is StepState.DONE
        assert app.session.status("monthly").state is not StepState.DONE
        assert app.session.status("save").state is not StepState.DONE
        assert "status = 'refunded'" in app.session.pipeline.step("monthly").config["query"]
        assert app.session.pipeline.step("save").config["path"] == "monthly_refunded.csv"
        await settle(pilot)
        rows = {r.name: r for r in app.config_view.param_rows}
        assert (rows["status"].shown, rows["status"].source) == ("refunded", "set here")
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.status("save").state is StepState.DONE)
        assert (root / "oml_params" / "out" / "monthly_refunded.csv").exists()
    assert oml.read_bytes() == before  # a parameter set in the app is not written to the file
    assert os.environ.get("OSIRIS_PARAM_STATUS") is None


async def test_a_file_changed_meanwhile_is_not_overwritten_and_the_editor_stays(tmp_path: Path) -> None:
    root = copy_samples(tmp_path, "osiris_compiled")
    manifest = root / "osiris_compiled" / "manifest.yaml"
    cfg = root / "osiris_compiled" / "cfg" / "join-movies.json"
    app = DebuggerApp(session_of(manifest, tmp_path))
    notes: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        app.notify = lambda message, **kw: notes.append(str(message))  # type: ignore[method-assign]
        await settle(pilot)
        await select(pilot, "extract-movies")
        await pilot.press("v")
        await settle(pilot)
        assert app.config_view.editor is None and "no query to edit" in notes[-1]
        await select(pilot, "join-movies")
        editor = await open_editor(pilot)
        elsewhere = cfg.read_bytes().replace(b"ORDER BY", b"ORDER  BY")
        cfg.write_bytes(elsewhere)
        await pilot.press("x", "ctrl+s")
        await settle(pilot)
        assert "changed since the editor opened" in notes[-1]
        assert app.config_view.editor is editor and cfg.read_bytes() == elsewhere


TYPED_OML = """\
oml_version: "0.1.0"
name: typed
params:
  n: {default: 10}
steps:
  - id: load
    component: filesystem.csv_extractor
    mode: read
    config:
      path: data.csv
      limit: ${params.n}
"""


async def test_a_parameter_value_of_the_wrong_type_is_refused_naming_the_option(tmp_path: Path) -> None:
    oml = tmp_path / "typed.yaml"
    oml.write_text(TYPED_OML)
    app = DebuggerApp(session_of(oml, tmp_path))
    notes: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        app.notify = lambda message, **kw: notes.append(str(message))  # type: ignore[method-assign]
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        await pilot.press("backspace", "backspace", *"ten", "enter")
        await settle(pilot)
        assert "option 'limit' of step 'load', which takes an integer" in notes[-1]
        assert app.session.pipeline.step("load").config["limit"] == 10
        await pilot.press("P")
        await settle(pilot)
        await pilot.press("backspace", "backspace", "7", "enter")
        await wait_session(pilot, lambda s: s.pipeline.step("load").config["limit"] == 7)
        assert type(app.session.pipeline.step("load").config["limit"]) is int
