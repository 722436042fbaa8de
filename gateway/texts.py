"""Customer-facing system texts of the core in simplified Chinese (default), traditional Chinese
and English, and `Texts`, which renders them (and a plugin's own, registered with `csgw_texts`)
in the shop's wording from `[texts.LANGUAGE]` where it has one."""

from __future__ import annotations

from collections.abc import Mapping

from csgw.config.texts import DEFAULT_LANGUAGE, LANGUAGES, TemplateError, placeholders

TextTable = Mapping[str, Mapping[str, str]]  # key -> language -> template with {name} placeholders

TEXTS: dict[str, dict[str, str]] = {
    "handover.assigned": {
        "zh-Hans": "已为您转接人工客服 {agent}，请稍候。",
        "zh-Hant": "已為您轉接人工客服 {agent}，請稍候。",
        "en": "You are now connected to {agent}, one moment please.",
    },
    "handover.queued": {
        "zh-Hans": "正在为您转接人工客服，您前面还有 {ahead} 位，预计等待约 {minutes} 分钟，请稍候。",
        "zh-Hant": "正在為您轉接人工客服，您前面還有 {ahead} 位，預計等待約 {minutes} 分鐘，請稍候。",
        "en": "Connecting you to a person; {ahead} ahead of you, about {minutes} min to wait.",
    },
    "handover.offline": {
        "zh-Hans": "客服暂时不在线，我们已记录您的问题，上线后第一时间回复您。",
        "zh-Hant": "客服暫時不在線，我們已記錄您的問題，上線後第一時間回覆您。",
        "en": "No one is online right now; we have your question and will answer as soon as we are back.",
    },
    # after hours (`[hours]`, `gateway/off_hours.py`): {time} is HH:MM in the shop's zone
    "handover.closed_today": {
        "zh-Hans": "现在是非工作时间，人工客服今天 {time} 上班。您可以先留言（姓名、手机号或微信号、问题），我们上班后第一时间回复您。",
        "zh-Hant": "現在是非工作時間，人工客服今天 {time} 上班。您可以先留言（姓名、手機號碼或微信號、問題），我們上班後第一時間回覆您。",
        "en": "We are closed right now; our team is back today at {time}. Leave a message (your name, "
              "phone or WeChat ID, and your question) and we will answer as soon as we are back.",
    },
    "handover.closed_until": {
        "zh-Hans": "现在是非工作时间，人工客服 {date} {time} 上班。您可以先留言（姓名、手机号或微信号、问题），我们上班后第一时间回复您。",
        "zh-Hant": "現在是非工作時間，人工客服 {date} {time} 上班。您可以先留言（姓名、手機號碼或微信號、問題），我們上班後第一時間回覆您。",
        "en": "We are closed right now; our team is back on {date} at {time}. Leave a message (your name, "
              "phone or WeChat ID, and your question) and we will answer as soon as we are back.",
    },
    "handover.closed": {  # hours without a single opening
        "zh-Hans": "现在是非工作时间。您可以先留言（姓名、手机号或微信号、问题），我们会尽快回复您。",
        "zh-Hant": "現在是非工作時間。您可以先留言（姓名、手機號碼或微信號、問題），我們會盡快回覆您。",
        "en": "We are closed right now. Leave a message (your name, phone or WeChat ID, and your question) "
              "and we will answer as soon as we can.",
    },
    "hours.date": {  # {date} in the texts above
        "zh-Hans": "{month}{day}日（{weekday}）",
        "zh-Hant": "{month}{day}日（{weekday}）",
        "en": "{weekday}, {month} {day}",
    },
    "binding.done": {
        "zh-Hans": "已绑定您的会员账号。",
        "zh-Hant": "已綁定您的會員帳號。",
        "en": "Your member account is now linked.",
    },
    "binding.bad_code": {
        "zh-Hans": "绑定码无效，请在会员中心重新获取后再发送。",
        "zh-Hant": "綁定碼無效，請在會員中心重新獲取後再發送。",
        "en": "That binding code is not valid; please get a new one from your account page.",
    },
    "binding.expired": {
        "zh-Hans": "绑定码已过期，请在会员中心重新获取后再发送。",
        "zh-Hant": "綁定碼已過期，請在會員中心重新獲取後再發送。",
        "en": "That binding code has expired; please get a new one from your account page.",
    },
    "binding.used": {
        "zh-Hans": "该绑定码已被使用过，请在会员中心重新获取后再发送。",
        "zh-Hant": "該綁定碼已被使用過，請在會員中心重新獲取後再發送。",
        "en": "That binding code has already been used; please get a new one from your account page.",
    },
    "binding.already_bound": {
        "zh-Hans": "您已绑定其他会员账号，如需更换请联系人工客服。",
        "zh-Hant": "您已綁定其他會員帳號，如需更換請聯繫人工客服。",
        "en": "You are linked to another member account; please ask an agent to change it.",
    },
    "conversation.closed": {
        "zh-Hans": "本次会话已结束，感谢您的咨询！请回复数字 1-5 为本次服务打分（5 为非常满意）。",
        "zh-Hant": "本次會話已結束，感謝您的諮詢！請回覆數字 1-5 為本次服務評分（5 為非常滿意）。",
        "en": "This conversation is closed. Thank you! Reply 1-5 to rate our service (5 = excellent).",
    },
    "conversation.ended": {
        "zh-Hans": "本次会话已结束，感谢您的咨询！",
        "zh-Hant": "本次會話已結束，感謝您的諮詢！",
        "en": "This conversation is closed. Thank you!",
    },
    "survey.thanks": {
        "zh-Hans": "感谢您的评价，祝您生活愉快！",
        "zh-Hant": "感謝您的評價，祝您生活愉快！",
        "en": "Thank you for your rating!",
    },
    # after the thanks for a rating by message, in the same message (`[reply] comment_window_seconds`)
    "survey.comment_invite": {
        "zh-Hans": "如有意见或建议，欢迎直接回复文字告诉我们（选填）。",
        "zh-Hant": "如有意見或建議，歡迎直接回覆文字告訴我們（選填）。",
        "en": " Anything to add? Just reply with a few words (optional).",
    },
    "survey.comment_thanks": {
        "zh-Hans": "已收到您的留言，感谢您的反馈！如需继续咨询，请直接发送您的问题。",
        "zh-Hant": "已收到您的留言，感謝您的回饋！如需繼續諮詢，請直接傳送您的問題。",
        "en": "Thank you for your comment! If you have another question, just send it.",
    },
}


