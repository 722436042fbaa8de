"""Database models (tortoise-orm). Schema changes go through `gateway/storage/migrations.py`."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

# "note": an agents' internal note on the conversation; never sent, never shown to the customer.
MESSAGE_DIRECTIONS = ("in", "out", "note")
CUSTOMER_DIRECTIONS = ("in", "out")  # what passed between the customer and the shop
MESSAGE_SENDERS = ("customer", "bot", "agent", "system")
CONVERSATION_STATES = ("bot", "queued", "assigned", "closed")
LISTED_STATES = (*CONVERSATION_STATES, "open")  # what a list of conversations filters on; open: not closed
AGENT_ROLES = ("agent", "supervisor")
AGENT_STATUSES = ("online", "away", "offline")
TAG_SOURCES = ("agent", "reply", "classifier")


class SchemaVersion(Model):
    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.IntField(primary_key=True)
    version = fields.IntField()
    applied_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "csgw_schema_version"


class ChannelAccount(Model):
    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.IntField(primary_key=True)
    plugin = fields.CharField(max_length=64)
    account = fields.CharField(max_length=128)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "channel_account"
        unique_together = (("plugin", "account"),)


class Agent(Model):
    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    display_name = fields.CharField(max_length=128, default="")
    skills = fields.JSONField[list[str]](default=list)  # skills and groups share one namespace of names
    max_concurrent = fields.IntField(default=5)
    status = fields.CharField(max_length=16, default="offline")
    token_hash = fields.CharField(max_length=64, null=True, unique=True)
    last_seen_at = fields.DatetimeField(null=True)
    last_assigned_at = fields.DatetimeField(null=True)
    # Set when the gateway (not the agent) made them away: their next API call brings them back.
    auto_away_since = fields.DatetimeField(null=True)
    # "agent": conversations assigned to them or queued in their groups, their own status and
    # display name; "supervisor": every conversation, transfers, agents' settings, the KB
    role = fields.CharField(max_length=16, default="agent")
    # The status the agent last chose themselves (online, away, offline; None: never chose): a
    # sign-in to the console restores away or offline, and otherwise goes online.
    chosen_status = fields.CharField(max_length=16, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "agent"


class AgentSession(Model):
    """A sign-in to the console, beside the agent's API token: an agent has any number, each
    ended on its own (sign-out) or all at once (a new API token). Only the token's SHA-256 is kept."""

    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.IntField(primary_key=True)
    agent_id = fields.IntField(db_index=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    via = fields.CharField(max_length=16)  # how the agent signed in: "link" or "token"
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)  # moved on while the session is used

    class Meta:
        table = "agent_session"


class LoginCode(Model):
    """The code of a one-time login link (only its SHA-256): the store lets it be used once, before
    `expires_at` (`gateway/sessions.py`)."""

    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.IntField(primary_key=True)
    agent_id = fields.IntField()
    code_hash = fields.CharField(max_length=64, unique=True)
    created_by = fields.IntField(null=True)  # the supervisor who made it; None: `csgw agents login-link`
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "login_code"


class Customer(Model):
    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=128, default="")
    tags = fields.JSONField[list[str]](default=list)
    vip = fields.BooleanField(default=False)
    exclusive_agent_id = fields.IntField(null=True)
    state = fields.CharField(max_length=16, default="presale")  # presale, ordered, aftersale
    notes = fields.TextField(default="")
    orders = fields.JSONField[list[dict[str, Any]]](default=list)
    shop_user_id = fields.CharField(max_length=128, null=True, unique=True)  # the shop's own account id
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "customer"


