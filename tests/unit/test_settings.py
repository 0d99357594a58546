"""Settings files: parsing, validation with file/line/key and the fix, precedence, and the names the app
checks (themes, binding ids, keymap clashes, default breakpoints)."""

from __future__ import annotations

from pathlib import Path

import pytest

from osiris_tui.errors import InputError
from osiris_tui.settings import PROJECT_FILE, Settings, load_settings, parse_size, user_config_path
from osiris_tui.tui.preferences import BINDING_IDS, check_settings, key_problem, normal_key


@pytest.fixture
def files(tmp_path: Path):
    """(user config path, manifest path) in a scratch directory; write either with `.write_text`."""
    user = tmp_path / "xdg" / "osiris-tui" / "config.toml"
    user.parent.mkdir(parents=True)
    project = tmp_path / "project"
    project.mkdir()
    manifest = project / "manifest.yaml"
    manifest.write_text("steps: []\n")
    return user, manifest


def load(user: Path, manifest: Path) -> Settings:
    return load_settings(manifest, user_file=user)


def error_of(user: Path, manifest: Path) -> InputError:
    with pytest.raises(InputError) as info:
        load(user, manifest)
    return info.value


def test_no_files_gives_the_defaults(files) -> None:
    user, manifest = files
    settings = load(user, manifest)
    assert settings == Settings()
    assert settings.remember_breakpoints and not settings.continue_on_start and settings.cache_budget is None


def test_every_setting_is_read(files) -> None:
    user, manifest = files
    (manifest.parent / PROJECT_FILE).write_text(
        'theme = "nord"\ncache_budget = "2GB"\n\n[breakpoints]\ndefault = ["join", "load", "join"]\n'
        'remember = false\ncontinue_on_start = true\n\n[keymap]\n"osiris.step" = "j, f10"\n'
        'osiris.tab.data = "!"\n')
    settings = load(user, manifest)
    assert settings.theme == "nord"
    assert settings.cache_budget == 2 * 10**9
    assert settings.default_breakpoints == ("join", "load")
    assert settings.remember_breakpoints is False and settings.continue_on_start is True
    # quoted and unquoted (dotted) binding ids alike
    assert settings.keymap == {"osiris.step": "j,f10", "osiris.tab.data": "!"}
    assert settings.files == (manifest.parent / PROJECT_FILE,)
    assert settings.origins["keymap.osiris.tab.data"].line == 11


def test_project_file_overrides_the_user_file_key_by_key(files) -> None:
    user, manifest = files
    user.write_text('theme = "dracula"\ncache_budget = "1GiB"\n[keymap]\n"osiris.step" = "j"\n'
                    '"osiris.pause" = "ctrl+p"\n[breakpoints]\nremember = false\n')
    (manifest.parent / PROJECT_FILE).write_text('theme = "nord"\n[keymap]\n"osiris.step" = "ctrl+n"\n')
    settings = load(user, manifest)
    assert settings.theme == "nord"  # project wins
    assert settings.cache_budget == 2**30  # only in the user file: kept
    assert settings.remember_breakpoints is False
    assert settings.keymap == {"osiris.step": "ctrl+n", "osiris.pause": "ctrl+p"}  # merged per binding
    assert settings.origins["theme"].file == str(manifest.parent / PROJECT_FILE)
    assert settings.origins["cache_budget"].file == str(user)
    assert settings.files == (user, manifest.parent / PROJECT_FILE)
    # --theme beats both
    assert settings.with_theme("gruvbox").theme == "gruvbox"
    assert settings.with_theme(None).theme == "nord"


def test_user_file_follows_xdg_config_home(tmp_path: Path, monkeypatch) -> None:
    assert user_config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "osiris-tui" / "config.toml"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    # unset, empty or relative: ~/.config (as the XDG spec says)
    for env in ({}, {"XDG_CONFIG_HOME": ""}, {"XDG_CONFIG_HOME": "relative/dir"}):
        assert user_config_path(env) == tmp_path / "home" / ".config" / "osiris-tui" / "config.toml"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "x"))
    (tmp_path / "x" / "osiris-tui").mkdir(parents=True)
    (tmp_path / "x" / "osiris-tui" / "config.toml").write_text('theme = "monokai"\n')
    assert load_settings(None).theme == "monokai"


