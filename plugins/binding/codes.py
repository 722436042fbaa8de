"""Binding codes bind once. A code's first use is a row in the store; of two uses at once, on one
instance or two, the store keeps the row that commits first and the other insert finds it there
(`ON CONFLICT DO NOTHING`): that use is refused. Rows of expired codes go, as such codes are
refused anyway."""

from __future__ import annotations

from datetime import datetime

from tortoise import fields
from tortoise.models import Model

from csgw.gateway.binding import BindingCode
from csgw.gateway.storage.plans import ExecuteMany, Plan, Select

MODULES = [__name__]  # the plugin's tortoise app (`csgw_models`)


class UsedBindingCode(Model):
    _no_comments = True  # no `#:` field comments: tortoise need not read this file's source

    mac = fields.CharField(max_length=16, primary_key=True)  # upper case: it tells one code from another
    shop_user_id = fields.CharField(max_length=128)
    customer_id = fields.IntField()
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField()

    class Meta:
        table = "binding_code_use"


def use_code(code: BindingCode, customer_id: int, at: datetime) -> Plan[bool]:
    """Record the code's first use by the customer; False if it was used before."""
    yield ExecuteMany('DELETE FROM "binding_code_use" WHERE "expires_at" <= ?', [[at]])
    first = yield Select(
        'INSERT INTO "binding_code_use" ("mac", "shop_user_id", "customer_id", "expires_at", "used_at") '
        'VALUES (?, ?, ?, ?, ?) ON CONFLICT ("mac") DO NOTHING RETURNING "mac"',
        [code.mac, code.shop_user_id, customer_id, code.expires_at, at])
    return bool(first)
