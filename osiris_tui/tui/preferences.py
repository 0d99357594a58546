"""Settings in the app: the names they use checked against what Textual and the debugger have, then the
theme and the keymap applied (`App.set_keymap` over the binding ids in `commands.KEYS`)."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from typing import Any

from textual.app import App
from textual.keys import KEY_NAME_REPLACEMENTS, Keys
from textual.theme import BUILTIN_THEMES

from osiris_tui.settings import Settings
from osiris_tui.tui.commands import KEYS, remapped

BINDING_IDS: tuple[str, ...] = tuple(dict.fromkeys(k.id for k in KEYS))
MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")
NAMED_KEYS = frozenset(k.value for k in Keys if "+" not in k.value and not k.value.startswith("<")) | frozenset(
    KEY_NAME_REPLACEMENTS.values())


def theme_names() -> list[str]:
    return sorted(BUILTIN_THEMES)


def check_settings(settings: Settings) -> None:
    """InputError (naming the file, line and key) for an unknown theme or binding id, or a keymap that
    gives one key to two bindings."""
    settings.check(themes=theme_names(), binding_ids=BINDING_IDS)
    for binding_id, keys in settings.keymap.items():
        for key in keys.split(","):
            problem = key_problem(key)
            if problem:
                raise settings.origins[f"keymap.{binding_id}"].error(
                    f"{key!r} is not a key: {problem}", key=f"keymap.{binding_id}",
                    hint="Textual key names: a character, f1 … f24, enter, escape, tab, space, up, pageup, "
                         "question_mark, …, with ctrl+ / shift+ / alt+ in front")
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


def key_problem(key: str) -> str | None:
    """Why `key` is not a Textual key name (None: it is one)."""
    *modifiers, base = key.strip().split("+")
    for modifier in modifiers:
        if modifier not in MODIFIERS:
            return f"unknown modifier {modifier!r} (modifiers: {', '.join(MODIFIERS)})"
    if len(base) == 1 or base in NAMED_KEYS:
        return None
    try:
        if base != base.lower():  # (Textual's names are lower case; lookup() is not)
            raise KeyError(base)
        unicodedata.lookup(base.replace("_", " "))  # a character by name: question_mark, exclamation_mark
    except KeyError:
        return f"no key called {base!r}" if base else "nothing after the last '+'"
    return None


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