class CustomerIdentity(Model):
    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.IntField(primary_key=True)
    customer_id = fields.IntField(db_index=True)
    channel = fields.CharField(max_length=64)
    account = fields.CharField(max_length=128)
    platform_user_id = fields.CharField(max_length=255)
    profile = fields.JSONField[dict[str, Any]](default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "customer_identity"
        unique_together = (("channel", "account", "platform_user_id"),)


class Conversation(Model):
    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.IntField(primary_key=True)
    customer_id = fields.IntField()
    channel = fields.CharField(max_length=64)
    account = fields.CharField(max_length=128)
    thread_key = fields.CharField(max_length=255, null=True)
    state = fields.CharField(max_length=16, default="bot")
    priority = fields.IntField(default=0)
    group = fields.CharField(max_length=64, null=True)
    agent_id = fields.IntField(null=True, db_index=True)
    bot_state = fields.JSONField[dict[str, Any]](default=dict)
    flags = fields.JSONField[dict[str, Any]](default=dict)
    satisfaction = fields.IntField(null=True)
    # the customer's words after the score (`gateway/ratings.py`), and when the score was given
    satisfaction_comment = fields.TextField(null=True)
    rated_at = fields.DatetimeField(null=True)
    opened_at = fields.DatetimeField()
    waiting_since = fields.DatetimeField(null=True)
    assigned_at = fields.DatetimeField(null=True)
    first_response_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    last_message_at = fields.DatetimeField()

    class Meta:
        table = "conversation"
        # The opened_at index (reports select by it) is made by migrations step 5 under its own
        # name, also on a fresh database: declared here, a later `generate_schemas` would add a twin.
        indexes = (("customer_id", "channel", "account", "state"), ("state", "group", "priority"), ("last_message_at",))


class Message(Model):
    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.BigIntField(primary_key=True)
    conversation_id = fields.IntField(db_index=True)
    channel = fields.CharField(max_length=64)
    account = fields.CharField(max_length=128)
    direction = fields.CharField(max_length=8)  # in, out, note (MESSAGE_DIRECTIONS)
    sender = fields.CharField(max_length=16)
    agent_id = fields.IntField(null=True)
    kind = fields.CharField(max_length=16, default="text")
    text = fields.TextField(default="")
    payload = fields.JSONField[dict[str, Any]](default=dict)
    external_id = fields.CharField(max_length=255, null=True)
    # Inbound: False until the pipeline has answered or routed it (crash recovery re-runs it).
    processed = fields.BooleanField(default=True)
    # Outbound: pending (in the outbox), sent, failed, inline (went in the platform's HTTP answer).
    delivery = fields.CharField(max_length=16, null=True)
    reply_to_id = fields.BigIntField(null=True)
    created_at = fields.DatetimeField()
    platform_ts = fields.DatetimeField(null=True)

    class Meta:
        table = "message"
        unique_together = (("channel", "account", "external_id"),)
        indexes = (("created_at",), ("processed", "direction"))


class ConversationTag(Model):
    """A label on a conversation: put by an agent, or by the bot (the KB category of a question it
    answered, the escalation lane a message fell in). One row per conversation and tag."""

    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.BigIntField(primary_key=True)
    conversation_id = fields.IntField()
    tag = fields.CharField(max_length=64)  # normalised by `gateway/tags.py`
    source = fields.CharField(max_length=16)  # agent, reply, classifier (TAG_SOURCES)
    agent_id = fields.IntField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "conversation_tag"
        unique_together = (("conversation_id", "tag"),)
        indexes = (("tag", "conversation_id"),)


class OutboxItem(Model):
    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.BigIntField(primary_key=True)
    message_id = fields.BigIntField(unique=True)
    channel = fields.CharField(max_length=64)
    account = fields.CharField(max_length=128)
    state = fields.CharField(max_length=16, default="pending")  # pending, sending, sent, failed
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    last_error = fields.TextField(null=True)
    claimed_by = fields.CharField(max_length=64, null=True)  # the instance sending it (PostgreSQL)
    claimed_until = fields.DatetimeField(null=True)  # its lease: after this, another instance may
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "outbox"
        indexes = (("state", "next_attempt_at"),)


class ChannelCursor(Model):
    """Small per-account state a channel must keep across restarts (sync cursors, last UID)."""

    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.IntField(primary_key=True)
    channel = fields.CharField(max_length=64)
    account = fields.CharField(max_length=128)
    key = fields.CharField(max_length=128)
    value = fields.TextField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "channel_cursor"
        unique_together = (("channel", "account", "key"),)


class BusSpill(Model):
    """A bus message too long for a PostgreSQL NOTIFY (8 kB): the notice carries this row's id."""

    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.BigIntField(primary_key=True)
    payload = fields.TextField()
    created_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "bus_spill"
