"""`[plugins] enabled` is read: `csgw serve` names the enabled plugins it could not load."""

from __future__ import annotations

from csgw.cli.serve import enabled_but_not_loaded
from csgw.gateway.plugin_host import get_plugin_manager


def test_enabled_plugins_that_are_not_loaded_are_named():
    pm = get_plugin_manager(disabled=["kb"], only_distribution="csgw")
    assert enabled_but_not_loaded(["webchat", "kb", "not_installed"], pm) == ["kb", "not_installed"]
    assert enabled_but_not_loaded([], pm) == []
