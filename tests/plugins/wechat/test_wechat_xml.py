"""Push parsing (hostile input included), normalisation, and passive reply XML."""

from __future__ import annotations

import pytest
from defusedxml.ElementTree import fromstring

from csgw.plugins.wechat.xml import (
    PushRefused,
    build_encrypted_envelope,
    build_reply,
    parse_push,
    to_inbound,
)


def push(msg_type: str, extra: str, create: str = "1700000000") -> bytes:
    return (
        "<xml><ToUserName><![CDATA[gh_acct]]></ToUserName><FromUserName><![CDATA[openid-1]]></FromUserName>"
        f"<CreateTime>{create}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{extra}</xml>"
    ).encode()


def normalise(body: bytes):
    return to_inbound(parse_push(body), channel="wechat_oa", account="main")


def test_text_message():
    m = normalise(push("text", "<Content><![CDATA[你好]]></Content><MsgId>1234567890123456</MsgId>"))
    assert (m.kind, m.text, m.user_id, m.external_id) == ("text", "你好", "openid-1", "1234567890123456")
    assert m.platform_ts is not None and int(m.platform_ts.timestamp()) == 1700000000
    assert m.payload["to_user"] == "gh_acct"


def test_image_voice_video_location_link():
    image = normalise(push("image", "<PicUrl>http://p/x.jpg</PicUrl><MediaId>m1</MediaId><MsgId>2</MsgId>"))
    assert (image.kind, image.payload["PicUrl"], image.payload["MediaId"]) == ("image", "http://p/x.jpg", "m1")
    voice = normalise(push("voice", "<MediaId>v</MediaId><Format>amr</Format><Recognition>查订单</Recognition><MsgId>3</MsgId>"))
    assert (voice.kind, voice.text, voice.payload["Format"]) == ("voice", "查订单", "amr")
    video = normalise(push("shortvideo", "<MediaId>v</MediaId><ThumbMediaId>t</ThumbMediaId><MsgId>4</MsgId>"))
    assert (video.kind, video.payload["msg_type"], video.payload["ThumbMediaId"]) == ("video", "shortvideo", "t")
    loc = normalise(push("location", "<Location_X>23.1</Location_X><Location_Y>113.3</Location_Y><Scale>20</Scale><Label>广州塔</Label><MsgId>5</MsgId>"))
    assert (loc.kind, loc.text, loc.payload["Location_X"]) == ("location", "广州塔", "23.1")
    link = normalise(push("link", "<Title>T</Title><Description>D</Description><Url>http://u</Url><MsgId>6</MsgId>"))
    assert (link.kind, link.text, link.payload["Description"]) == ("link", "T http://u", "D")


@pytest.mark.parametrize(
    "event, extra, expected, key",
    [
        ("subscribe", "<EventKey><![CDATA[qrscene_123]]></EventKey>", "subscribe", "subscribe"),
        ("unsubscribe", "", "unsubscribe", "unsubscribe"),
        # a click's key too: two buttons tapped within one second are two clicks
        ("CLICK", "<EventKey>MENU_HELP</EventKey>", "CLICK", "CLICK:MENU_HELP"),
        ("SCAN", "<EventKey>123</EventKey><Ticket>t</Ticket>", "SCAN", "SCAN"),
        ("VIEW", "<EventKey>http://x</EventKey>", "VIEW", "VIEW"),
        ("LOCATION", "<Latitude>23</Latitude><Longitude>113</Longitude><Precision>1</Precision>", "LOCATION",
         "LOCATION"),
    ],
)
def test_events_are_keyed_by_sender_create_time_and_event(event, extra, expected, key):
    m = normalise(push("event", f"<Event><![CDATA[{event}]]></Event>{extra}", create="1700000123"))
    assert (m.kind, m.payload["event"], m.external_id) == ("event", expected, f"openid-1:1700000123:{key}")
    if event == "subscribe":
        assert m.payload["scene"] == "123"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<xml><Content>&lol2;</Content></xml>"""
EXTERNAL = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Content>&e;</Content></xml>"""
DTD_ONLY = b"""<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://evil/x.dtd"><xml><Content>a</Content></xml>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL, DTD_ONLY, b"<xml><unclosed></xml>", b"{not json"])
def test_hostile_or_broken_bodies_are_refused_with_400(body):
    with pytest.raises(PushRefused) as info:
        parse_push(body)
    assert info.value.status == 400


def test_oversize_body_is_refused_with_413():
    with pytest.raises(PushRefused) as info:
        parse_push(b"<xml><Content>" + b"a" * 70000 + b"</Content></xml>")
    assert info.value.status == 413


def test_json_push_has_the_same_fields():
    m = normalise(b'{"ToUserName":"gh","FromUserName":"o1","CreateTime":1700000000,"MsgType":"text","Content":"hi","MsgId":77}')
    assert (m.text, m.external_id, m.user_id) == ("hi", "77", "o1")


def test_passive_text_reply_escapes_cdata_terminator():
    xml = build_reply(to_user="o1", from_user="gh", create_time=1700000000, text="a]]>b <c>")
    root = fromstring(xml)
    assert root.findtext("Content") == "a]]>b <c>"
    assert [root.findtext(k) for k in ("ToUserName", "FromUserName", "CreateTime", "MsgType")] == [
        "o1", "gh", "1700000000", "text"]


def test_passive_image_reply_and_envelope():
    root = fromstring(build_reply(to_user="o1", from_user="gh", create_time=1, image_media_id="MID"))
    assert (root.findtext("MsgType"), root.findtext("Image/MediaId")) == ("image", "MID")
    env = fromstring(build_encrypted_envelope(encrypted="E==", signature="S", timestamp="12", nonce="N"))
    assert [env.findtext(k) for k in ("Encrypt", "MsgSignature", "TimeStamp", "Nonce")] == ["E==", "S", "12", "N"]
    with pytest.raises(ValueError):
        build_reply(to_user="o", from_user="g", create_time=1)


async def test_a_nonce_admits_its_own_body_again_and_no_other_until_it_ages_out():
    from csgw.gateway.shared_limits import MemoryLimits
    from csgw.gateway.webhook_requests import NonceGuard

    clock = [0.0]
    limits = MemoryLimits(capacity=3, clock=lambda: clock[0])
    nonces = NonceGuard(limits, "wechat_oa:shop", window=300)
    assert await nonces.admits("1700000000", "n1", b"<xml>a</xml>")
    clock[0] = 5
    assert await nonces.admits("1700000000", "n1", b"<xml>a</xml>")  # a retry
    clock[0] = 6
    assert not await nonces.admits("1700000000", "n1", b"<xml>b</xml>")  # a replay, new body
    assert await NonceGuard(limits, "wechat_oa:other", window=300).admits("1700000000", "n1", b"<xml>b</xml>")
    clock[0] = 700
    assert await nonces.admits("1700000000", "n1", b"<xml>b</xml>")  # aged out (stale anyway)
    for number in range(5):  # bounded: the oldest go first
        assert await nonces.admits("1700000001", f"m{number}", b"x")
    assert len(limits._values) <= 3
