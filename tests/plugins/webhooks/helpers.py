"""Conditions on the delivery rows, for `wait_for_condition`."""

from __future__ import annotations

from csgw.plugins.webhooks.models import WebhookDelivery


async def settled() -> bool:
    """No delivery pending (every one sent or failed; true too before any was recorded)."""
    return not await WebhookDelivery.filter(state="pending").exists()


def count_is(state: str, count: int):
    async def check() -> bool:
        return await WebhookDelivery.filter(state=state).count() == count

    return check


def some(state: str, **filters):
    async def check() -> bool:
        return await WebhookDelivery.filter(state=state, **filters).exists()

    return check