class Texts:
    """Built-in texts in the shop's wording: what a customer-facing text is rendered from. The
    core renders its own `TEXTS`; a plugin its table, `Texts(TEXTS, settings.text_overrides)`."""

    def __init__(self, builtin: TextTable, overrides: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.builtin = builtin
        self.overrides = overrides or {}

    def template(self, key: str, language: str = DEFAULT_LANGUAGE) -> str:
        """The shop's wording in `language`, else the built-in one; a text with neither in
        `language` reads as the simplified Chinese one."""
        variants = self.builtin[key]
        for wanted in dict.fromkeys((language, DEFAULT_LANGUAGE)):
            shop = self.overrides.get(wanted, {}).get(key)
            if shop is not None:
                return shop
            if wanted in variants:
                return variants[wanted]
        raise KeyError(f"{key} has no {DEFAULT_LANGUAGE} text")

    def render(self, key: str, language: str = DEFAULT_LANGUAGE, **values: object) -> str:
        """The text filled in (a placeholder the shop's wording leaves out is simply not used)."""
        return self.template(key, language).format(**values)


def render(variants: Mapping[str, str], language: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """One built-in text in `language` (simplified Chinese when it has no such variant), filled
    in, without the shop's wording: what tests compare against. Send texts through `Texts`."""
    template = variants.get(language) or variants[DEFAULT_LANGUAGE]
    return template.format(**values)


def text(key: str, language: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The core's built-in text, without the shop's wording (see `render`)."""
    return render(TEXTS[key], language, **values)


def malformed_text(key: object, variants: object) -> str | None:
    """What is wrong with one built-in text a plugin registers, if anything."""
    if not isinstance(key, str) or not key or not isinstance(variants, Mapping):
        return "expected a key and a mapping of language -> template"
    if DEFAULT_LANGUAGE not in variants:
        return f"no {DEFAULT_LANGUAGE} variant"
    for language, template in variants.items():
        if language not in LANGUAGES or not isinstance(template, str):
            return f"expected {', '.join(LANGUAGES)} -> a template, got {language!r}"
        try:
            placeholders(template)
        except TemplateError as error:
            return f"{language}: {error}"
    return None
