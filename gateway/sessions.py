"""Console sign-ins: one-time login links, exchanged for sessions beside the agent's API token.

A link's code and a session's token are random, shown once and stored as SHA-256 only. A code
is used once: the conditional UPDATE that marks it used decides in the store which of two
exchanges wins, on one instance or several. A session lasts while it is used (`SESSION_IDLE`),
ends at sign-out, and all of an agent's end when the agent gets a new API token. Signing in
puts the agent online, unless the status they last chose was away or offline.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from csgw.gateway.clock import now
from csgw.gateway.models import Agent, AgentSession, LoginCode
from csgw.gateway.storage.plans import ExecuteMany, Insert, Plan, Select

TOKEN_PREFIX = "csgw_"  # an agent's API token
SESSION_PREFIX = "csgws_"  # a sign-in session's token: the prefix says which table to look in
SESSION_IDLE = timedelta(days=7)  # unused this long, a session ends
SESSION_REFRESH = timedelta(hours=1)  # how often using a session moves its end on (one write)
LINK_MINUTES = 15
MAX_LINK_MINUTES = 24 * 60
KEEP_SPENT_CODES = timedelta(days=1)  # a used or expired code is kept this long, to say why it is refused
SIGN_IN_KEEPS = ("away", "offline")  # chosen last, these outlast a sign-in


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A new API token for an agent."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return digest(token)


def new_session_token() -> str:
    return SESSION_PREFIX + secrets.token_urlsafe(32)


def new_code() -> str:
    return secrets.token_urlsafe(24)


def is_session_token(token: str) -> bool:
    return token.startswith(SESSION_PREFIX)


def console_link(base_url: str, code: str) -> str:
    """The login link to the console at `base_url` (e.g. http://127.0.0.1:8080). The code rides in
    the fragment, which browsers never send to a server or a proxy's log."""
    return f"{base_url.rstrip('/')}/console/#login={code}"


@dataclass(frozen=True, slots=True)
class LoginLink:
    code: str
    created_at: datetime
    expires_at: datetime


def new_login_link(minutes: float) -> LoginLink:
    """A fresh code, valid for `minutes` from now; `store_login_link` keeps its digest."""
    at = now()
    return LoginLink(new_code(), at, at + timedelta(minutes=minutes))


def store_login_link(agent_id: int, link: LoginLink, created_by: int | None) -> Plan[None]:
    yield ExecuteMany('DELETE FROM "login_code" WHERE "expires_at" <= ?', [[link.created_at - KEEP_SPENT_CODES]])
    yield Insert("login_code", ("agent_id", "code_hash", "created_by", "created_at", "expires_at", "used_at"),
                 [[agent_id, digest(link.code), created_by, link.created_at, link.expires_at, None]])


def redeem_code(code: str, session_token: str, at: datetime) -> Plan[int | None]:
    """Mark the code used and open a session for its agent, in one transaction: the agent's id,
    or None when the code is unknown, used or expired. Of two exchanges of one code at once the
    store lets one UPDATE match; the other finds it used."""
    code_hash = digest(code)
    rows = yield Select('UPDATE "login_code" SET "used_at" = ? WHERE "code_hash" = ? AND "used_at" IS NULL '
                        'AND "expires_at" > ? RETURNING "agent_id", "code_hash"', [at, code_hash, at])
    if not rows or not hmac.compare_digest(str(rows[0][1]), code_hash):
        return None
    agent_id = int(rows[0][0])
    yield from open_session(agent_id, session_token, "link", at)
    return agent_id


def open_session(agent_id: int, session_token: str, via: str, at: datetime) -> Plan[None]:
    yield ExecuteMany('DELETE FROM "agent_session" WHERE "expires_at" <= ?', [[at]])
    yield Insert("agent_session", ("agent_id", "token_hash", "via", "created_at", "expires_at"),
                 [[agent_id, digest(session_token), via, at, at + SESSION_IDLE]])


def end_session(session_id: int) -> Plan[None]:
    yield ExecuteMany('DELETE FROM "agent_session" WHERE "id" = ?', [[session_id]])


def end_sessions_of(agent_id: int) -> Plan[None]:
    """Every session of the agent ends (a new API token signs them out everywhere)."""
    yield ExecuteMany('DELETE FROM "agent_session" WHERE "agent_id" = ?', [[agent_id]])


def keep_session(session_id: int, at: datetime) -> Plan[None]:
    yield ExecuteMany('UPDATE "agent_session" SET "expires_at" = ? WHERE "id" = ?', [[at + SESSION_IDLE, session_id]])


async def why_refused(code: str, at: datetime) -> str:
    """Why a code was not taken, as an error code: bad_code, code_used or code_expired."""
    row = await LoginCode.get_or_none(code_hash=digest(code))
    if row is None:
        return "bad_code"
    return "code_used" if row.used_at is not None else "code_expired"


async def live_session(token: str) -> AgentSession | None:
    """The session the token opened, unless it has ended; looked up by digest, compared again in
    constant time."""
    token_hash = digest(token)
    session = await AgentSession.get_or_none(token_hash=token_hash)
    if session is None or not hmac.compare_digest(session.token_hash, token_hash) or session.expires_at <= now():
        return None
    return session


def needs_keeping(session: AgentSession, at: datetime) -> bool:
    """Whether to move the session's end on now (at most once per `SESSION_REFRESH`)."""
    return session.expires_at - at < SESSION_IDLE - SESSION_REFRESH


def status_at_sign_in(agent: Agent) -> str:
    """Online, unless the agent last chose away or offline."""
    return agent.chosen_status if agent.chosen_status in SIGN_IN_KEEPS else "online"
