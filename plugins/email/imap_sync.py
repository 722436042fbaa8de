"""IMAP inbound: fetch new mail by UID, hand it over, advance only after it is stored; IDLE or poll."""

from __future__ import annotations

import asyncio
import random
import re
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aioimaplib
import structlog

from csgw.plugins.email.imap_names import encode_mailbox
from csgw.plugins.email.state import AccountState

MAX_IDLE_SECONDS = 29 * 60  # RFC 2177: servers may drop an IDLE after 30 minutes
_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_UIDNEXT = re.compile(rb"\[UIDNEXT (\d+)\]")
_FETCH_UID = re.compile(rb"\bUID (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')


class ImapAuthError(Exception):
    """Login refused or mailbox missing: configuration, not the network."""


class ImapUnavailable(Exception):
    """The server cannot be reached or dropped the connection."""


@dataclass(frozen=True, slots=True)
class ImapSettings:
    host: str
    port: int
    ssl: bool
    user: str
    password: str
    mailbox: str = "INBOX"
    timeout: float = 30.0
    idle_seconds: float = 25 * 60
    poll_seconds: float = 60.0
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    use_idle: bool = True  # False forces polling, as for servers without IDLE
    first_sync_days: int = 2  # a new or reset mailbox: mail older than this is history, not work


@dataclass(frozen=True, slots=True)
class FetchedMail:
    uid: int
    uidvalidity: int
    raw: bytes
    internal_date: datetime | None


Deliver = Callable[[FetchedMail], Awaitable[None]]


class ImapInbound:
    """Keeps one IMAP connection per account; `deliver` must return only once the mail is durable."""

    def __init__(
        self, settings: ImapSettings, state: AccountState, deliver: Deliver, log: Any = None
    ) -> None:
        self.settings = settings
        self.state = state
        self.deliver = deliver
        self.log = log or structlog.get_logger(__name__)
        self.connected = False
        self.mode: str | None = None  # idle or poll
        self.newest_mail_at: datetime | None = None
        self.last_sync_at: float | None = None
        self.reconnects = 0
        self._ever_connected = False
        self.on_connection_change: Callable[[bool, str | None], None] | None = None
        self._client: aioimaplib.IMAP4 | None = None
        self._lost = asyncio.Event()
        self._uidvalidity: int | None = None
        self._uidnext: int | None = None
        self._key = f"imap:{settings.mailbox}"

    # --- connection -------------------------------------------------------------------------

    async def connect(self) -> None:
        """Log in and select the mailbox; ImapAuthError or ImapUnavailable when that fails."""
        await self.close()
        self._lost = asyncio.Event()
        context = ssl.create_default_context() if self.settings.ssl else None
        client = aioimaplib.IMAP4(
            host=self.settings.host,
            port=self.settings.port,
            timeout=self.settings.timeout,
            conn_lost_cb=lambda exc: self._lost.set(),
            ssl_context=context,
        )
        try:
            await client.wait_hello_from_server()
            response = await client.login(self.settings.user, self.settings.password)
            if response.result != "OK":
                raise ImapAuthError(
                    f"IMAP login refused for {self.settings.user}: {_text(response)}"
                )
            response = await client.select(encode_mailbox(self.settings.mailbox))
            if response.result != "OK":
                raise ImapAuthError(
                    f"cannot open mailbox {self.settings.mailbox!r}: {_text(response)}"
                )
        except (OSError, TimeoutError, aioimaplib.AioImapException) as exc:
            _drop(client)
            raise ImapUnavailable(
                f"IMAP {self.settings.host}:{self.settings.port}: {exc!r}"
            ) from exc
        except ImapAuthError:
            _drop(client)
            raise
        self._client = client
        self._uidvalidity = _first_int(_UIDVALIDITY, response.lines)
        self._uidnext = _first_int(_UIDNEXT, response.lines)
        if self._ever_connected:
            self.reconnects += 1
        self._ever_connected = True
        self.mode = "idle" if self.settings.use_idle and client.has_capability("IDLE") else "poll"
        self._set_connected(True, None)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        if self.connected:
            self._set_connected(False, None)
        try:
            if client.has_pending_idle():
                client.idle_done()
            await asyncio.wait_for(client.logout(), 2)
        except Exception:  # noqa: BLE001 - a connection being dropped may fail in any way
            pass
        _drop(client)

    def _set_connected(self, connected: bool, error: str | None) -> None:
        self.connected = connected
        if self.on_connection_change:
            self.on_connection_change(connected, error)

    # --- sync ---------------------------------------------------------------------------------

    async def sync(self) -> int:
        """Deliver every mail newer than the stored UID; returns how many were handed over."""
        client = self._require_client()
        if self._uidvalidity is None:
            raise ImapUnavailable("server sent no UIDVALIDITY")
        stored = await self.state.get(f"{self._key}:uidvalidity")
        if stored != str(self._uidvalidity):
            await self._resync(client, stored)
        last_uid = int(await self.state.get(f"{self._key}:last_uid") or 0)
        response = await self._call(client.uid_search("UID", f"{last_uid + 1}:*", charset=None))
        _check(response, "UID SEARCH")
        # `n:*` always matches the highest UID, even when it is below n.
        uids = sorted(uid for uid in _numbers(response) if uid > last_uid)
        for uid in uids:
            mail = await self._fetch(client, uid)
            if mail is not None:
                await self.deliver(mail)
                await self._remember_newest(mail.internal_date)
            await self.state.set(f"{self._key}:last_uid", str(uid))
            if mail is not None:
                # Only now is it ours: a failed deliver leaves the mail unread for the next try.
                await self._call(client.uid("store", str(uid), r"+FLAGS.SILENT (\Seen)"))
        self.last_sync_at = time.time()
        return len(uids)

    async def _resync(self, client: aioimaplib.IMAP4, stored: str | None) -> None:
        """New mailbox or UIDVALIDITY changed: old UIDs mean nothing, start from recent mail."""
        since = datetime.now().astimezone() - timedelta(days=self.settings.first_sync_days)
        newest = await self.state.get(f"{self._key}:newest_date")
        if stored is not None and newest:
            since = datetime.fromisoformat(newest) - timedelta(days=1)
        response = await self._call(
            client.uid_search("SINCE", since.strftime("%d-%b-%Y"), charset=None)
        )
        _check(response, "UID SEARCH SINCE")
        uids = _numbers(response)
        start = min(uids) - 1 if uids else max((self._uidnext or 1) - 1, 0)
        self.log.info(
            "email.imap.resync",
            old_uidvalidity=stored,
            uidvalidity=self._uidvalidity,
            from_uid=start + 1,
        )
        # last_uid first: a crash between the writes only repeats the resync (deliver dedupes).
        await self.state.set(f"{self._key}:last_uid", str(start))
        await self.state.set(f"{self._key}:uidvalidity", str(self._uidvalidity))

    async def _fetch(self, client: aioimaplib.IMAP4, uid: int) -> FetchedMail | None:
        response = await self._call(client.uid("fetch", str(uid), "(UID INTERNALDATE BODY.PEEK[])"))
        _check(response, "UID FETCH")
        lines = response.lines
        for index, line in enumerate(lines[:-1]):
            if isinstance(line, bytes) and b"FETCH" in line and index + 1 < len(lines):
                uid_match = _FETCH_UID.search(line)
                if uid_match and int(uid_match.group(1)) != uid:
                    continue
                date_match = _INTERNALDATE.search(line)
                return FetchedMail(
                    uid=uid,
                    uidvalidity=self._uidvalidity or 0,
                    raw=bytes(lines[index + 1]),
                    internal_date=_internal_date(date_match.group(1)) if date_match else None,
                )
        return None  # expunged between SEARCH and FETCH

    async def _remember_newest(self, when: datetime | None) -> None:
        if when is None or (self.newest_mail_at and when <= self.newest_mail_at):
            return
        self.newest_mail_at = when
        await self.state.set(f"{self._key}:newest_date", when.isoformat())

    # --- waiting for mail -----------------------------------------------------------------------

    async def wait_for_change(self) -> None:
        """Return when the mailbox may have changed: an IDLE push, the IDLE renewal, or a poll tick."""
        client = self._require_client()
        if self.mode == "idle":
            idle_seconds = min(self.settings.idle_seconds, MAX_IDLE_SECONDS)
            idle = await self._call(client.idle_start(timeout=idle_seconds))
            await self._call(
                client.wait_server_push(idle_seconds), idle_seconds + self.settings.timeout
            )
            if self._lost.is_set():
                raise ImapUnavailable("IMAP connection lost")
            if client.has_pending_idle():
                client.idle_done()
            await self._call(idle)
        else:
            await self._call(
                asyncio.sleep(self.settings.poll_seconds), self.settings.poll_seconds + 1
            )
            _check(await self._call(client.noop()), "NOOP")

    async def _call(self, awaitable: Awaitable[Any], timeout: float | None = None) -> Any:
        """Await an IMAP command, but give up at once when the connection drops (aioimaplib
        leaves pending commands waiting forever then) and after `timeout` seconds."""
        waiter = asyncio.ensure_future(awaitable)
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            done, _ = await asyncio.wait(
                {waiter, lost},
                timeout=timeout or self.settings.timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for task in (waiter, lost):
                task.cancel()
        if waiter in done:
            return waiter.result()
        if self._lost.is_set():
            raise ImapUnavailable("IMAP connection lost")
        raise ImapUnavailable("IMAP server did not answer in time")

    # --- the loop -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Sync and wait forever, reconnecting with capped, jittered back-off."""
        failures = 0
        while True:
            try:
                if self._client is None or self._lost.is_set():
                    await self.connect()
                await self.sync()
                failures = 0
                await self.wait_for_change()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - anything here means: drop, wait, reconnect
                failures += 1
                self.log.warning("email.imap.error", error=repr(exc), failures=failures)
                await self.close()
                self._set_connected(False, repr(exc))
                await asyncio.sleep(self.backoff(failures))

    def backoff(self, failures: int) -> float:
        ceiling = min(
            self.settings.backoff_cap, self.settings.backoff_base * 2 ** min(failures - 1, 30)
        )
        return ceiling * random.uniform(0.5, 1.0)

    def health(self) -> dict[str, Any]:
        now = time.time()
        return {
            "imap_connected": self.connected,
            "imap_mode": self.mode,
            "mailbox": self.settings.mailbox,
            "uidvalidity": self._uidvalidity,
            "newest_mail_age_seconds": (now - self.newest_mail_at.timestamp())
            if self.newest_mail_at
            else None,
            "last_sync_age_seconds": (now - self.last_sync_at) if self.last_sync_at else None,
        }

    def _require_client(self) -> aioimaplib.IMAP4:
        if self._client is None:
            raise ImapUnavailable("not connected")
        return self._client


def _drop(client: aioimaplib.IMAP4) -> None:
    transport = getattr(client.protocol, "transport", None)
    if transport is not None:
        transport.close()


def _text(response: Any) -> str:
    return " ".join(
        line.decode(errors="replace") for line in response.lines if isinstance(line, bytes)
    )


def _check(response: Any, what: str) -> None:
    if response.result != "OK":
        raise ImapUnavailable(f"{what} failed: {_text(response)}")


def _numbers(response: Any) -> list[int]:
    found: list[int] = []
    for line in response.lines[:-1]:
        tokens = line.split() if isinstance(line, bytes) else []
        if tokens and tokens[0].upper() == b"SEARCH":
            tokens = tokens[1:]
        # Untagged EXISTS/EXPUNGE lines can arrive mid-command; only all-number lines are results.
        if tokens and all(token.isdigit() for token in tokens):
            found.extend(int(token) for token in tokens)
    return found


def _first_int(pattern: re.Pattern[bytes], lines: list[Any]) -> int | None:
    for line in lines:
        if isinstance(line, bytes):
            match = pattern.search(line)
            if match:
                return int(match.group(1))
    return None


def _internal_date(value: bytes) -> datetime | None:
    try:
        return datetime.strptime(value.decode().strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None
