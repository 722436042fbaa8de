"""A rating's comment reaches the shop's webhook: `satisfaction.rated` when the score comes, and
again with the comment (the text after a rating by message)."""

from __future__ import annotations

from csgw.gateway.channel import InboundMessage
from csgw.testing import running_gateway

FAKE = [{"plugin": "fake", "account": "shop"}]


async def test_the_comment_is_sent_after_the_score(tmp_path, receiver, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE,
                               webhooks=[receiver.endpoint(events=["satisfaction.rated"])]) as gw:
        for number, words in enumerate(("下单后多久发货", "结束", "1", "等了太久，没人理"), start=1):
            await gw.services.accept(InboundMessage("fake", "shop", "u-1", words, f"m{number}"))
            await gw.services.pipeline.drain()
        await receiver.wait_for(lambda: len(receiver.accepted("satisfaction.rated")) == 2)
        scored, commented = [r.data for r in receiver.accepted("satisfaction.rated")]
        assert (scored["score"], scored["comment"]) == (1, None)
        assert (commented["score"], commented["comment"]) == (1, "等了太久，没人理")
        assert scored["conversation_id"] == commented["conversation_id"]
        assert all(r.signed for r in receiver.received)
