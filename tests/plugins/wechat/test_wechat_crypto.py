"""Safe-mode crypto against wechatpy as an independent implementation, in both directions."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto

from csgw.gateway.channel import ChannelConfigError
from csgw.gateway.webhook_crypto import (
    DecryptError,
    MessageCrypto,
    SignatureError,
    sha1_signature,
    signature_matches,
)
from tests.plugins.wechat.keys import AES_KEY, OLD_AES_KEY


def _field(xml: str, name: str) -> str:
    match = re.search(rf"<{name}>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</{name}>", xml, re.S)
    assert match, xml
    return match.group(1)


def test_signature_matches_the_documented_example():
    assert sha1_signature("AAAAA", "1714036504", "1514711492") == "f464b24fc39322e44b38aa78f5edd27bd1441696"
    assert signature_matches("f464b24fc39322e44b38aa78f5edd27bd1441696", "1514711492", "AAAAA", "1714036504")
    assert not signature_matches("f464b24fc39322e44b38aa78f5edd27bd1441697", "AAAAA", "1714036504", "1514711492")
    assert not signature_matches(None, "AAAAA")


def test_wechatpy_encrypts_csgw_decrypts():
    peer = WeChatCrypto("tok", AES_KEY, "wx123")
    envelope = peer.encrypt_message("<xml><Content>你好 ]]&gt;</Content></xml>", "n0nce", "1700000000")
    ours = MessageCrypto("tok", AES_KEY, "wx123")
    plain = ours.verify_and_decrypt(_field(envelope, "MsgSignature"), "1700000000", "n0nce",
                                    _field(envelope, "Encrypt"))
    assert plain.text == "<xml><Content>你好 ]]&gt;</Content></xml>"


def test_csgw_encrypts_wechatpy_decrypts():
    ours = MessageCrypto("tok", AES_KEY, "wx123")
    encrypted = ours.encrypt("<xml><Content>回复</Content></xml>")
    signature = ours.sign("1700000001", "abc", encrypted)
    envelope = f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    peer = WeChatCrypto("tok", AES_KEY, "wx123")
    assert peer.decrypt_message(envelope, signature, "1700000001", "abc") == "<xml><Content>回复</Content></xml>"


def test_wecom_echostr_roundtrip_with_corp_id():
    ours = MessageCrypto("kftok", AES_KEY, "ww-corp")
    echostr = ours.encrypt("1234567890")
    peer = WeComCrypto("kftok", AES_KEY, "ww-corp")
    assert peer.check_signature(ours.sign("1", "n", echostr), "1", "n", echostr) == "1234567890"


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_any_message_length_roundtrips_with_wechatpy(text):
    peer = WeChatCrypto("tok", AES_KEY, "wx123")
    ours = MessageCrypto("tok", AES_KEY, "wx123")
    envelope = peer.encrypt_message(text, "n", "1")
    assert ours.decrypt(_field(envelope, "Encrypt")).text == text
    encrypted = ours.encrypt(text)
    assert peer.decrypt_message({"Encrypt": encrypted}, ours.sign("1", "n", encrypted), "1", "n") == text


def test_message_for_another_app_is_refused():
    encrypted = MessageCrypto("tok", AES_KEY, "wx-other").encrypt("<xml/>")
    with pytest.raises(DecryptError, match="another app"):
        MessageCrypto("tok", AES_KEY, "wx123").decrypt(encrypted)


def test_bad_msg_signature_is_refused():
    ours = MessageCrypto("tok", AES_KEY, "wx123")
    encrypted = ours.encrypt("<xml/>")
    with pytest.raises(SignatureError):
        ours.verify_and_decrypt("0" * 40, "1", "n", encrypted)


def test_previous_key_decrypts_during_rotation_and_reply_uses_it():
    peer_old = WeChatCrypto("tok", OLD_AES_KEY, "wx123")
    envelope = peer_old.encrypt_message("<xml>old</xml>", "n", "1")
    with pytest.raises(DecryptError):
        MessageCrypto("tok", AES_KEY, "wx123").decrypt(_field(envelope, "Encrypt"))
    rotated = MessageCrypto("tok", AES_KEY, "wx123", previous_encoding_aes_key=OLD_AES_KEY)
    plain = rotated.decrypt(_field(envelope, "Encrypt"))
    assert plain.text == "<xml>old</xml>"
    reply = rotated.encrypt("<xml>r</xml>", key=plain.key)
    assert peer_old.decrypt_message({"Encrypt": reply}, rotated.sign("1", "n", reply), "1", "n") == "<xml>r</xml>"


@pytest.mark.parametrize("key", ["short", AES_KEY + "A", "!" * 43])
def test_malformed_encoding_aes_key_is_a_config_error(key):
    with pytest.raises(ChannelConfigError):
        MessageCrypto("tok", key, "wx123")


@pytest.mark.parametrize("garbage", ["not base64!!", "", "QUJD"])
def test_garbage_ciphertext_is_a_decrypt_error(garbage):
    with pytest.raises(DecryptError):
        MessageCrypto("tok", AES_KEY, "wx123").decrypt(garbage)
