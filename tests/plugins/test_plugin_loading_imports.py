"""Loading the builtin plugins (what every `csgw` command does to read its config: sections,
texts, commands) leaves the runtime of channels (their clients, AES for WeChat's payloads) and of
the incident desk unimported; only a gateway building its channels and reply overrides imports
them. Checked in a fresh interpreter, where nothing else has imported them yet."""

from __future__ import annotations

import json
import subprocess
import sys

RUNTIME_ONLY = ("aiosmtplib", "aioimaplib", "cryptography", "csgw.plugins.email.channel",
                "csgw.plugins.xiaohongshu.channel", "csgw.plugins.incidents.desk", "csgw.plugins.incidents.api")

LOAD_PLUGINS = f"""
import json, sys
from csgw.gateway.plugin_host import PluginHost, get_plugin_manager
host = PluginHost(get_plugin_manager(only_distribution="csgw"))
sections, texts = host.config_sections(), host.texts()
loaded = sorted(name for name in {RUNTIME_ONLY!r} if name in sys.modules)
types = sorted(host.channel_types())
print(json.dumps({{"loaded": loaded, "sections": sorted(sections), "types": types,
                  "after": sorted(name for name in {RUNTIME_ONLY!r} if name in sys.modules)}}))
"""


def test_loading_plugins_leaves_channel_and_desk_runtime_unimported() -> None:
    done = subprocess.run([sys.executable, "-c", LOAD_PLUGINS], capture_output=True, text=True, check=True)
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["loaded"] == []
    assert "incidents" in found["sections"]
    # asking for the channel types imports the channels, as `csgw serve` does
    assert {"email", "xiaohongshu"} <= set(found["types"])
    assert {"csgw.plugins.email.channel", "csgw.plugins.xiaohongshu.channel"} <= set(found["after"])


COMMANDS_LOADED = """
import json, sys
from csgw.cli.main import app
from csgw.gateway.plugin_host import PluginHost, get_plugin_manager
PluginHost(get_plugin_manager(only_distribution="csgw")).add_cli(app)
print(json.dumps(sorted(name for name in ("aiohttp", "csgw.gateway.api.auth", "csgw.plugins.wechat.oa_channel")
                        if name in sys.modules)))
"""


def test_the_commands_load_without_the_http_server_and_client() -> None:
    """Every `csgw` command (a `kb test` among them) loads the CLI and the plugins' commands: none
    of that needs aiohttp (~0.1 s to import), which only `serve` and a channel at work use."""
    done = subprocess.run([sys.executable, "-c", COMMANDS_LOADED], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.splitlines()[-1]) == []
