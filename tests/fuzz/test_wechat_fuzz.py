"""Hostile WeChat push bodies and WeCom kf items: refused or normalised, never a crash."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from csgw.gateway.webhook_requests import PushRefused
from csgw.plugins.wechat.kf_messages import kf_event
from csgw.plugins.wechat.kf_messages import to_inbound as kf_to_inbound
from csgw.plugins.wechat.xml import parse_push, to_inbound
from tests.fuzz.strategies import FUZZ, json_values, objects

TAGS = ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Event", "EventKey",
        "PicUrl", "MediaId", "Recognition", "Location_X", "Location_Y", "Label", "Title", "Url", "Encrypt"]
MSG_TYPES = ["text", "image", "voice", "video", "shortvideo", "location", "link", "event", "TEXT", ""]
xml_text = st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=30)
values = xml_text | st.sampled_from(MSG_TYPES) | st.integers().map(str)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def xml_pushes(draw) -> bytes:
    fields = draw(st.dictionaries(st.sampled_from(TAGS), values, max_size=10))
    inner = "".join(f"<{tag}>{_escape(value)}</{tag}>" for tag, value in fields.items())
    if draw(st.booleans()):  # repeated and nested elements, as list-like pushes have
        tag = draw(st.sampled_from(TAGS))
        inner += f"<{tag}><item>{_escape(draw(xml_text))}</item><item/></{tag}>"
    return f"<xml>{inner}</xml>".encode()


def _parsed_or_refused(body: bytes) -> None:
    try:
        fields = parse_push(body)
    except PushRefused as refused:
        assert 400 <= refused.status < 500
        return
    inbound = to_inbound(fields, channel="wechat_oa", account="shop")
    assert isinstance(inbound.text, str) and isinstance(inbound.external_id, str)


@FUZZ
@given(xml_pushes())
def test_structured_pushes_normalise(body: bytes) -> None:
    _parsed_or_refused(body)


@FUZZ
@given(st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
def test_arbitrary_bodies_are_refused_cleanly(body: bytes) -> None:
    _parsed_or_refused(body)


@FUZZ
@given(objects(TAGS))
def test_json_pushes_normalise(fields: dict) -> None:
    _parsed_or_refused(json.dumps(fields).encode())


KF_KEYS = ["msgid", "open_kfid", "external_userid", "send_time", "origin", "servicer_userid", "msgtype",
           "text", "image", "location", "link", "miniprogram", "event"]


@FUZZ
@given(objects(KF_KEYS) | st.builds(lambda m, body, origin: {"msgtype": m, m: body, "origin": origin},
                                    st.sampled_from(["text", "location", "link", "miniprogram", "event"]),
                                    json_values, json_values))
def test_kf_items_normalise_or_are_skipped(item: dict) -> None:
    inbound = kf_to_inbound(item, channel="wecom_kf", account="kf")
    assert inbound is None or (isinstance(inbound.text, str) and isinstance(inbound.user_id, str))
    event = kf_event(item)
    assert event is None or isinstance(event, dict)


def test_deep_nesting_within_the_size_limit_is_refused() -> None:
    for body in (b'{"a":' * 10_000, b"<xml>" + b"<a>" * 5_000 + b"</a>" * 5_000 + b"</xml>"):
        _parsed_or_refused(body)
