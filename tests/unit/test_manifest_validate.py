"""Dependency order: topological, stable by list position, with forward-reference warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

from osiris_tui.errors import ManifestError
from osiris_tui.manifest.common import Doc
from osiris_tui.manifest.model import Step
from osiris_tui.manifest.validate import forward_warnings, order_steps

DOC = Doc(Path("p.yaml"))


def steps(*specs: tuple[str, list[str]]) -> list[Step]:
    return [Step(id=i, driver="d", config={}, needs=n, position=pos) for pos, (i, n) in enumerate(specs)]


def order(*specs: tuple[str, list[str]]) -> list[str]:
    ordered, _ = order_steps(DOC, steps(*specs), {})
    return [s.id for s in ordered]


def test_independent_steps_keep_list_order() -> None:
    assert order(("c", []), ("a", []), ("b", [])) == ["c", "a", "b"]


def test_dependencies_come_first_and_ties_follow_list_position() -> None:
    # x needs z (which comes later); y is free and stays before z by position.
    assert order(("x", ["z"]), ("y", []), ("z", [])) == ["y", "z", "x"]


def test_join_waits_for_all_inputs() -> None:
    assert order(("join", ["a", "b"]), ("a", []), ("b", []), ("out", ["join"])) == ["a", "b", "join", "out"]


def test_diamond_is_stable() -> None:
    specs = (("src", []), ("left", ["src"]), ("right", ["src"]), ("sink", ["right", "left"]))
    assert order(*specs) == ["src", "left", "right", "sink"]


def test_input_refs_count_as_dependencies() -> None:
    s = steps(("use", []), ("make", []))
    s[0].input_refs = {"df": "make"}
    ordered, warnings = order_steps(DOC, s, {})
    assert [x.id for x in ordered] == ["make", "use"]
    assert len(warnings) == 1


def test_forward_need_warns() -> None:
    (w,) = forward_warnings(steps(("a", ["b"]), ("b", [])))
    assert "step 'a' depends on 'b', which comes later in the file" in w
    assert "Osiris would run the steps in list order" in w
    assert forward_warnings(steps(("a", []), ("b", ["a"]))) == []


def test_two_node_cycle() -> None:
    with pytest.raises(ManifestError, match="Dependency cycle: a → b → a"):
        order(("a", ["b"]), ("b", ["a"]), ("c", []))


def test_cycle_behind_a_valid_prefix() -> None:
    with pytest.raises(ManifestError) as err:
        order(("ok", []), ("p", ["ok", "q"]), ("q", ["p"]))
    assert err.value.message == "Dependency cycle: p → q → p" and err.value.step_id == "p"
