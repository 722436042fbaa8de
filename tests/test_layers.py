"""The layers hold in the imports (docs/architecture.md), counting imports done only for type
checking: no import loop in the core; the core never imports plugins, the CLI or health; a plugin
never imports the CLI or another plugin; health never imports plugins or the CLI."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).parents[1]
FOLDERS = ("gateway", "plugins", "cli", "config", "health", "csgw")

# (importer, imported) pairs that break a layer rule, each with why it is still there.
ALLOWED: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[0] == "csgw":
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["csgw", *parts])


def modules() -> dict[str, Path]:
    found = {}
    for folder in FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            if "build" not in path.relative_to(ROOT).parts:
                found[module_name(path)] = path
    return found


MODULES = modules()


def known(name: str) -> str | None:
    """The csgw module `name` is, or the module it is an attribute of (`from x import Name`)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imported_names(module: str, path: Path) -> Iterator[str]:
    """Every name an import statement anywhere in the module asks for, absolute."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            yield from (f"{base}.{alias.name}" for alias in node.names)


def imports(module: str) -> set[str]:
    """The csgw modules `module` imports: at the top, in a function, or only for type checking."""
    found = {known(name) for name in imported_names(module, MODULES[module])}
    return {target for target in found if target is not None and target != module}


GRAPH = {module: imports(module) for module in MODULES}


def cycles(nodes: set[str]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(GRAPH[node] & nodes):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return found


def within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def breaks(importer_prefix: str, rule: str, forbidden: tuple[str, ...]) -> list[str]:
    problems = []
    for module, targets in sorted(GRAPH.items()):
        if not within(module, (importer_prefix,)):
            continue
        for target in sorted(targets):
            if within(target, forbidden) and (module, target) not in ALLOWED:
                problems.append(f"{module} imports {target} ({rule})")
    return problems


def test_the_graph_sees_type_checking_imports():
    assert "csgw.gateway.ports" in GRAPH["csgw.gateway.channel"]  # imported only under TYPE_CHECKING
    assert "csgw.gateway.api.agents" in GRAPH["csgw.gateway.api"]  # imported inside a function


def test_no_import_loop_in_the_core():
    assert cycles({m for m in MODULES if m.startswith("csgw.gateway.")}) == []


def test_the_core_imports_no_plugin_cli_or_health():
    # nor what wires them together above it: the app, the command helpers, the running harness
    above = ("csgw.app", "csgw.commands", "csgw.testing")
    assert breaks("csgw.gateway", "core", ("csgw.plugins", "csgw.cli", "csgw.health", *above)) == []


def test_config_imports_nothing_else_of_csgw():
    assert breaks("csgw.config", "config", ("csgw.gateway", "csgw.plugins", "csgw.cli", "csgw.health")) == []


def test_health_imports_no_plugin_or_cli():
    assert breaks("csgw.health", "health", ("csgw.plugins", "csgw.cli")) == []


def test_a_plugin_imports_no_cli_and_no_other_plugin():
    problems = []
    for plugin in sorted({".".join(m.split(".")[:3]) for m in MODULES if m.startswith("csgw.plugins.")}):
        others = tuple(p for p in MODULES if p.startswith("csgw.plugins.") and p.count(".") == 2 and p != plugin)
        problems += breaks(plugin, "plugin", ("csgw.cli", *others))
    assert problems == []


def test_every_allowed_exception_is_still_needed():
    assert [pair for pair in ALLOWED if pair[0] in GRAPH and pair[1] not in GRAPH[pair[0]]] == []


def test_the_plugin_api_loads_no_running_gateway():
    """`import csgw.api` is what a plugin does at import time: it gets types and helpers, not the
    services, pipeline, outbox or store behind them (counted at run time, not in the graph)."""
    import subprocess
    import sys

    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, csgw.api; print(' '.join(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True).stdout.split()
    heavy = {"csgw.gateway.services", "csgw.gateway.pipeline", "csgw.gateway.outbox",
             "csgw.gateway.conversations", "csgw.gateway.storage.store", "csgw.plugins"}
    assert heavy & set(loaded) == set()
