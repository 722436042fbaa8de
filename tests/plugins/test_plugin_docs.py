"""docs/plugins.md cannot rot: its example plugin answers through the harness, its code imports
only the published API, and every hook has an entry there."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import re
import sys
from pathlib import Path
from types import ModuleType

import aiohttp
import pytest

import csgw.api
import csgw.testing
from csgw.api import InboundMessage
from csgw.config.errors import ConfigError
from csgw.config.loader import load_settings, validate_plugin_sections
from csgw.gateway import hookspecs
from csgw.gateway.plugin_host import PluginHost, get_plugin_manager
from csgw.testing import running_gateway

DOCS = Path(__file__).parents[2] / "docs" / "plugins.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)


def example_plugin() -> str:
    """The first code block under "A complete plugin"."""
    section = DOCS.read_text(encoding="utf-8").split("## A complete plugin", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def load(tmp_path: Path, name: str, source: str) -> ModuleType:
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_plugin_is_short():
    lines = [line for line in example_plugin().splitlines() if line.strip()]
    assert len(lines) <= 15, len(lines)


async def test_the_example_plugin_answers_through_the_harness(tmp_path):
    plugin = load(tmp_path, "opening_hours", example_plugin())
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"}],
                               extra_plugins=[("opening_hours", plugin)]) as gw:
        await gw.services.accept(InboundMessage("fake", "a", "user-1", "请问营业时间是几点？", "m1"))
        sent = await gw.fake("a").wait_sent(1)
        assert sent[0].text == "营业时间：每天 9:00-21:00。" and sent[0].sender == "bot"


async def test_the_documented_plugin_test_passes(tmp_path, monkeypatch):
    load(tmp_path, "opening_hours", example_plugin())
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "opening_hours", raising=False)
    [block] = [b for b in python_blocks() if "async def test_" in b]
    namespace: dict[str, object] = {}
    exec(compile(block, "docs/plugins.md", "exec"), namespace)
    [test] = [value for name, value in namespace.items() if name.startswith("test_")]
    await test(tmp_path / "documented")


async def test_the_documented_api_route_asks_for_a_token(tmp_path):
    [block] = [b for b in python_blocks() if "ApiRoutes()" in b]
    plugin = load(tmp_path, "loyalty", block)
    async with running_gateway(tmp_path, extra_plugins=[("loyalty", plugin)]) as gw, \
            aiohttp.ClientSession() as session:
        async with session.get(gw.url + "/api/v1/loyalty/ping") as response:
            assert response.status == 401


def under(heading: str, language: str) -> list[str]:
    """The code blocks in `language` of one `## heading` section."""
    section = DOCS.read_text(encoding="utf-8").split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, re.S)


async def test_the_documented_config_section_reaches_its_plugin(tmp_path):
    plugin = load(tmp_path, "loyalty_points", under("Config sections", "python")[0])
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"}],
                               extra_plugins=[("loyalty", plugin)], loyalty={"points_per_yuan": 2}) as gw:
        await gw.services.accept(InboundMessage("fake", "a", "user-1", "积分怎么算？", "m1"))
        sent = await gw.fake("a").wait_sent(1)
        assert sent[0].text == "每消费 1 元得 2 积分。"


def test_the_documented_config_errors_are_what_csgw_says(tmp_path, monkeypatch):
    plugin = load(tmp_path, "loyalty_points", under("Config sections", "python")[0])
    monkeypatch.chdir(tmp_path)
    (tmp_path / "csgw.toml").write_text("[loyalty]\npoints_per_yuan = -1\n[loyalti]\n[replly]\n", encoding="utf-8")
    settings = load_settings("csgw.toml")
    host = PluginHost(get_plugin_manager(load_entrypoints=False, extra=[("loyalty", plugin)]))
    with pytest.raises(ConfigError) as caught:
        validate_plugin_sections(settings, host.config_sections())
    [shown] = under("Config sections", "text")
    assert [f"config error: {line}" for line in caught.value.lines] == shown.splitlines()


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_every_code_block_imports_only_the_published_api(index):
    tree = ast.parse(python_blocks()[index])
    published = {"csgw.api": set(csgw.api.__all__), "csgw.testing": set(csgw.testing.__all__)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("csgw"):
            assert node.module in published, f"docs import from internal module {node.module}"
            for alias in node.names:
                assert alias.name in published[node.module], f"{alias.name} is not in {node.module}.__all__"


async def test_the_documented_texts_are_reworded_by_the_documented_toml(tmp_path):
    import tomllib

    plugin = load(tmp_path, "loyalty_balance", under("Customer-facing texts", "python")[0])
    wording = tomllib.loads(under("Customer-facing texts", "toml")[0])["texts"]
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"}],
                               extra_plugins=[("loyalty", plugin)], texts=wording) as gw:
        await gw.services.accept(InboundMessage("fake", "a", "user-1", "我有多少积分？", "m1"))
        sent = await gw.fake("a").wait_sent(1)
        assert sent[0].text == "积分余额：120"


def test_every_hook_has_an_entry_with_its_types():
    docs = DOCS.read_text(encoding="utf-8")
    hooks = [name for name, value in inspect.getmembers(hookspecs) if name.startswith("csgw_") and callable(value)]
    assert hooks
    for name in hooks:
        row = re.search(rf"^\| `{name}` \|(.*)$", docs, re.M)
        assert row, f"{name} has no row in the hook table of docs/plugins.md"
        for parameter in inspect.signature(getattr(hookspecs, name)).parameters:
            assert f"`{parameter}" in row.group(1), f"{name}: parameter {parameter} not documented"


def test_the_published_api_names_exist():
    for module in (csgw.api, csgw.testing):
        for name in module.__all__:
            assert getattr(module, name) is not None, name
