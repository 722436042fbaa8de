"""A channel type's default greeting is a text the shop may reword (`[texts.*] "wechat_oa.greeting"`);
an account's own `greeting` still comes first, and "" still turns greeting off."""

from __future__ import annotations

from csgw.config.loader import settings_from_dict, validate_plugin_sections
from csgw.gateway.plugin_host import PluginHost, get_plugin_manager
from csgw.plugins.wechat.events import DEFAULT_GREETINGS, greeting_for


def test_greeting_order_account_then_shop_wording_then_built_in():
    settings = settings_from_dict({
        "channels": [{"plugin": "wechat_oa", "account": "own", "greeting": "本号自己的问候"},
                     {"plugin": "wechat_oa", "account": "silent", "greeting": ""},
                     {"plugin": "wechat_oa", "account": "plain"}],
        "texts": {"zh-Hans": {"wechat_oa.greeting": "欢迎关注小店！"}},
    })
    host = PluginHost(get_plugin_manager(only_distribution="csgw"))
    validate_plugin_sections(settings, host.config_sections(), host.texts())
    assert greeting_for(settings, "wechat_oa", "own", "zh-Hans") == "本号自己的问候"
    assert greeting_for(settings, "wechat_oa", "silent", "zh-Hans") == ""
    assert greeting_for(settings, "wechat_oa", "plain", "zh-Hans") == "欢迎关注小店！"
    assert greeting_for(settings, "wechat_oa", "plain", "en") == DEFAULT_GREETINGS["wechat_oa"]["en"]
    assert greeting_for(settings, "wecom_kf", "any", "zh-Hans") == DEFAULT_GREETINGS["wecom_kf"]["zh-Hans"]
