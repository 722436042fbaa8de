"""Hostile Xiaohongshu pushes (decrypted JSON) and API answers: read or ignored, never a crash."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from csgw.gateway.webhook_requests import PushRefused
from csgw.plugins.xiaohongshu.adapter import XiaohongshuAdapter, pick
from csgw.plugins.xiaohongshu.channel import _json_object
from tests.fuzz.strategies import FUZZ, json_values, objects

ADAPTER = XiaohongshuAdapter()
KEYS = ["message_id", "from_user_id", "from_user_nickname", "message_type", "timestamp", "content",
        "event", "msg_tag", "data", "success", "code", "msg"]
TYPES = ["TEXT", "IMAGE", "NOTE", "CARD", "ORDER", "EVENT", "text", "x"]
pushes = objects(KEYS) | st.builds(
    lambda kind, user, content, ts: {"message_type": kind, "from_user_id": user, "content": content,
                                     "timestamp": ts, "event": content},
    st.sampled_from(TYPES), st.text(max_size=10) | st.integers(), json_values,
    st.integers() | st.floats() | st.text(max_size=12))


@FUZZ
@given(pushes)
def test_pushes_are_read_or_ignored(push: dict) -> None:
    inbound = ADAPTER.to_inbound(push, account="shop")
    assert inbound is None or (inbound.user_id and isinstance(inbound.text, str))
    assert ADAPTER.is_order_push(push) in (True, False)
    update = ADAPTER.order_update(push)
    assert update is None or (update["user_id"] and update["order_id"])


@FUZZ
@given(json_values)
def test_api_answers_are_graded(answer) -> None:
    error = ADAPTER.answer_error(answer)
    assert error is None or all(isinstance(part, str) for part in error)


@FUZZ
@given(json_values, st.text(max_size=20))
def test_dotted_paths_never_raise(data, path: str) -> None:
    pick(data, path)


def test_a_digit_that_is_not_a_decimal_is_no_index() -> None:
    assert pick({"a": ["x", "y"]}, "a.1") == "y"
    assert pick({"a": ["x", "y"]}, "a.¹") is None  # str.isdigit() says yes, int() says no


@FUZZ
@given(st.binary(max_size=200) | st.sampled_from([b"[" * 100_000, b'{"a":' * 50_000]))
def test_push_bodies_are_objects_or_refused(raw: bytes) -> None:
    try:
        assert isinstance(_json_object(raw, "body"), dict)
    except PushRefused:
        pass
