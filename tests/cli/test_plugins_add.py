"""`csgw plugins add/remove` for real: pip in this interpreter, hook check, undo on failure."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.cli.server_process import write_config

FIXTURES = Path(__file__).parents[1] / "plugins" / "fixtures"


def csgw(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "csgw", *args], capture_output=True, text=True, timeout=300)


def installed(name: str) -> bool:
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.fixture
def clean_venv():
    yield
    for name in ("csgw-good-plugin", "csgw-hookless-plugin", "csgw-shadow-plugin"):
        subprocess.run([sys.executable, "-m", "pip", "uninstall", "-y", name], capture_output=True)


@pytest.mark.usefixtures("clean_venv")
def test_add_a_good_plugin_then_remove_it(tmp_path):
    config = write_config(tmp_path)
    added = csgw("plugins", "add", str(FIXTURES / "good_plugin"), "--config", str(config))
    assert added.returncode == 0, added.stderr
    assert "plugin good added: reply_handlers" in added.stdout
    assert tomllib.loads(config.read_text())["plugins"]["enabled"] == ["good"]
    listed = csgw("plugins", "list", "--json", "--config", str(config))
    assert '"source": "entry point"' in listed.stdout and '"name": "good"' in listed.stdout
    removed = csgw("plugins", "remove", "good", "--config", str(config))
    assert removed.returncode == 0, removed.stderr
    assert tomllib.loads(config.read_text())["plugins"]["enabled"] == []
    assert not installed("csgw-good-plugin")


@pytest.mark.usefixtures("clean_venv")
def test_a_package_without_hooks_is_refused_and_uninstalled(tmp_path):
    config = write_config(tmp_path)
    result = csgw("plugins", "add", str(FIXTURES / "hookless_plugin"), "--config", str(config))
    assert result.returncode == 2
    assert "registers no csgw hooks" in result.stderr and "installation undone" in result.stderr
    assert not installed("csgw-hookless-plugin")
    assert "enabled" not in tomllib.loads(config.read_text()).get("plugins", {})


def test_an_uninstallable_spec_fails_cleanly(tmp_path):
    result = csgw("plugins", "add", str(tmp_path / "no-such-dir.whl"), "--config", str(write_config(tmp_path)))
    assert result.returncode == 2 and "pip could not install" in result.stderr
    assert "Traceback" not in result.stderr


def test_pip_options_never_reach_pip(tmp_path):
    config = write_config(tmp_path)
    for spec in ("-r", "--index-url=http://127.0.0.1:9/simple", "-e."):
        result = csgw("plugins", "add", "--config", str(config), "--", spec)
        assert result.returncode == 2 and "looks like a pip option" in result.stderr, result.stderr


@pytest.mark.usefixtures("clean_venv")
def test_a_plugin_claiming_a_builtin_name_is_refused_and_uninstalled(tmp_path):
    config = write_config(tmp_path)
    result = csgw("plugins", "add", str(FIXTURES / "shadow_plugin"), "--config", str(config))
    assert result.returncode == 2 and "builtin plugin name(s) webchat" in result.stderr, result.stderr
    assert not installed("csgw-shadow-plugin")
    assert csgw("plugins", "list", "--json", "--config", str(config)).returncode == 0  # csgw still runs


@pytest.mark.usefixtures("clean_venv")
def test_a_package_that_would_replace_an_installed_one_is_refused_before_installing(tmp_path):
    config = write_config(tmp_path)
    assert csgw("plugins", "add", str(FIXTURES / "good_plugin"), "--config", str(config)).returncode == 0
    result = csgw("plugins", "add", str(FIXTURES / "replacing_plugin"), "--config", str(config))
    assert result.returncode == 2 and "would replace installed distributions" in result.stderr, result.stderr
    assert "csgw-good-plugin 0.1.0 -> 9.9.0" in result.stderr
    assert importlib.metadata.version("csgw-good-plugin") == "0.1.0"
