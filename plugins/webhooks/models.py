"""The webhooks plugin's own table: one row per (event, endpoint), the delivery's outbox.

A row is written right after the event's cause committed, sent by one instance at a time (leased
like the core's outbox rows, `csgw.gateway.outbox_claims`), and kept after it is sent or failed
as the delivery log, for `KEEP_DAYS`.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

TABLE = "webhook_delivery"
STATES = ("pending", "sent", "failed")


class WebhookDelivery(Model):
    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    id = fields.BigIntField(primary_key=True)  # the order deliveries are recorded in
    delivery_id = fields.CharField(max_length=40, unique=True)  # X-Csgw-Delivery: receivers dedupe on it
    endpoint = fields.CharField(max_length=200)  # the endpoint's label (`Endpoint.label`)
    event = fields.CharField(max_length=64)
    # deliveries with one key go out one at a time, in id order: "conversation:12", "customer:5"
    ordering_key = fields.CharField(max_length=64)
    body = fields.TextField()  # the exact JSON sent, the same bytes at every attempt
    state = fields.CharField(max_length=16, default="pending")
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    last_status = fields.IntField(null=True)  # the receiver's last HTTP status
    last_error = fields.TextField(null=True)
    claimed_by = fields.CharField(max_length=64, null=True)  # the instance sending it (PostgreSQL)
    claimed_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = TABLE
        indexes = (("state", "next_attempt_at"), ("endpoint", "ordering_key", "state"), ("updated_at",))