@pytest.mark.parametrize(("text", "size"), [
    ("2GB", 2 * 10**9), ("512MiB", 512 * 2**20), ("1.5GiB", 3 * 2**29), ("100 kb", 100_000), ("42", 42),
    (4096, 4096), ("1TB", 10**12), ("7B", 7),
])
def test_sizes(text, size) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["2 gigs", "GB", "", "-1GB", "1e9", True, -5, "2GBs"])
def test_not_sizes(text) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


BAD = {
    # text, line, key, what the message says, what the hint says
    "unknown_key": ('theme = "nord"\nthem = "x"\n', 2, "them", "unknown setting", "did you mean 'theme'?"),
    "unknown_in_table": ('[breakpoints]\nremembr = true\n', 2, "breakpoints.remembr", "unknown setting",
                         "did you mean 'remember'?"),
    "unknown_table": ('[breakpoint]\nremember = true\n', 1, "breakpoint", "unknown setting",
                      "did you mean 'breakpoints'?"),
    "theme_type": ("theme = 3\n", 1, "theme", "must be a theme name, not a number", 'theme = "nord"'),
    "theme_empty": ('theme = " "\n', 1, "theme", "must not be empty", "remove the line"),
    "budget_words": ('\ncache_budget = "lots"\n', 2, "cache_budget", "not a size: 'lots'", 'cache_budget = "2GB"'),
    "budget_zero": ("cache_budget = 0\n", 1, "cache_budget", "more than 0", "2GB"),
    "budget_bool": ("cache_budget = true\n", 1, "cache_budget", "not a boolean", "2GB"),
    "remember_type": ('[breakpoints]\nremember = "yes"\n', 2, "breakpoints.remember",
                      "must be true or false, not a string", "remember = false"),
    "remember_dotted": ('breakpoints.remember = 1\n', 1, "breakpoints.remember", "not a number", "remember"),
    "default_type": ('[breakpoints]\ndefault = "join"\n', 2, "breakpoints.default",
                     "must be a list of step ids", 'default = ["join"]'),
    "default_items": ('[breakpoints]\ndefault = [1]\n', 2, "breakpoints.default", "strings", 'default = ["join"]'),
    "table_as_value": ('keymap = "vim"\n', 1, "keymap", "must be a table", "[keymap]"),
    "keymap_value": ('[keymap]\n"osiris.step" = 5\n', 2, "keymap.osiris.step", "must be a string of keys",
                     '"osiris.step" = "j,f10"'),
    "keymap_keys": ('[keymap]\n"osiris.step" = "j,,k"\n', 2, "keymap.osiris.step", "not a list of keys",
                    "comma separated"),
    "keymap_space": ('[keymap]\n"osiris.step" = "ctrl n"\n', 2, "keymap.osiris.step", "not a list of keys",
                     "ctrl+n"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_settings_name_file_line_key_and_fix(case, files) -> None:
    text, line, key, message, hint = BAD[case]
    user, manifest = files
    project = manifest.parent / PROJECT_FILE
    project.write_text(text)
    error = error_of(user, manifest)
    rendered = error.render()
    assert error.file == str(project) and error.line == line and error.key == key, rendered
    assert message in error.message, rendered
    assert error.hint is not None and hint in error.hint, rendered
    assert rendered.startswith(f"{project}:{line}: key '{key}':")


def test_invalid_toml_names_the_line_and_column(files) -> None:
    user, manifest = files
    user.write_text('theme = "nord"\ncache_budget = 2GB\n')
    error = error_of(user, manifest)
    assert (error.file, error.line, error.column) == (str(user), 2, 17)
    assert "not valid TOML" in error.message and "README" in (error.hint or "")


def test_unreadable_file(files) -> None:
    user, manifest = files
    user.write_bytes(b'theme = "\xff"\n')
    error = error_of(user, manifest)
    assert error.file == str(user) and "UTF-8" in error.message


def test_default_breakpoints_belong_in_the_project_file(files) -> None:
    user, manifest = files
    user.write_text('[breakpoints]\ndefault = ["join"]\n')
    error = error_of(user, manifest)
    assert error.file == str(user) and error.line == 2 and PROJECT_FILE in (error.hint or "")


def test_default_breakpoints_are_checked_against_the_pipeline(files) -> None:
    user, manifest = files
    (manifest.parent / PROJECT_FILE).write_text('[breakpoints]\ndefault = ["revenu"]\n')
    settings = load(user, manifest)
    settings.check_steps(["revenu", "load"])  # loading checks no step ids; a pipeline that has it passes
    with pytest.raises(InputError) as info:
        settings.check_steps(["extract", "revenue"])
    assert info.value.line == 2 and info.value.key == "breakpoints.default"
    assert "no step 'revenu'" in info.value.message and "did you mean 'revenue'?" in (info.value.hint or "")


def test_theme_and_binding_ids_are_checked(files) -> None:
    user, manifest = files
    user.write_text('theme = "nordd"\n')
    with pytest.raises(InputError) as info:
        check_settings(load(user, manifest))
    assert info.value.key == "theme" and "did you mean 'nord'?" in (info.value.hint or "")
    user.write_text('theme = "nord"\n[keymap]\n"osiris.stepp" = "j"\n')
    with pytest.raises(InputError) as info:
        check_settings(load(user, manifest))
    error = info.value
    assert (error.line, error.key) == (3, "keymap.osiris.stepp")
    assert "no key binding with id 'osiris.stepp'" in error.message
    assert "did you mean 'osiris.step'?" in (error.hint or "")
    with pytest.raises(InputError) as info:
        check_settings(Settings().with_theme("bogus"))
    assert info.value.render().startswith("--theme: no theme 'bogus'")


def test_keymap_clashes_are_refused_unless_moved_away(files) -> None:
    user, manifest = files
    user.write_text('[keymap]\n"osiris.step" = "c"\n')
    with pytest.raises(InputError) as info:
        check_settings(load(user, manifest))
    assert "already bound to osiris.continue" in info.value.message and info.value.line == 2
    # single characters are compared in Textual's long form: "/" is slash
    user.write_text('[keymap]\n"osiris.step" = "/"\n')
    with pytest.raises(InputError) as info:
        check_settings(load(user, manifest))
    assert "osiris.data.search" in info.value.message
    # a swap is fine: both bindings move
    user.write_text('[keymap]\n"osiris.step" = "c"\n"osiris.continue" = "n"\n')
    check_settings(load(user, manifest))
    # the bindings that share `/` on purpose (search on the Data tab, filter elsewhere) stay as they are
    user.write_text('[keymap]\n"osiris.step" = "j"\n')
    check_settings(load(user, manifest))


def test_binding_ids_are_the_app_bindings() -> None:
    from osiris_tui.tui.app import DebuggerApp

    ids = {b.id for b in DebuggerApp.BINDINGS if not isinstance(b, tuple) and getattr(b, "id", None)}
    assert ids == set(BINDING_IDS)
    assert [normal_key(k) for k in ("?", "/", "!", "_", "a", "F", "ctrl+e")] == [
        "question_mark", "slash", "exclamation_mark", "underscore", "a", "F", "ctrl+e"]


@pytest.mark.parametrize("key", ["j", "J", "?", "ctrl+n", "shift+f3", "f24", "question_mark", "exclamation_mark",
                                 "enter", "escape", "pageup", "space", "slash", "ctrl+shift+left", "alt+underscore"])
def test_key_names(key) -> None:
    assert key_problem(key) is None


@pytest.mark.parametrize(("key", "problem"), [
    ("cntrl+n", "unknown modifier 'cntrl'"), ("f25", "no key called 'f25'"), ("ctrl+", "nothing after"),
    ("questionmark", "no key called"), ("Enter", "no key called 'Enter'"), ("Question_Mark", "no key called"),
])
def test_not_key_names(key, problem, files) -> None:
    assert problem in (key_problem(key) or "")
    user, manifest = files
    user.write_text(f'[keymap]\n"osiris.step" = "j,{key}"\n')
    with pytest.raises(InputError) as info:
        check_settings(load(user, manifest))
    assert info.value.line == 2 and info.value.key == "keymap.osiris.step" and "is not a key" in info.value.message


def test_the_readme_lists_every_binding_id() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Settings, themes and keymaps"):]
    section = section[:section.index("\n## ")]
    assert [i for i in BINDING_IDS if f"`{i}`" not in section] == []
