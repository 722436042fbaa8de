"""The adapter: dotted field paths, every message kind, order pushes, renamed fields from config."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from csgw.plugins.xiaohongshu.adapter import XiaohongshuAdapter, pick
from csgw.plugins.xiaohongshu.channel import XiaohongshuConfig
from csgw.plugins.xiaohongshu.signing import open_platform_sign
from tests.plugins.xiaohongshu.conftest import AES_KEY


def test_sign_is_md5_of_sorted_path_query_and_secret():
    params = {"timestamp": "1700000000", "app-key": "ak"}
    assert open_platform_sign("/api/im/message/send", params, "secret") == "fb50363381aa42b9c2e51ba0f90c9f60"


def test_pick_follows_dots_into_nested_json_strings():
    data = {"data": json.dumps({"order": {"id": "P1"}, "items": [{"sku": "s1"}]})}
    assert pick(data, "data.order.id") == "P1"
    assert pick(data, "data.items.0.sku") == "s1"
    assert pick(data, "data.missing.id") is None
    assert pick({"a": "{broken"}, "a.b") is None


def test_a_follow_event_and_unknown_types():
    adapter = XiaohongshuAdapter()
    follow = adapter.to_inbound({"message_type": "EVENT", "event": "follow", "from_user_id": "u1"},
                                account="brand")
    assert follow is not None and (follow.kind, follow.payload["event"]) == ("event", "follow")
    assert adapter.to_inbound({"message_type": "VOICE", "from_user_id": "u1"}, account="brand") is None
    assert adapter.to_inbound({"message_type": "TEXT", "content": "hi"}, account="brand") is None


def test_platform_time_in_seconds_or_milliseconds():
    adapter = XiaohongshuAdapter()
    base = {"message_type": "TEXT", "from_user_id": "u", "content": "x"}
    in_ms = adapter.to_inbound({**base, "timestamp": 1_700_000_000_123}, account="a")
    in_s = adapter.to_inbound({**base, "timestamp": 1_700_000_000}, account="a")
    assert in_ms.platform_ts.year == in_s.platform_ts.year == 2023


def test_a_shop_renames_fields_and_paths_in_config():
    config = XiaohongshuConfig(
        plugin="xiaohongshu", account="brand", token="t", encoding_aes_key=AES_KEY, app_key="k",
        app_secret="s", adapter={"user_id_field": "sender.open_id", "message_type_field": "type",
                                 "text_types": ["1"], "send_path": "/v2/im/send"},
    )
    adapter = config.adapter
    inbound = adapter.to_inbound({"type": "1", "sender": {"open_id": "o-9"}, "content": "在吗",
                                  "message_id": "m"}, account="brand")
    assert (inbound.user_id, inbound.text) == ("o-9", "在吗")
    assert adapter.send_path == "/v2/im/send"


@pytest.mark.parametrize("bad", [{"adapter": {"no_such_field": "x"}}, {"encoding_aes_key": "short"}])
def test_config_mistakes_are_refused(bad):
    values = {"plugin": "xiaohongshu", "account": "b", "token": "t", "encoding_aes_key": AES_KEY,
              "app_key": "k", "app_secret": "s", **bad}
    with pytest.raises(ValidationError):
        XiaohongshuConfig(**values)


def test_order_update_needs_a_customer_and_an_order():
    adapter = XiaohongshuAdapter()
    assert adapter.order_update({"msg_tag": "msg_after_sale_create", "data": {"order_id": "P1"}}) is None
    update = adapter.order_update({"msg_tag": "msg_order_create", "data": {"order_id": "P1", "user_id": "u"}})
    assert update == {"event": "msg_order_create", "user_id": "u", "order_id": "P1", "after_sale_id": "",
                      "status": ""}


@pytest.mark.parametrize("answer, error", [
    ({"success": True, "code": 0}, None),
    ({"code": 0}, None),
    ({"success": False, "code": -1002, "msg": "sign"}, ("-1002", "sign")),
    ([], ("bad_answer", "answer is not a JSON object")),
])
def test_answer_errors(answer, error):
    assert XiaohongshuAdapter().answer_error(answer) == error
