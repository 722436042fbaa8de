"""The reply plugin's own tables: the knowledge base and the paraphrases agents' replies propose.

Registered as the plugin's tortoise app through `csgw_models`; the core creates a plugin's
missing tables at start (`gateway/storage/plugin_tables.py`). The table names are those the
core used to own, so existing databases keep their rows.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

# The plugin's tortoise app, as `csgw_models` declares it and the plugin's offline commands open it.
APP = {"kb": [__name__]}


class KnowledgeEntry(Model):
    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=128, unique=True)
    category = fields.CharField(max_length=255, default="")
    question = fields.TextField()
    similar = fields.JSONField[list[str]](default=list)
    answer = fields.TextField()
    answers = fields.JSONField[dict[str, str]](default=dict)  # per channel
    keywords = fields.JSONField[list[str]](default=list)
    priority = fields.IntField(default=0)
    channels = fields.JSONField[list[str]](default=list)
    extra = fields.JSONField[dict[str, Any]](default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "knowledge_entry"


class KnowledgeProposal(Model):
    """A customer's question an agent answered with a KB entry: a `similar` paraphrase awaiting review."""

    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.IntField(primary_key=True)
    entry_key = fields.CharField(max_length=128, db_index=True)
    question = fields.TextField()
    normalized = fields.CharField(max_length=255)  # the question's matching form, to count repeats once
    message_id = fields.BigIntField(null=True)  # the customer's message
    agent_id = fields.IntField(null=True)
    state = fields.CharField(max_length=16, default="pending")  # pending, accepted, rejected
    created_at = fields.DatetimeField(auto_now_add=True)
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "knowledge_proposal"
        unique_together = (("entry_key", "normalized"),)
        indexes = (("state",),)
