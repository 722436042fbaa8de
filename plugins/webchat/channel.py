"""The site chat widget channel: one WebSocket per visitor tab, replies pushed live."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import WSMsgType, web

from csgw.gateway.channel import Channel
from csgw.gateway.clock import now
from csgw.gateway.limits import IP_LIMITS
from csgw.gateway.messages import InboundMessage, OutboundMessage
from csgw.gateway.models import CUSTOMER_DIRECTIONS, Agent, Conversation, CustomerIdentity, Message
from csgw.gateway.off_hours import DESK_CLOSED
from csgw.gateway.ratings import NOT_ASKED
from csgw.gateway.storage.unavailable import STORE_UNAVAILABLE
from csgw.plugins.webchat.config import WebchatConfig
from csgw.plugins.webchat.frames import (
    FrameError,
    LeftMessage,
    Resume,
    Survey,
    Typing,
    VisitorMessage,
    parse_frame,
)
from csgw.plugins.webchat.identity import VISITOR_ID, signature_valid
from csgw.plugins.webchat.leave_message import left_message_payload, offer_again
from csgw.plugins.webchat.site import site_view

if TYPE_CHECKING:
    from csgw.gateway.ports import ChannelHost

STATIC = Path(__file__).parent / "static"
RESUME_LIMIT = 500


def message_frame(message: Message | OutboundMessage, created_at: Any = None) -> dict[str, Any]:
    payload = message.payload or {}
    if isinstance(message, Message):
        ident, sender, stamp = message.id, message.sender, message.created_at
    else:
        ident, sender, stamp = message.message_id, message.sender, created_at
    frame: dict[str, Any] = {"type": "message", "id": ident, "from": sender, "text": message.text,
                             "ts": stamp.isoformat() if stamp else None}
    if payload.get("agent_name"):
        frame["agent_name"] = payload["agent_name"]
    if payload.get("choices"):
        frame["choices"] = payload["choices"]
    image = (payload.get("image") or next(iter(payload.get("images") or ()), None)
             or (payload.get("url") if getattr(message, "kind", "text") == "image" else None))
    if image:
        frame["image"] = image
    if payload.get("links"):
        frame["links"] = payload["links"]
    return frame


FRAMES_TOPIC = "webchat.frames"


class WebchatChannel(Channel):
    plugin: ClassVar[str] = "webchat"
    Config = WebchatConfig
    config: WebchatConfig

    def __init__(self, config: WebchatConfig, services: ChannelHost) -> None:
        super().__init__(config, services)
        self.sockets: dict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self._watcher: asyncio.Task[None] | None = None
        # The visitor's socket may be on another instance: frames go to all, the holder writes them.
        services.bus.subscribe(FRAMES_TOPIC, self._frames_arrived)

    @classmethod
    def app_routes(cls, services: ChannelHost) -> list[web.AbstractRouteDef]:
        async def socket(request: web.Request) -> web.StreamResponse:
            channel = services.channel(cls.plugin, request.query.get("site", ""))
            if not isinstance(channel, cls):  # None: no such site
                services.log.info("widget socket for unknown site", site=request.query.get("site"))
                raise web.HTTPNotFound(text="unknown site")
            return await channel.visitor_socket(request)

        async def script(request: web.Request) -> web.StreamResponse:
            return _static(STATIC / "widget.js", "application/javascript")

        async def demo(request: web.Request) -> web.StreamResponse:
            return _static(STATIC / "demo.html", "text/html")

        async def asset(request: web.Request) -> web.StreamResponse:
            name = request.match_info["name"]
            if "/" in name or name.startswith("."):
                raise web.HTTPNotFound()
            return _static(STATIC / name, None)

        return [web.get("/widget/ws", socket), web.get("/widget/widget.js", script),
                web.get("/widget/demo", demo), web.get("/widget/static/{name}", asset)]

    async def start(self) -> None:
        self._watcher = asyncio.create_task(self._watch_conversations())

    async def stop(self) -> None:
        if self._watcher:
            self._watcher.cancel()
        await self.close_connections()

    async def close_connections(self) -> None:
        for sockets in list(self.sockets.values()):
            for socket in list(sockets):
                await socket.close(code=1001, message=b"server shutting down")

    def client_connections(self) -> int:
        return sum(len(sockets) for sockets in self.sockets.values())

    async def visitor_socket(self, request: web.Request) -> web.StreamResponse:
        visitor = request.query.get("visitor", "")
        if not VISITOR_ID.match(visitor):
            self.log.info("widget socket refused: bad visitor id")
            raise web.HTTPBadRequest(text="visitor is 8-64 letters, digits, _ or -")
        if self.config.identity_secret and not signature_valid(
                self.config.identity_secret, visitor, request.query.get("sig", "")):
            self.log.info("widget socket refused: bad identity signature", visitor=visitor)
            raise web.HTTPUnauthorized(text="identity signature does not match")
        origin = request.headers.get("Origin")
        if self.config.allowed_origins and origin not in self.config.allowed_origins:
            self.log.info("widget socket refused: origin not allowed", origin=origin)
            raise web.HTTPForbidden(text="origin not allowed")
        socket = web.WebSocketResponse(heartbeat=25, max_msg_size=64 * 1024)
        await socket.prepare(request)
        self.sockets[visitor].add(socket)
        log = self.log.bind(visitor=visitor)
        limits, ip = request.app[IP_LIMITS], request.app[IP_LIMITS].client_ip(request)
        try:
            await socket.send_json(await self._hello(visitor))
            async for raw in socket:
                if raw.type != WSMsgType.TEXT:
                    if raw.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                        break
                    await socket.send_json(FrameError("bad_frame", "frames are JSON text").frame())
                    continue
                try:
                    frame = parse_frame(raw.data, self.config.max_text_length)
                    if (isinstance(frame, VisitorMessage | Survey | LeftMessage)
                            and not await limits.admits("widget_messages", ip)):
                        raise FrameError("rate_limited", "too many messages, please slow down")
                    await self._handle(socket, visitor, frame)
                except FrameError as error:
                    log.info("widget frame refused", code=error.code)
                    await socket.send_json(error.frame())
        except ConnectionResetError:
            pass
        finally:
            self.sockets[visitor].discard(socket)
            if not self.sockets[visitor]:
                del self.sockets[visitor]
        return socket

    async def _handle(self, socket: web.WebSocketResponse, visitor: str, frame: Any) -> None:
        if isinstance(frame, VisitorMessage):
            await self._store(socket, visitor, frame.client_id, frame.text)
        elif isinstance(frame, LeftMessage):
            await self._store(socket, visitor, frame.client_id, frame.text, left_message_payload(frame),
                              {"name": frame.name} if frame.name else {})
            await socket.send_json({"type": "message_left", "client_id": frame.client_id})
        elif isinstance(frame, Resume):
            history = await self._history(visitor, frame.after)
            for message in history:
                await socket.send_json(message_frame(message))
            if any(DESK_CLOSED in (message.payload or {}) for message in history):  # a reload after hours
                offer = offer_again(history, await self._latest_conversation(visitor), now())
                if offer is not None:
                    await socket.send_json(offer)
        elif isinstance(frame, Typing):
            conversation = await self._latest_conversation(visitor)
            if conversation is not None:
                self.services.events.publish("conversation.typing", {"conversation_id": conversation.id,
                                                                     "from": "customer"})
        elif isinstance(frame, Survey):
            await self._check_rate(visitor)  # each rating is announced (and may go to the shop's webhooks)
            conversation = await self._rated_conversation(visitor)
            if conversation is None:
                raise FrameError("no_conversation", "nothing to rate: no conversation of yours was closed asking for it")
            await self.services.rate(conversation.id, frame.score, frame.comment)
            await socket.send_json({"type": "survey_thanks", "comment": frame.comment is not None})

    async def _store(self, socket: web.WebSocketResponse, visitor: str, client_id: str, text: str,
                     payload: dict[str, Any] | None = None, profile: dict[str, Any] | None = None) -> None:
        """A visitor's message stored (once per client id) and acknowledged."""
        await self._check_rate(visitor)
        verified = {"verified_shop_user_id": visitor} if self.config.identity_secret else {}
        try:
            accepted = await self.services.accept(InboundMessage(
                channel=self.plugin, account=self.account, user_id=visitor, text=text,
                external_id=f"{visitor}:{client_id}", payload=payload or {}, profile={**(profile or {}), **verified},
            ))
        except STORE_UNAVAILABLE:
            # no ack: the widget keeps the message pending and sends it again on reconnect
            raise FrameError("unavailable", "the message could not be saved, please send it again") from None
        await socket.send_json({"type": "ack", "client_id": client_id, "id": accepted.message_id,
                                "conversation_id": accepted.conversation_id})

    async def _check_rate(self, visitor: str) -> None:
        # Counted for the cluster: a visitor with tabs on two instances has one allowance.
        grant = await self.services.limits.take(f"widget:{self.account}:{visitor}",
                                                limit=self.config.messages_per_minute, per_seconds=60)
        if not grant.taken:
            raise FrameError("rate_limited", "too many messages, please slow down")

    async def send(self, message: OutboundMessage) -> None:
        # A visitor who is not connected (anywhere) gets the message on `resume`; delivery is the
        # store. Built from what the outbox hands over: no read-back per message.
        frames = [message_frame(message, now())]
        payload = message.payload or {}
        if payload.get("survey"):
            frames.append({"type": "survey"})
        if isinstance(payload.get(DESK_CLOSED), dict):  # after hours: the widget offers its form
            frames.append({"type": "desk_closed", "opens_at": payload[DESK_CLOSED].get("opens_at")})
        await self._broadcast(message.user_id, frames)

    async def typing(self, user_id: str, on: bool) -> None:
        await self._broadcast(user_id, [{"type": "typing", "from": "agent", "on": on}])

    async def _broadcast(self, visitor: str, frames: list[dict[str, Any]]) -> None:
        await self.services.bus.publish(FRAMES_TOPIC, {"account": self.account, "visitor": visitor, "frames": frames})

    async def _frames_arrived(self, data: dict[str, Any]) -> None:
        if data.get("account") != self.account or data.get("visitor") not in self.sockets:
            return
        for frame in data.get("frames", ()):
            await self._push(data["visitor"], frame)

    async def _push(self, visitor: str, frame: dict[str, Any]) -> None:
        for socket in list(self.sockets.get(visitor, ())):
            try:
                await socket.send_json(frame)
            except (ConnectionResetError, RuntimeError):
                self.sockets[visitor].discard(socket)

    async def _customer_id(self, visitor: str) -> int | None:
        identity = await CustomerIdentity.get_or_none(channel=self.plugin, account=self.account,
                                                      platform_user_id=visitor)
        return identity.customer_id if identity else None

    async def _latest_conversation(self, visitor: str, include_closed: bool = False) -> Conversation | None:
        customer_id = await self._customer_id(visitor)
        if customer_id is None:
            return None
        query = Conversation.filter(customer_id=customer_id, channel=self.plugin, account=self.account)
        if not include_closed:
            query = query.filter(state__not="closed")
        return await query.order_by("-id").first()

    async def _rated_conversation(self, visitor: str) -> Conversation | None:
        """What a survey rates: the visitor's latest conversation, if closed asking for a rating
        (not one they started since, nor one closed without serving them)."""
        conversation = await self._latest_conversation(visitor, include_closed=True)
        if conversation is None or conversation.state != "closed" or (conversation.flags or {}).get(NOT_ASKED):
            return None
        return conversation

    async def _history(self, visitor: str, after: int) -> list[Message]:
        customer_id = await self._customer_id(visitor)
        if customer_id is None:
            return []
        ids = await Conversation.filter(customer_id=customer_id, channel=self.plugin,
                                        account=self.account).values_list("id", flat=True)
        # Only what passed between the visitor and the shop: agents' notes never reach the widget.
        return await Message.filter(conversation_id__in=list(ids), id__gt=after,
                                    direction__in=CUSTOMER_DIRECTIONS).order_by("id").limit(RESUME_LIMIT)

    async def _hello(self, visitor: str) -> dict[str, Any]:
        conversation = await self._latest_conversation(visitor)
        return {"type": "hello", "conversation_id": conversation.id if conversation else None,
                "config": site_view(self.config, self.services, asking=conversation is not None)}

    async def _watch_conversations(self) -> None:
        """Tell visitors when a person joins their conversation."""
        async with self.services.events.subscribe() as events:
            while True:
                event = await events.get()
                data = event["data"]
                if (event["type"] != "conversation.updated" or data.get("channel") != self.plugin
                        or data.get("account") != self.account or data.get("state") != "assigned"
                        or data.get("change") not in (None, "taken", "transferred", "assigned")):
                    continue
                agent = await Agent.get_or_none(id=data.get("agent_id") or 0)
                if agent is None:
                    continue
                visitor = await self.services.platform_user_id(data["id"])
                await self._push(visitor, {"type": "agent_joined", "name": agent.display_name or agent.name})


def _static(path: Path, content_type: str | None) -> web.StreamResponse:
    if not path.is_file():
        raise web.HTTPNotFound(text="not found")
    response = web.FileResponse(path)
    if content_type:
        response.content_type = content_type
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
