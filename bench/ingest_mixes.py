"""What the ingest benchmark's customers say: the answered mix and the realistic mix.

Both are drawn from the demo knowledge base and spread over `CUSTOMERS` customers: message `i`
is customer `i % CUSTOMERS`'s next message, so one customer's messages are a thousand
requests apart (never two at once, as a person types) and every customer writes several times.

- answered: the knowledge base's own questions and paraphrases, word for word: every one answered
  (the best case; the engine's decision cache answers most of them).
- realistic: a promotion night with nobody online. Customers ask the KB's questions in their own
  way (greetings and particles around them), ask things the KB cannot answer (a menu, then a
  hand-over at the second miss), send one bare word (asked back), pick a number, ask for a person
  (人工), repeat themselves and say thanks. Hand-overs queue (no agent is online), and what a
  queued customer says next is stored for the person, unanswered. A customer says `VISIT` lines
  and leaves; a new one takes their place, and the places are at different lines of their
  visits, so the mix is the same all through a run. (It used to be 1,000 customers for the whole
  run: more of them were queued the further a run got, their messages only stored, so a faster
  run met a cheaper mix and its figures depended on how far it got.)

The mix is written one message a line, `openid<TAB>text`, read by `wechat_push.lua`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from csgw.plugins.demo import DEMO_KB
from csgw.plugins.reply.kb import load_kb

CUSTOMERS = 1_000  # as many as the old answered mix had; in the realistic mix, customers at once
VISIT = 8  # lines a realistic customer says before leaving
MESSAGES = 120_000  # more than csgw answers in one run

# Off the knowledge base: the engine finds nothing (a menu first, then a hand-over).
UNANSWERABLE = [
    "你们老板叫什么名字", "我想加盟怎么联系", "能帮我写个作业吗", "今天天气怎么样", "你是机器人吗",
    "这款有没有黑色的", "你们公司在哪个城市", "我要投诉你们的包装", "可以做定制logo吗",
    "直播间的那件还有吗", "主播身上那件是什么款", "能不能给我留一件", "我朋友也想买怎么弄",
    "链接打不开", "小程序闪退了", "积分商城在哪里",
]
ORDER_QUESTIONS = ["我的订单{n}到哪了", "订单号{n}帮我查一下", "单号{n}怎么还没动静"]
BARE_WORDS = ["退", "尺码", "发货", "发票", "快递", "颜色"]  # several entries: asked back
PERSON = ["人工", "转人工", "人工客服", "找客服", "有人吗"]
SMALLTALK = ["谢谢", "好的", "嗯嗯", "在吗"]
PREFIXES = ["", "", "你好，", "亲，", "请问", "在吗？", "老板，"]
SUFFIXES = ["", "", "？", "呀", "啊", "。。"]


def kb_questions() -> list[str]:
    return [text for entry in load_kb(DEMO_KB).entries for text in (entry.question, *entry.similar)]


def answered_mix(count: int = MESSAGES, seed: int = 19) -> list[tuple[str, str]]:
    questions = kb_questions()
    pick = random.Random(seed)
    return [(openid(i % CUSTOMERS), pick.choice(questions)) for i in range(count)]


def realistic_mix(count: int = MESSAGES, seed: int = 19) -> list[tuple[str, str]]:
    """Each customer follows a script of their own; message `i` is the next line of the customer in
    place `i % CUSTOMERS`, a place being `place` lines ahead in its succession of visits."""
    questions = kb_questions()
    scripts: dict[int, list[str]] = {}
    mix = []
    for i in range(count):
        place, line = i % CUSTOMERS, i // CUSTOMERS + i % CUSTOMERS
        customer = place + CUSTOMERS * (line // VISIT)
        if customer not in scripts:
            scripts[customer] = _script(random.Random(seed * 100_003 + customer), questions, VISIT)
        mix.append((openid(customer), scripts[customer][line % VISIT]))
    return mix


def _script(pick: random.Random, questions: list[str], length: int) -> list[str]:
    said: list[str] = []
    kinds: list[tuple[float, Callable[[], str]]] = [
        (0.40, lambda: pick.choice(PREFIXES) + pick.choice(questions).rstrip("？?") + pick.choice(SUFFIXES)),
        (0.12, lambda: pick.choice(UNANSWERABLE)),
        (0.06, lambda: pick.choice(ORDER_QUESTIONS).format(n=pick.randrange(10**11, 10**12))),
        (0.08, lambda: pick.choice(BARE_WORDS)),
        (0.08, lambda: str(pick.randint(1, 3))),
        (0.08, lambda: pick.choice(PERSON)),
        (0.10, lambda: said[-1] if said else pick.choice(questions)),
        (0.08, lambda: pick.choice(SMALLTALK)),
    ]
    weights = [weight for weight, _ in kinds]
    for _ in range(length):
        [(_, say)] = pick.choices(kinds, weights)
        said.append(say())
    return said


def openid(customer: int) -> str:
    return f"o_mix{customer:06d}"


def write_mix(path: Path, messages: list[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for user, text in messages:
            out.write(f"{user}\t{text}\n")
    return path


MIXES: dict[str, Callable[[], list[tuple[str, str]]]] = {"answered": answered_mix, "realistic": realistic_mix}
