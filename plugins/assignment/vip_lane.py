"""VIP customers skip the bot: their first message goes straight to a person, at VIP priority."""

from __future__ import annotations

from csgw.config.schema import AssignmentSettings
from csgw.gateway.conversations import customer_profile
from csgw.gateway.models import Customer
from csgw.gateway.reply import ReplyContext
from csgw.gateway.routing import Classification
from csgw.plugins.assignment.vip import is_vip


class VipClassifier:
    name = "vip_lane"

    def __init__(self, rules: AssignmentSettings) -> None:
        self.rules = rules

    async def classify(self, context: ReplyContext) -> Classification | None:
        if not context.is_first_message:
            return None  # decided when the conversation opened; later messages follow that
        if context.is_new_customer:
            return None  # created for this very message: no flag, tag or orders to read
        customer = await Customer.get_or_none(id=context.customer_id)
        if customer is None or not is_vip(customer_profile(customer), self.rules):
            return None
        return Classification(priority=self.rules.vip_priority, flags=("vip",), handover=True)
