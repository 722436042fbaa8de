"""`csgw plugins`: list, add (pip in this interpreter, verified), remove, enable, disable."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import typer
from rich.table import Table

from csgw.cli.plugin_config import forget, set_enabled
from csgw.commands import ConfigOption, dump_json, err, fail, out
from csgw.config.loader import default_config_path
from csgw.gateway.plugin_host import ENTRY_POINT_GROUP, PluginHost, entry_points, get_plugin_manager

app = typer.Typer(help="Plugins: builtin, installed, and local / 插件管理。", no_args_is_help=True)


def _config_path(config: Path | None) -> Path:
    return config or default_config_path()


def _disabled(config: Path | None) -> list[str]:
    path = _config_path(config)
    if not path.exists():
        return []
    import tomllib

    return list(tomllib.loads(path.read_text(encoding="utf-8")).get("plugins", {}).get("disabled", []))


def _distributions() -> dict[str, str]:
    return {d.metadata["Name"].lower(): d.version for d in importlib.metadata.distributions() if d.metadata["Name"]}


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True)


@app.command("list")
def list_plugins(as_json: bool = typer.Option(False, "--json"), config: Path | None = ConfigOption) -> None:
    """Every plugin known: name, kinds (hooks), source, enabled."""
    disabled = _disabled(config)
    infos = PluginHost(get_plugin_manager(disabled=disabled)).plugins()
    rows = [{**asdict(i), "enabled": i.enabled and i.name not in disabled} for i in infos]
    if as_json:
        dump_json(rows)
        return
    grid = Table("name", "source", "enabled", "hooks", "module")
    for r in rows:
        grid.add_row(r["name"], r["source"], "yes" if r["enabled"] else "no",
                     ", ".join(h.removeprefix("csgw_") for h in r["hooks"]), r["module"])
    out.print(grid)


def _hooks_of(names: set[str]) -> dict[str, tuple[str, ...]]:
    """Entry points of the given distributions, loaded, with the csgw hooks each implements."""
    importlib.invalidate_caches()
    found: dict[str, tuple[str, ...]] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.dist is None or ep.dist.metadata["Name"].lower() not in names:
            continue
        pm = get_plugin_manager(load_entrypoints=False)
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
            found[ep.name] = tuple(sorted(c.name for c in pm.get_hookcallers(plugin) or []))
        except Exception as error:
            err.print(f"plugin {ep.name} failed to load: {error!r}", highlight=False)
            found[ep.name] = ()
    return found


def _would_install(target: str) -> dict[str, str] | None:
    """What pip would install for `target` (name -> version), resolved without installing;
    None when pip cannot say (it then fails the real install with its own message)."""
    result = _pip("install", "--dry-run", "--quiet", "--report", "-", target)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        return None
    return {item["metadata"]["name"].lower(): item["metadata"]["version"]
            for item in report.get("install", [])}


def _builtin_names() -> set[str]:
    return {ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
            if ep.dist is not None and ep.dist.metadata["Name"].lower() == "csgw"}


@app.command("add")
def add(spec: str, config: Path | None = ConfigOption) -> None:
    """Install SPEC (PyPI name, wheel/sdist, or local directory) and enable it, if it hooks into csgw.

    Refused: pip options (only the package reaches pip), a package that would replace an
    installed distribution (a "plugin" named like a dependency would break csgw itself), and one
    registering a builtin's name (it would shadow that builtin)."""
    if spec.startswith("-"):
        fail(f"{spec!r} looks like a pip option: plugins add takes a package name, a wheel or sdist, "
             "or a local directory")
    before = _distributions()
    local = Path(spec)
    target = str(local.resolve()) if local.exists() else spec
    planned = _would_install(target)
    replaced = sorted(f"{name} {before[name]} -> {version}" for name, version in (planned or {}).items()
                      if name in before)
    if replaced:
        fail(f"{spec} would replace installed distributions ({'; '.join(replaced)}); refused, "
             "nothing was installed")
    err.print(f"installing {spec} …", highlight=False)
    result = _pip("install", target)
    if result.returncode != 0:
        fail(f"pip could not install {spec}:\n{result.stderr.strip()[-2000:]}")
    after = _distributions()
    changed = {name for name, version in after.items() if before.get(name) != version}
    new = sorted(changed - before.keys())
    hooks = _hooks_of(changed)
    shadowing = sorted(set(hooks) & _builtin_names())
    if shadowing:
        _pip("uninstall", "-y", *new)
        fail(f"{spec} registers the builtin plugin name(s) {', '.join(shadowing)}; installation undone")
    good = {name: h for name, h in hooks.items() if h}
    if not good:
        if new:
            _pip("uninstall", "-y", *new)
        fail(f"{spec} registers no csgw hooks (entry-point group `{ENTRY_POINT_GROUP}`); installation undone")
    for name, implemented in sorted(good.items()):
        set_enabled(_config_path(config), name, True)
        out.print(f"plugin {name} added: {', '.join(h.removeprefix('csgw_') for h in implemented)}")


def _entry_point(name: str) -> importlib.metadata.EntryPoint | None:
    return next((ep for ep in entry_points() if ep.name == name), None)


@app.command("remove")
def remove(name: str, config: Path | None = ConfigOption) -> None:
    """Uninstall an installed plugin (builtins can only be disabled)."""
    ep = _entry_point(name)
    if ep is None or ep.dist is None:
        fail(f"no installed plugin named {name!r}")
    if ep.dist.metadata["Name"].lower() == "csgw":
        fail(f"{name} is builtin: it can be disabled (`csgw plugins disable {name}`), not removed")
    result = _pip("uninstall", "-y", ep.dist.metadata["Name"])
    if result.returncode != 0:
        fail(f"pip could not uninstall {name}:\n{result.stderr.strip()[-2000:]}")
    forget(_config_path(config), name)
    out.print(f"plugin {name} removed")


def _toggle(name: str, config: Path | None, enabled: bool) -> None:
    path = _config_path(config)
    if _entry_point(name) is None:
        fail(f"no plugin named {name!r} (see `csgw plugins list`)")
    if not path.exists():
        fail(f"{path} not found; run `csgw init` first")
    set_enabled(path, name, enabled)
    out.print(f"plugin {name} {'enabled' if enabled else 'disabled'}; restart csgw to apply")


@app.command("enable")
def enable(name: str, config: Path | None = ConfigOption) -> None:
    """Enable a plugin."""
    _toggle(name, config, True)


@app.command("disable")
def disable(name: str, config: Path | None = ConfigOption) -> None:
    """Disable a plugin (builtins included)."""
    _toggle(name, config, False)
