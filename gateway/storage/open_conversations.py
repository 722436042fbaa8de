"""At most one open conversation per customer thread, held by the store itself.

A thread is what a message's conversation is looked up by (`message_plans._open_conversation`):
the customer, the channel, the account and the thread key (e-mail threads; none elsewhere). So a
customer may well have several open conversations — one on the web chat, one on WeChat — but never
two on one thread. Two instances storing a known customer's next messages at once would each find
no open conversation and open one; with the partial unique index below, the second INSERT waits for
the first transaction and fails once it commits, and the writer runs that job again
(`writer.lost_race`), which then finds the conversation the other instance opened.

Where two open conversations of one thread exist anyway (a store from before the index, two
customers merged), the newest stays open and the older ones are closed: the newest is the one new
messages already went to, so the older ones were no longer reached by the customer.
"""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.backends.base.client import BaseDBAsyncClient

from csgw.gateway.clock import now
from csgw.gateway.storage.plans import ExecuteMany, Plan, Select, marks

OPEN_CONVERSATION_INDEX = "uidx_conversation_open_thread"
# NULL thread keys would never collide in a unique index: they are compared as ''.
_SAME_THREAD = ('n."channel" = c."channel" AND n."account" = c."account" '
                """AND COALESCE(n."thread_key", '') = COALESCE(c."thread_key", '')""")


async def create_open_conversation_index(connection: BaseDBAsyncClient) -> None:
    await connection.execute_script(
        f'CREATE UNIQUE INDEX IF NOT EXISTS "{OPEN_CONVERSATION_INDEX}" ON "conversation" '
        """("customer_id", "channel", "account", COALESCE("thread_key", '')) WHERE "state" <> 'closed'""")


def close_superseded_conversations(customer_ids: Sequence[int] = ()) -> Plan[list[int]]:
    """Close each open conversation that has a newer open one on its thread; their ids.

    With `customer_ids`, only those customers' conversations, counted as one customer's (a merge,
    before it moves them together); without, the whole store's."""
    scope, same_customer = "", 'n."customer_id" = c."customer_id"'
    if customer_ids:
        customers = f"({marks(len(customer_ids))})"
        scope, same_customer = f' AND c."customer_id" IN {customers}', f'n."customer_id" IN {customers}'
    rows = yield Select(
        f'SELECT c."id" FROM "conversation" c WHERE c."state" <> \'closed\'{scope} AND EXISTS ('
        f'SELECT 1 FROM "conversation" n WHERE {same_customer} AND {_SAME_THREAD} '
        'AND n."state" <> \'closed\' AND n."id" > c."id") ORDER BY c."id"',
        [*customer_ids, *customer_ids])
    ids = [row[0] for row in rows]
    at = now()
    yield ExecuteMany('UPDATE "conversation" SET "state" = ?, "closed_at" = ? WHERE "id" = ?',
                      [["closed", at, ident] for ident in ids])
    return ids
