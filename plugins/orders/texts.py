"""What the order bot says, in the three languages, and how it names an order's status."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "orders.order": {"zh-Hans": "订单 {order_no}：{status}", "zh-Hant": "訂單 {order_no}：{status}",
                     "en": "Order {order_no}: {status}"},
    "orders.item": {"zh-Hans": "商品：{title}", "zh-Hant": "商品：{title}", "en": "Item: {title}"},
    "orders.tracking": {"zh-Hans": "快递：{carrier} {tracking_no}", "zh-Hant": "快遞：{carrier} {tracking_no}",
                        "en": "Shipped with {carrier}, tracking number {tracking_no}"},
    "orders.no_tracking": {"zh-Hans": "暂时还没有快递单号，发货后就会有。", "zh-Hant": "暫時還沒有快遞單號，出貨後就會有。",
                           "en": "No tracking number yet: it comes once the order ships."},
    "orders.eta": {"zh-Hans": "预计送达：{eta}", "zh-Hant": "預計送達：{eta}", "en": "Expected: {eta}"},
    "orders.more_help": {"zh-Hans": "如仍有问题，请回复“人工”，客服马上为您处理。",
                         "zh-Hant": "如仍有問題，請回覆「人工」，客服馬上為您處理。",
                         "en": "If something is still wrong, reply \"human\" and a person will help you."},
    "orders.handover": {"zh-Hans": "这个订单需要人工处理，已为您转接客服，请稍候。",
                        "zh-Hant": "這個訂單需要人工處理，已為您轉接客服，請稍候。",
                        "en": "This order needs a person: I am passing you to our team, one moment please."},
    "orders.choose": {"zh-Hans": "您有 {count} 个订单，想查哪一个？请回复序号：\n{choices}",
                      "zh-Hant": "您有 {count} 個訂單，想查哪一個？請回覆序號：\n{choices}",
                      "en": "You have {count} orders. Which one? Reply with its number:\n{choices}"},
    "orders.choice": {"zh-Hans": "{number}. {order_no}（{status}）{title}", "zh-Hant": "{number}. {order_no}（{status}）{title}",
                      "en": "{number}. {order_no} ({status}) {title}"},
    "orders.pick_again": {"zh-Hans": "请回复 1 到 {count} 之间的序号。", "zh-Hant": "請回覆 1 到 {count} 之間的序號。",
                          "en": "Please reply with a number from 1 to {count}."},
    "orders.ask": {"zh-Hans": "请发送您的订单号，我来帮您查询。", "zh-Hant": "請傳送您的訂單號，我來幫您查詢。",
                   "en": "Please send me your order number and I will look it up."},
    "orders.ask_or_bind": {
        "zh-Hans": "请发送您的订单号，我来帮您查询；会员也可以发送“绑定 绑定码”绑定账号，之后直接查询您的订单。",
        "zh-Hant": "請傳送您的訂單號，我來幫您查詢；會員也可以傳送「綁定 綁定碼」綁定帳號，之後直接查詢您的訂單。",
        "en": "Please send me your order number, or bind your member account (\"bind CODE\") and ask again."},
    "orders.ask_bind": {"zh-Hans": "请先发送“绑定 绑定码”绑定会员账号，我就能查到您的订单。",
                        "zh-Hant": "請先傳送「綁定 綁定碼」綁定會員帳號，我就能查到您的訂單。",
                        "en": "Please bind your member account first (\"bind CODE\"), then I can see your orders."},
    "orders.none_known": {"zh-Hans": "暂时没有查到您的订单。如有订单号，请直接发给我；需要帮助请回复“人工”。",
                          "zh-Hant": "暫時沒有查到您的訂單。如有訂單號，請直接傳給我；需要幫助請回覆「人工」。",
                          "en": "I could not find any orders of yours. Send me the order number, or reply \"human\"."},
    "orders.not_found": {"zh-Hans": "没有查到订单 {order_no}，请核对后重新发送；需要帮助请回复“人工”。",
                         "zh-Hant": "沒有查到訂單 {order_no}，請核對後重新傳送；需要幫助請回覆「人工」。",
                         "en": "I could not find order {order_no}. Please check the number, or reply \"human\"."},
    "orders.unavailable": {"zh-Hans": "抱歉，订单系统暂时查询不到，请稍后再试；着急的话请回复“人工”。",
                           "zh-Hant": "抱歉，訂單系統暫時查詢不到，請稍後再試；著急的話請回覆「人工」。",
                           "en": "Sorry, I cannot reach the order system right now. Please try again later, "
                                 "or reply \"human\"."},
    "orders.too_many": {"zh-Hans": "查询次数太多了，请稍后再试，或回复“人工”联系客服。",
                        "zh-Hant": "查詢次數太多了，請稍後再試，或回覆「人工」聯絡客服。",
                        "en": "That is a lot of look-ups: please try again later, or reply \"human\"."},
}

# status -> its label in zh-Hans, zh-Hant and en; `[orders] status_labels` adds to them and
# rewords them. A status without a label is shown as the shop's record writes it.
_LABELS = {
    "pending_payment": ("待付款", "待付款", "awaiting payment"),
    "paid": ("已付款", "已付款", "paid"),
    "processing": ("处理中", "處理中", "processing"),
    "to_ship": ("待发货", "待出貨", "waiting to ship"),
    "shipped": ("已发货", "已出貨", "shipped"),
    "in_transit": ("运输中", "運送中", "in transit"),
    "delivering": ("派送中", "配送中", "out for delivery"),
    "delivered": ("已签收", "已簽收", "delivered"),
    "completed": ("已完成", "已完成", "completed"),
    "cancelled": ("已取消", "已取消", "cancelled"),
    "refunding": ("退款中", "退款中", "refund in progress"),
    "refund_pending": ("退款待审核", "退款待審核", "refund awaiting review"),
    "refunded": ("已退款", "已退款", "refunded"),
    "refund_overdue": ("退款超时未到账", "退款逾時未到帳", "refund overdue"),
    "after_sale": ("售后处理中", "售後處理中", "after-sales in progress"),
    "topup_pending": ("充值处理中", "儲值處理中", "top-up in progress"),
    "topup_done": ("充值成功", "儲值成功", "topped up"),
    "topup_failed": ("充值失败", "儲值失敗", "top-up failed"),
    "delivery_failed": ("配送异常", "配送異常", "delivery problem"),
}
STATUS_LABELS: dict[str, dict[str, str]] = {
    language: {status: labels[index] for status, labels in _LABELS.items()}
    for index, language in enumerate(("zh-Hans", "zh-Hant", "en"))}

# The heading of the internal note a hand-over leaves for the agents (not a customer's text).
NOTE_HEADINGS = {"zh-Hans": "订单需要人工处理（机器人已转人工）", "zh-Hant": "訂單需要人工處理（機器人已轉人工）",
                 "en": "This order needs a person (handed over by the bot)"}
