"""The debugger's widgets driven through the app by their keys and the mouse (Pilot), waiting on state."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

from textual.message_pump import MessagePump

import osiris_tui.tui
from osiris_tui.tui.app import DebuggerApp

try:
    from tests.tui.app_support import quickstart_session, settle
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from app_support import quickstart_session, settle  # type: ignore[no-redef]

SIZE = (120, 36)


# -- names shared with Textual ------------------------------------------------------------------------
# Names Textual's metaclass or class machinery sets on every subclass, and the hooks meant to be overridden.
_GENERATED = {"_decorated_handlers", "_reactives", "_inherit_css", "_inherit_bindings", "_inherit_component_classes",
              "_css_type_name", "_css_type_names", "_merged_bindings", "_computes", "can_focus",
              "can_focus_children"}


def _tui_classes() -> list[type]:
    modules = [importlib.import_module(m.name)
               for m in pkgutil.walk_packages(osiris_tui.tui.__path__, osiris_tui.tui.__name__ + ".")]
    return [cls for module in modules for _, cls in inspect.getmembers(module, inspect.isclass)
            if cls.__module__ == module.__name__ and issubclass(cls, MessagePump)]


def test_no_widget_overrides_a_private_textual_name() -> None:
    """A private method of ours with the name of one of Textual's replaces it (StepList once had `_render`)."""
    clashes = []
    for cls in _tui_classes():
        textual_bases = [b for b in cls.__mro__[1:] if b.__module__.startswith("textual")]
        for name in vars(cls):
            if name.startswith("_") and not name.startswith("__") and name not in _GENERATED:
                owner = next((b for b in textual_bases if name in vars(b)), None)
                if owner is not None:
                    clashes.append(f"{cls.__qualname__}.{name} hides {owner.__qualname__}.{name}")
    assert clashes == []


# -- step list ----------------------------------------------------------------------------------------
async def test_double_click_on_the_step_list_then_ctrl_c_keeps_the_app_running(tmp_path: Path) -> None:
    """ctrl+c copies the selected text; the step list's text selection must not break that."""
    app = DebuggerApp(quickstart_session(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.double_click("#steps", offset=(6, 1 + 2))
        await settle(pilot)
        assert app.selected_step_id == "extract-customers"
        await pilot.press("ctrl+c")
        await settle(pilot)
        assert app.is_running
        assert app.return_code is None
        await pilot.press("down")  # still answering keys
        assert app.selected_step_id == "revenue"
