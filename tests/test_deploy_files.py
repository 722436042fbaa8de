"""The cluster deployment files (deploy/) are real: the config loads with csgw's own loader, the
compose file runs three gateways from this repository's Dockerfile beside PostgreSQL, Redis and
nginx, and nginx upgrades both WebSocket paths."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from csgw.config.loader import load_settings

DEPLOY = Path(__file__).parents[1] / "deploy"


def test_the_cluster_config_loads_and_shares_postgres_and_redis():
    settings = load_settings(DEPLOY / "csgw.toml", env={"POSTGRES_PASSWORD": "secret"})
    assert settings.database.url.startswith("postgres://") and settings.bus.url.startswith("redis://")
    assert settings.server.host == "0.0.0.0" and settings.server.trusted_proxies


def test_compose_runs_three_gateways_from_this_repository():
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))["services"]
    gateways = [name for name, service in services.items() if "/etc/csgw/csgw.toml" in service.get("command", [])]
    assert len(gateways) == 3
    for name in gateways:
        build = services[name]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()
    assert {"postgres", "redis", "nginx"} <= set(services)


def test_nginx_upgrades_both_socket_paths_to_every_gateway():
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    for path in ("/widget/ws", "/api/v1/events"):
        block = conf.split(f"location {path}", 1)[1].split("}", 1)[0]
        assert "proxy_set_header Upgrade $http_upgrade" in block and "Connection $connection_upgrade" in block
    assert all(f"server gateway-{n}:8080" in conf for n in "abc")


def test_the_deploy_page_shows_these_files_as_they_are():
    """docs/deploy.md names files that exist and quotes the config without drifting from it."""
    page = (DEPLOY.parent / "docs" / "deploy.md").read_text(encoding="utf-8")
    for name in set(re.findall(r"deploy/[\w.]+\.(?:yaml|conf|toml)", page)):
        assert (DEPLOY.parent / name).is_file(), name
    quoted = tomllib.loads(page.split("```toml", 1)[1].split("```", 1)[0])
    real = tomllib.loads((DEPLOY / "csgw.toml").read_text(encoding="utf-8"))
    for section, keys in quoted.items():
        for key, value in keys.items():
            assert real[section][key] == value, f"[{section}] {key}"
