"""Settings in the app: the names they use checked against what Textual and the debugger have, then the
theme and the keymap applied (`App.set_keymap` over the binding ids in `commands.KEYS`)."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from typing import Any

from textual.app import App
from textual.keys import KEY_NAME_REPLACEMENTS
from textual.theme import BUILTIN_THEMES

from osiris_tui.settings import Settings
from osiris_tui.tui.commands import KEYS, remapped

BINDING_IDS: tuple[str, ...] = tuple(dict.fromkeys(k.id for k in KEYS))


def theme_names() -> list[str]:
    return sorted(BUILTIN_THEMES)


def check_settings(settings: Settings) -> None:
    """InputError (naming the file, line and key) for an unknown theme or binding id, or a keymap that
    gives one key to two bindings."""
    settings.check(themes=theme_names(), binding_ids=BINDING_IDS)
    owners: defaultdict[str, list[str]] = defaultdict(list)
    for k in KEYS:
        for key in settings.keymap.get(k.id, k.keys).split(","):
            owners[normal_key(key)].append(k.id)
    for binding_id, keys in settings.keymap.items():
        for key in keys.split(","):
            others = [other for other in owners[normal_key(key)] if other != binding_id]
            if others:
                origin = settings.origins[f"keymap.{binding_id}"]
                raise origin.error(
                    f"key {key!r} is already bound to {', '.join(others)}", key=f"keymap.{binding_id}",
                    hint=f"choose a free key, or move {others[0]} to another key in [keymap] too")


def normal_key(key: str) -> str:
    """A key in Textual's long form (`?` → `question_mark`), as `App.set_keymap` stores it."""
    key = key.strip()
    if len(key) != 1 or key.isalnum():
        return key
    try:
        name = unicodedata.name(key).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return key
    return KEY_NAME_REPLACEMENTS.get(name, name)


def apply_settings(app: App[Any], settings: Settings) -> None:
    """Theme and keymap, before or after the app starts (call `check_settings` first)."""
    if settings.theme is not None:
        app.theme = settings.theme
    if settings.keymap:
        app.set_keymap(dict(settings.keymap))
        # what the key bar, the help screen and the palette show (DebuggerApp reads it)
        app.key_actions = remapped(settings.keymap)  # type: ignore[attr-defined]
