"""`[[webhooks]]` mistakes stop the start with one line each, naming the entry and key; the
secret is never printed, whatever is wrong."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from csgw.config.errors import ConfigError
from csgw.config.loader import load_settings, validate_plugin_sections
from csgw.gateway.plugin_host import PluginHost, get_plugin_manager
from csgw.plugins import webhooks
from csgw.plugins.webhooks.config import WebhooksConfig

SECRET = "s3cret-value-that-must-not-show"


def webhooks_host() -> PluginHost:
    return PluginHost(get_plugin_manager(load_entrypoints=False, extra=[("webhooks", webhooks)]))


def load(tmp_path, text: str, env: dict[str, str] | None = None) -> WebhooksConfig:
    """Both stages, as `csgw serve` runs them; ConfigError on a mistake."""
    path = tmp_path / "csgw.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    settings = load_settings(path, env=env or {})
    validate_plugin_sections(settings, webhooks_host().config_sections())
    return settings.section("webhooks", WebhooksConfig)


def problems(tmp_path, text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, env)
    assert SECRET not in "\n".join(caught.value.lines)
    return [line.split(": ", 1)[1] for line in caught.value.lines]


def test_several_entries_load_with_the_secret_from_the_environment(tmp_path):
    crm, erp = load(tmp_path, '''
        [[webhooks]]
        url = "https://crm.example.com/hooks/csgw?token=abc"
        events = ["message.created", "conversation.closed"]
        secret = "${CRM_WEBHOOK_SECRET}"

        [[webhooks]]
        name = "erp"
        url = "http://10.0.0.5:8000/csgw"
        events = ["customer.updated"]
        secret = "${ERP_WEBHOOK_SECRET}"
        max_attempts = 5
    ''', env={"CRM_WEBHOOK_SECRET": SECRET, "ERP_WEBHOOK_SECRET": SECRET + "2"}).root
    assert crm.secret.get_secret_value() == SECRET and SECRET not in repr(crm)
    assert (crm.label, erp.label, erp.max_attempts) == ("https://crm.example.com/hooks/csgw", "erp", 5)


def test_no_entries_is_no_webhooks(tmp_path):
    assert load(tmp_path, "").root == []


def test_each_mistake_is_one_clear_line(tmp_path):
    lines = problems(tmp_path, f'''
        [[webhooks]]
        url = "ftp://crm.example.com/in"
        events = ["message.create", "order.paid"]
        secret = "{SECRET}"

        [[webhooks]]
        url = "https://erp.example.com/in"
        events = []
        secret = "short"
        timeout = 3
    ''')
    assert lines == [
        "webhooks[0].url: Value error, must be an http:// or https:// URL with a host (got 'ftp://crm.example.com/in')",
        "webhooks[0].events[0]: Value error, unknown event 'message.create' (did you mean 'message.created'?); "
        "the events are message.created, conversation.assigned, conversation.closed, customer.updated, "
        "satisfaction.rated, incident.opened, incident.updated, incident.closed (got 'message.create')",
        "webhooks[0].events[1]: Value error, unknown event 'order.paid'; the events are message.created, "
        "conversation.assigned, conversation.closed, customer.updated, satisfaction.rated, incident.opened, "
        "incident.updated, incident.closed (got 'order.paid')",
        "webhooks[1].events: List should have at least 1 item after validation, not 0",
        "webhooks[1].secret: Value error, must be at least 16 characters (e.g. `openssl rand -hex 32`) "
        "(got a value of 5 characters, not shown)",
        "webhooks[1].timeout: unknown key",
    ]


def test_a_missing_secret_or_variable_and_a_misspelt_section_are_named(tmp_path):
    assert problems(tmp_path, '''
        [[webhooks]]
        url = "https://crm.example.com/in"
        events = ["conversation.closed"]
    ''') == ["webhooks[0].secret: required key is missing"]
    assert problems(tmp_path, '''
        [[webhooks]]
        url = "https://crm.example.com/in"
        events = ["conversation.closed"]
        secret = "${CRM_WEBHOOK_SECRET}"
    ''') == ["webhooks[0].secret: environment variable CRM_WEBHOOK_SECRET is not set"]
    assert problems(tmp_path, f'''
        [[webhook]]
        url = "https://crm.example.com/in"
        events = ["conversation.closed"]
        secret = "{SECRET}"
    ''') == ["webhook: unknown section (did you mean [webhooks]?)"]


def test_two_entries_with_one_name_are_refused_without_printing_them(tmp_path):
    entry = f'''
        [[webhooks]]
        url = "https://crm.example.com/in?token=one"
        events = ["conversation.closed"]
        secret = "{SECRET}"
    '''
    [line] = problems(tmp_path, entry + entry.replace("token=one", "token=two"))
    assert line.startswith("webhooks: Value error, webhooks[1] is named 'https://crm.example.com/in' like an earlier")
    assert "token=" not in line


def test_serve_refuses_a_bad_entry_with_one_line_and_exit_2(tmp_path):
    path = tmp_path / "csgw.toml"
    path.write_text(f'[[webhooks]]\nurl = "crm.example.com"\nevents = ["conversation.closed"]\n'
                    f'secret = "{SECRET}"\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "csgw", "serve", "--config", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "webhooks[0].url: Value error, must be an http:// or https:// URL with a host" in done.stderr
    assert SECRET not in done.stderr + done.stdout and "Traceback" not in done.stderr
