"""Official Account customer-service API: send text/image/news, typing, media upload, user info."""

from __future__ import annotations

from typing import Any

import aiohttp

from csgw.plugins.wechat.client import ApiClient, to_send_error
from csgw.plugins.wechat.token import ApiError

# errcode -> (retryable, what the agent is told)
SEND_ERRORS: dict[int, tuple[bool, str]] = {
    45015: (False, "outside the 48-hour window: the customer has to write first"),
    45047: (False, "reply quota used up: the customer has to write again"),
    45009: (True, "API frequency limit reached"),
    -1: (True, "WeChat is busy"),
    45080: (False, "typing needs an interaction in the last 30 seconds"),
    43004: (False, "the customer has unfollowed the account"),
    40003: (False, "unknown OpenID for this account"),
}


class OfficialAccountApi:
    """The calls csgw needs; every failure surfaces as SendError with the platform's code."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client

    async def _send(self, body: dict[str, Any]) -> None:
        try:
            await self.client.call("/cgi-bin/message/custom/send", json=body)
        except ApiError as exc:
            raise to_send_error(exc, SEND_ERRORS) from exc

    async def send_text(self, openid: str, text: str) -> None:
        await self._send({"touser": openid, "msgtype": "text", "text": {"content": text}})

    async def send_image(self, openid: str, media_id: str) -> None:
        await self._send({"touser": openid, "msgtype": "image", "image": {"media_id": media_id}})

    async def send_news(
        self, openid: str, *, title: str, url: str, description: str = "", picurl: str = ""
    ) -> None:
        """A link card (custom-service `news` with one article)."""
        article = {"title": title, "description": description, "url": url, "picurl": picurl}
        await self._send({"touser": openid, "msgtype": "news", "news": {"articles": [article]}})

    async def typing(self, openid: str, on: bool = True) -> None:
        body = {"touser": openid, "command": "Typing" if on else "CancelTyping"}
        try:
            await self.client.call("/cgi-bin/message/custom/typing", json=body)
        except ApiError as exc:
            raise to_send_error(exc, SEND_ERRORS) from exc

    async def upload_media(self, kind: str, filename: str, data: bytes, content_type: str) -> str:
        """Temporary media (3 days) -> media_id, for image/voice/video sends."""

        def form() -> aiohttp.FormData:
            fd = aiohttp.FormData()
            fd.add_field("media", data, filename=filename, content_type=content_type)
            return fd

        try:
            answer = await self.client.call("/cgi-bin/media/upload", form=form, params={"type": kind})
        except ApiError as exc:
            raise to_send_error(exc, SEND_ERRORS) from exc
        return str(answer["media_id"])

    async def user_info(self, openid: str) -> dict[str, Any]:
        """The follower's profile (nickname only where the platform still returns it)."""
        return await self.client.call(
            "/cgi-bin/user/info", method="GET", params={"openid": openid, "lang": "zh_CN"}
        )
