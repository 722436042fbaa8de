"""Which order question a message asks, if any: status, shipping (tracking), a top-up or key not
arrived, refund progress; and the order number in it.

Rules over one canonical form (NFKC, traditional characters as simplified, lower case; an order
number stands in as `#`). A question about the customer's own order says so: a possessive or a
request (我的, 帮我, my), a state that is late or missing (还没, 没到账, hasn't), a question about
where it is (到哪了, where is). A how-to or policy question (怎么退款, 退货政策, how do I get a
refund) is the knowledge base's, unless it also says it is about the customer's own order.
Tuned on `tests/data/order_intents_tune.tsv` only; `docs/orders.md` has the held-out figures.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import opencc

from csgw.gateway.bounded_cache import BoundedCache

INTENTS = ("refund", "topup", "shipping", "status")  # checked in this order: the most specific first

# -- Chinese, on the compact form (no spaces or punctuation) --------------------------------------
_MINE = r"(我的|我买|我下|我拍|我订|我充|我付|我申请|我退|我那|我这|我上|我昨|我前|发我|给我|帮我|帮忙|麻烦|#)"
_NOT_YET = r"(还没|还不|一直没|怎么没|怎么还|迟迟|没有?到|未到|没收到|没有收到|未收到)"
_GOODS = r"(订单|单子|货|东西|包裹|宝贝|衣服|鞋子?|件|我买的|买的)"
_CODES = r"(卡密|激活码|兑换码|序列号|序号|cdk|密钥|key)"
_TOPUP = r"(充值|充的|充了|储值|话费|点券|点卡|钻石|金币|流量包?|油卡|月卡|年卡|季卡|会员|vip|权益|余额)"
_MISSING = (r"(没有?到|未到|不到账|没有?收到|未收到|没成功|失败|没有?生效|未生效|没有?开通|未开通|没反应|"
            r"没变|不能用|用不了|还是普通|处理中)")
_ZH = {
    "refund": [
        r"退款.{0,4}(进度|状态|到哪|在哪|哪一步|什么时候|啥时候|何时|还没|没有?到|没有?收到|怎么还|处理了?|审核|"
        r"到账了|成功了|通过了|呢|一直|申请了|查)",
        r"(查|看)(一下|下|看)?(我的)?退款",
        r"(钱|款)(什么时候|啥时候|何时|多久|怎么还没)(能|才能|会)?(退|返|到)",
        r"(还没|没有?)(收到|看到)?退(款|钱)",
        r"退(的)?钱.{0,3}(还没|没有?到|没收到|呢)",
    ],
    "topup": [
        _TOPUP + r".{0,8}" + _MISSING,
        r"(没有?收到|未收到|没看到|没有?发)" + r".{0,4}" + _CODES,
        _CODES + r".{0,6}(" + _MISSING[1:-1] + r"|呢|在哪|发哪|没发)",
        r"(没|未|没有)到账",
    ],
    "shipping": [
        r"(快递|物流|运|货运)单号|单号(是)?(多少|发|给|呢)",
        r"(查|看|问)(一下|下|查|看|询)?(我的)?(物流|快递)",
        r"(发|寄)(的|了)(什么|哪家|哪个)快递",
        r"(物流|快递|包裹|件)(现在)?(到|在)(哪|哪里|哪儿)",
        r"我的快递",
        r"(物流|快递)(信息|状态|进度|详情|资讯|单)",
        r"(物流|快递).{0,6}(不更新|没更新|没动|停在|不动|没变化)",
    ],
    "status": [
        r"订单#?(状态|进度|查询|情况|怎么样|到哪|在哪|发货|发了)",
        r"(查|看|问)(一下|下|查|看|询)?(我的)?(订单|单子)",
        r"(发货|出货|发出来?|寄出|发)了(吗|没|嘛|么)",
        r"(发货|出货|发出)(没|吗)",
        _NOT_YET + r".{0,2}(发货|发|出货|到|动静|处理)",
        r"显示(待|已)?(发货|签收|处理|付款|出库)",
        r"还在处理",
        _MINE + r".{0,8}(什么时候|啥时候|几时|哪天)(能|才能|可以|会)?(到|送到|到货|收到|发货|发)",
        r"买的.{0,6}(什么时候|啥时候|几时)(能|才能)?到",
        _GOODS + r"(现在)?(到|在)(哪|哪里|哪儿)",
    ],
}
# A how-to or policy question: the knowledge base's, unless the message is about the customer's own order.
_ZH_GENERAL = [
    r"(怎么|怎样|如何|咋)(才能|能|可以|去)?(申请|退|办|弄|操作|查|看|用|使用|兑换|开|改|修改|联系|取消|付|选|"
    r"成为|充|激活|领|找|备注|删除|合并|换)(?!不|没)",
    r"会(退|到|发|送)",
    r"(政策|规则|条件|流程|手续费|一般|通常|须知|原路|运费)",
    r"(能|可以|可不可以|能不能|能否|支持|会不会|是否).{0,3}(退|开|寄|发|改|合并|货到付款|到付|送)",
]

# -- English, on the spaced form -------------------------------------------------------------------
_EN_NOT = r"(n't\b|\b(not|never|no|still|yet|pending|missing)\b)"
_EN = {
    "refund": [
        r"\brefund\b.{0,20}\b(status|progress|yet|processed|received|arrived?|update|happening)\b",
        r"\bmy refund\b",
        r"\bno refund\b",
        r"\brefund(ed)? me\b",
        r"\brefund for (order|#)",
    ],
    "topup": [
        r"\b(top ?-? ?ups?|recharg\w*|credits?)\b.{0,30}" + _EN_NOT,
        r"\b(not|never|n't)\b.{0,20}\b(received?|got|get|arrived?|activated?|came|come)\b.{0,20}"
        r"\b(key|code|top ?-? ?up|credits?|membership|vip)\b",
        r"\b(key|code|membership|vip|subscription)\b.{0,20}\b(not|never|n't)\b.{0,15}\b(activ|arriv|receiv|came|come|work)",
        r"\bwhere('s| is) my\b.{0,20}\b(key|code|top ?-? ?up|credits)\b",
    ],
    "shipping": [
        r"\btracking\b",
        r"\b(courier|carrier)\b.{0,20}\bmy\b|\bmy\b.{0,20}\b(courier|carrier)\b|\b(courier|carrier)\b.{0,10}\bshipped\b",
        r"\bwhere('s| is| are)? my (package|parcel|shipment|delivery)",
        r"\b(shipping|delivery) status\b",
    ],
    "status": [
        r"\border status\b|\bstatus of (my|the) order\b|\bmy order'?s? status\b",
        r"\bwhere('s| is| are)? my (order|stuff|items?|purchase)",
        r"\b(has|did|is|was) my order\b",
        r"\bmy order\b.{0,30}\b(yet|still|arriv\w*|ship\w*|status|update|says?|where|go through|processing)\b",
        r"\b(check|track|look up|find)\b.{0,10}\b(my|the) order\b|\bcheck order\b",
        r"\b(placed|made|ordered|bought)\b.{0,40}\b(any update|any news|still|yet|haven't|hasn't)\b",
        r"\b(haven't|hasn't|not|never|didn't)\b.{0,15}\b(received?|got|get|arrived?|come)\b.{0,10}"
        r"\bmy (order|package|parcel|stuff|items?)\b",
        r"\bmy (package|parcel|order|stuff|items?)\b.{0,10}\b(hasn't|has not|didn't|not|never)\b",
    ],
}
_EN_GENERAL = [r"^(how|what is your|what's your|what are your|do you|does|can i|is there|are there)\b",
               r"\bpolicy\b"]
_EN_MINE = r"\b(my|me|#)\b|#"

QUESTIONS_REMEMBERED = 10_000  # distinct texts whose question is kept
_WORD_PUNCT = re.compile(r"[^\w#'\s]|_")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Question:
    """What a message asks: the intent (None: not an order question) and the order number in it."""

    intent: str | None
    order_no: str | None
    bare_number: bool = False  # the message is (almost) nothing but the number


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def canonical(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("’", "'")
    return _SPACES.sub(" ", _WORD_PUNCT.sub(" ", _t2s().convert(text).casefold())).strip()


def _compile(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


class IntentRecognizer:
    """Order questions in zh-Hans, zh-Hant and English, with the shop's own phrases added."""

    def __init__(self, order_number: str, extra_phrases: Mapping[str, Iterable[str]] | None = None,
                 ignore_phrases: Iterable[str] = ()) -> None:
        self.order_number = re.compile(order_number)
        extra = {intent: [re.escape(canonical(p).replace(" ", "")) for p in phrases if canonical(p)]
                 for intent, phrases in (extra_phrases or {}).items()}
        self.chinese = {intent: _compile([*_ZH[intent], *extra.get(intent, [])]) for intent in INTENTS}
        self.english = {intent: _compile(_EN[intent]) for intent in INTENTS}
        ignored = [re.escape(canonical(p).replace(" ", "")) for p in ignore_phrases if canonical(p)]
        self.ignored = _compile(ignored) if ignored else None
        self.general = _compile(_ZH_GENERAL)
        self.english_general = _compile(_EN_GENERAL)
        self.mine = re.compile(_MINE + "|" + _NOT_YET)
        self.english_mine = re.compile(_EN_MINE)
        self._asked = BoundedCache(QUESTIONS_REMEMBERED)  # text -> Question

    def find_number(self, text: str) -> str | None:
        found = self.order_number.search(unicodedata.normalize("NFKC", text))
        return found.group(0) if found else None

    def question(self, text: str) -> Question:
        """The intent and order number of one customer message (remembered: customers repeat
        each other's questions word for word, and every text message is asked here first)."""
        known: Question | None = self._asked.get(text)
        if known is None:
            known = self._question(text)
            self._asked.put(text, known)
        return known

    def _question(self, text: str) -> Question:
        order_no = self.find_number(text)
        folded = unicodedata.normalize("NFKC", text)
        if order_no:
            folded = folded.replace(order_no, " # ", 1)
        spaced = canonical(folded)
        compact = spaced.replace(" ", "")
        bare = order_no is not None and len(re.sub(r"(订单号?|单号|order|no|number|是|#)", "", compact)) <= 2
        if self.ignored is not None and self.ignored.search(compact):
            return Question(None, order_no, bare)
        return Question(self._intent(spaced, compact), order_no, bare)

    def _intent(self, spaced: str, compact: str) -> str | None:
        intent = next((i for i in INTENTS if self.chinese[i].search(compact)), None)
        if intent is not None:
            if self.general.search(compact) and not self.mine.search(compact):
                return None
            return intent
        intent = next((i for i in INTENTS if self.english[i].search(spaced)), None)
        if intent is not None and self.english_general.search(spaced) and not self.english_mine.search(spaced):
            return None
        return intent
