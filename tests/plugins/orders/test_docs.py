"""The `[orders]` examples in the README and docs/orders.md load, and the documented shop plugin
uses only the published API and finds orders in a shop's API."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path
from types import SimpleNamespace

import aiohttp

import csgw.api
from csgw.config.loader import validate_plugin_sections
from csgw.gateway.plugin_host import PluginHost, get_plugin_manager
from csgw.gateway.testing import make_settings
from csgw.plugins import orders
from csgw.plugins.orders.config import OrdersConfig
from tests.fakes.shop_api import FakeShopApi

ROOT = Path(__file__).parents[3]
DOC = (ROOT / "docs" / "orders.md").read_text(encoding="utf-8")


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def test_the_toml_examples_load(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8").split("## The bot serves orders\n", 1)[1]
    examples = [blocks(readme.split("\n## ", 1)[0], "toml")[0], *blocks(DOC, "toml")]
    for example in examples:
        settings = make_settings(tmp_path, **tomllib.loads(example))
        host = PluginHost(get_plugin_manager(load_entrypoints=False, extra=[("orders", orders)]))
        validate_plugin_sections(settings, host.config_sections())
        assert settings.section("orders", OrdersConfig).bad_statuses[0] == "topup_failed"


async def test_the_documented_shop_plugin_finds_orders_in_the_shop_api(tmp_path, monkeypatch):
    """The block as a shop would save it, against the fake shop API (the gateway's side of the
    same hooks is tested with an equivalent plugin in test_orders_gateway.py)."""
    [source] = blocks(DOC, "python")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("csgw"):
            assert node.module == "csgw.api" and {a.name for a in node.names} <= set(csgw.api.__all__)
    async with FakeShopApi() as shop, aiohttp.ClientSession() as http:
        shop.orders["Z20261111"] = {"order_id": "Z20261111", "status": "shipped"}
        shop.members["m-9"] = ["Z20261111"]
        (tmp_path / "shop_orders.py").write_text(source.replace("https://shop.example.com/api", shop.base_url),
                                                 encoding="utf-8")
        monkeypatch.syspath_prepend(str(tmp_path))
        import shop_orders  # type: ignore[import-not-found]

        services = SimpleNamespace(http=http)
        assert await shop_orders.csgw_order_lookup(services, "Z20261111", {"id": 1}) == shop.orders["Z20261111"]
        assert await shop_orders.csgw_order_lookup(services, "Z00000000", {"id": 1}) is None
        assert await shop_orders.csgw_customer_context(services, {"shop_user_id": None}) is None
        context = await shop_orders.csgw_customer_context(services, {"shop_user_id": "m-9"})
        assert context == {"orders": [shop.orders["Z20261111"]]}
