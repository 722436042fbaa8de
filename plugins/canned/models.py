"""The canned-replies plugin's table (its tortoise app, created at start through `csgw_models`)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

SHARED = ""  # the `group` of a reply every agent may use


class CannedReply(Model):
    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=100)
    shortcut = fields.CharField(max_length=40)  # "/退款": what an agent types in the composer
    text = fields.TextField()  # with variables, e.g. {customer_name} (`template.py`)
    group = fields.CharField(max_length=64, default=SHARED)  # an agents' group (skill), or SHARED
    updated_by = fields.IntField(null=True)  # the supervisor who last saved it
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "canned_reply"
        unique_together = (("group", "shortcut"),)
