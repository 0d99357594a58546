"""An installed driver plugin, as pip leaves one: a package on a site directory plus its dist-info with
`osiris_tui.drivers` entry points (what `drivers.registry.load_plugins` discovers)."""

from __future__ import annotations

from pathlib import Path


def install_plugin(site: Path, package: str, source: str, drivers: dict[str, str]) -> Path:
    """Write `package` (its `__init__.py` is `source`) under `site`, declaring `drivers` (name → `module:attr`)."""
    (site / package).mkdir(parents=True)
    (site / package / "__init__.py").write_text(source)
    dist = site / f"{package}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package.replace('_', '-')}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[osiris_tui.drivers]\n" + "".join(f"{name} = {target}\n" for name, target in drivers.items()))
    return site
