"""The check an answer passes before a customer reads it, and `[llm]`'s keys."""

from __future__ import annotations

import tomllib

import pytest
from pydantic import ValidationError

from csgw.config.template import config_text
from csgw.gateway.knowledge import KnowledgeEntry
from csgw.plugins.llm.config import LlmConfig
from csgw.plugins.llm.grounding import check, han_value, numbers_in
from csgw.plugins.llm.model import LanguageModel

ENTRIES = [KnowledgeEntry("ship-time", "下单后多久发货？", "现货48小时内发货，预售按页面时间。"),
           KnowledgeEntry("return", "支持七天无理由退货吗？", "签收后七天内可申请退货，运费12元由买家承担。")]


@pytest.mark.parametrize(("answer", "reason", "text"), [
    ("现货下单后48小时内发货。[kb:ship-time]", "grounded", "现货下单后48小时内发货。"),
    ("签收后7天内可以退，运费12元 [kb:return]\n", "grounded", "签收后7天内可以退，运费12元"),
    ("可以的，一下就好～[ kb : return ]", "grounded", "可以的，一下就好～"),  # 一 is a word here
    ("NO_ANSWER", "unknown", ""),
    ("[kb:return]", "empty", ""),
    ("支持退货。", "no_citation", ""),
    ("48小时内发货 [kb:made-up]", "unknown_citation", ""),
    ("一般24小时发货[kb:ship-time]", "invented_number", ""),
    ("运费只要9.9元[kb:return]", "invented_number", ""),
    ("三十天内都能退[kb:return]", "invented_number", ""),
    ("48小时内发货，运费12元[kb:ship-time]", "invented_number", ""),  # 12 is in an entry not cited
])
def test_an_answer_is_checked(answer, reason, text):
    verdict = check(answer, ENTRIES, "多久发货")
    assert (verdict.reason, verdict.text) == (reason, text) and verdict.ok == (reason == "grounded")


def test_numbers_in_digits_and_chinese():
    assert numbers_in("1,000元、9.9元和二十五天") == {1000.0, 9.9, 25.0}
    assert numbers_in("一起看一下", strict=True) == set() and numbers_in("等两天", strict=True) == {2.0}
    assert [han_value(n) for n in ("十", "二十五", "两千", "一万五千", "零", "万")] == [10, 25, 2000, 15000, 0, None]
    assert check("订单20261126已发货[kb:ship-time]", ENTRIES, "订单20261126发了吗").ok  # the customer's number


def test_llm_config_keys():
    assert not LlmConfig().configured and not LlmConfig.model_validate({}).configured
    config = LlmConfig(base_url="https://api.deepseek.com/v1/", model="deepseek-chat", sites=["webchat", "wechat_oa/shop"])
    assert config.endpoint == "https://api.deepseek.com/v1/chat/completions" and config.host == "https://api.deepseek.com"
    assert config.answers_on("webchat", "any") and config.answers_on("wechat_oa", "shop")
    assert not config.answers_on("wechat_oa", "other") and LlmConfig(base_url="http://x", model="m").answers_on("email", "a")
    for bad, says in (({"model": "m"}, "base_url is missing"), ({"base_url": "http://x"}, "model is missing"),
                      ({"base_url": "ftp://x", "model": "m"}, "http:// or https://"),
                      ({"base_url": "http://user:pw@x", "model": "m"}, "api_key"),
                      ({"base_url": "http://x", "model": "m", "sites": ["web chat"]}, "plugin/account"),
                      ({"timeout_seconds": 8}, "base_url is missing")):
        with pytest.raises(ValidationError, match=says):
            LlmConfig.model_validate(bad)
    assert "sk-secret" not in repr(LlmConfig(base_url="http://x", model="m", api_key="sk-secret"))


def test_personal_data_leaves_only_when_the_shop_allows_it():
    text = "我手机13812345678"
    assert LanguageModel(LlmConfig(base_url="http://x", model="m")).outgoing(text) == "我手机[PHONE]"
    assert LanguageModel(LlmConfig(base_url="http://x", model="m", send_personal_data=True)).outgoing(text) == text


def test_the_init_templates_llm_block_is_valid_uncommented():
    text = config_text(demo=False)
    block = text[text.index("# [llm]"):].split("\n\n")[0]
    uncommented = "\n".join(line.removeprefix("# ") for line in block.splitlines())
    config = LlmConfig.model_validate(tomllib.loads(uncommented)["llm"])
    assert config.configured and config.sites == ["webchat"] and config.api_key is not None
