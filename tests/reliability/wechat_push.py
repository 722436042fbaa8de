"""Plain-mode WeChat Official Account pushes, signed as the platform signs them."""

from __future__ import annotations

import hashlib
import secrets
import time

import aiohttp

TOKEN = "reliabilitytoken"
OA_CHANNEL = {"plugin": "wechat_oa", "account": "shop", "token": TOKEN, "app_id": "wxrel",
              "app_secret": "rel-app-secret", "api_base": "http://127.0.0.1:9"}


def signed_query(token: str = TOKEN) -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), secrets.token_hex(8)  # one nonce per push, as WeChat
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


def text_push(openid: str, text: str, msg_id: int) -> bytes:
    return (f"<xml><ToUserName><![CDATA[gh_rel]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
            f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]>"
            f"</MsgType><Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>").encode()


async def push(session: aiohttp.ClientSession, base_url: str, openid: str, text: str, msg_id: int,
               account: str = "shop") -> int:
    """POST one push as WeChat would; the HTTP status it got."""
    async with session.post(f"{base_url}/webhooks/wechat_oa/{account}", params=signed_query(),
                            data=text_push(openid, text, msg_id),
                            headers={"Content-Type": "text/xml"}) as response:
        await response.read()
        return response.status
