"""The incidents plugin's tables (its tortoise app, created at start through `csgw_models`).

A *topic* is one thing customers ask about (a KB entry, a cluster of unanswered questions, an
escalation lane); its row is also the lock that makes counting right with several instances:
every write about a topic first upserts its row, so PostgreSQL lets one transaction at a time
count that topic's askers. An *ask* is one customer's question about a topic; an *incident* is
a topic that drew enough distinct customers within its window, open until closed by hand or by
quiet; a *notice* is the broadcast sent once to one waiting conversation.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

MODULES = [__name__]
# The topic row locked before clusters of unanswered questions are looked up, so that two
# instances never start two clusters for one question at the same moment.
CLUSTER_LOCK = ("unanswered", "")


class IncidentTopic(Model):
    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=16)  # entry / unanswered / lane (`config.KINDS`)
    key = fields.CharField(max_length=200)  # entry id, the cluster's first question form, lane name
    last_asked_at = fields.DatetimeField()
    incident_id = fields.IntField(null=True)  # its open incident

    class Meta:
        table = "incident_topic"
        unique_together = (("kind", "key"),)
        indexes = (("kind", "last_asked_at"), ("incident_id",))


class IncidentAsk(Model):
    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.BigIntField(primary_key=True)
    topic_id = fields.IntField()
    incident_id = fields.IntField(null=True)  # the incident it was counted in
    customer_id = fields.IntField()
    conversation_id = fields.IntField()
    text = fields.CharField(max_length=200)  # the question, personal data masked (`examples.py`)
    asked_at = fields.DatetimeField()

    class Meta:
        table = "incident_ask"
        indexes = (("topic_id", "asked_at"), ("incident_id", "conversation_id"), ("asked_at",))


class Incident(Model):
    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=16)
    key = fields.CharField(max_length=200)
    title = fields.CharField(max_length=200)  # the question its customers asked most
    # "kind:key" while open, NULL once closed: the store refuses a second open incident of a topic
    open_key = fields.CharField(max_length=220, null=True, unique=True)
    customers = fields.IntField(default=0)  # distinct customers counted in it
    examples = fields.JSONField[list[str]](default=list)  # a few of their questions, personal data masked
    opened_at = fields.DatetimeField()
    last_asked_at = fields.DatetimeField()
    closed_at = fields.DatetimeField(null=True)
    close_reason = fields.CharField(max_length=16, null=True)  # "hand" or "quiet"
    closed_by = fields.IntField(null=True)  # the supervisor who closed it
    broadcast = fields.TextField(null=True)  # the answer every further asker gets while it is open
    broadcast_at = fields.DatetimeField(null=True)  # its first publication (time to broadcast)
    broadcast_by = fields.IntField(null=True)
    revision = fields.IntField(default=0)  # one more for each new broadcast text

    class Meta:
        table = "incident"
        indexes = (("closed_at",), ("opened_at",))


class IncidentNotice(Model):
    """A broadcast text (its revision) sent to a conversation: at most once."""

    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.BigIntField(primary_key=True)
    incident_id = fields.IntField()
    conversation_id = fields.IntField()
    revision = fields.IntField()
    sent_at = fields.DatetimeField()

    class Meta:
        table = "incident_notice"
        unique_together = (("incident_id", "conversation_id", "revision"),)
