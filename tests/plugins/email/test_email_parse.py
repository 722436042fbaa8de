"""Parsing real mail bytes: Chinese charsets, HTML-only bodies, attachments, reply trimming."""

from __future__ import annotations

import base64
from pathlib import Path

from csgw.plugins.email.parse import AttachmentLimits, parse_mail


def _b64(text: str, codec: str) -> str:
    return base64.b64encode(text.encode(codec)).decode()


def test_gbk_text_labelled_gb2312_keeps_characters_outside_gb2312(tmp_path: Path) -> None:
    body = "你好，我是王喆，订单12345什么时候发货？"
    subject = "关于订单的问题（王喆）"
    raw = (
        "From: =?gb2312?B?" + _b64("王喆", "gbk") + "?= <zhe@example.cn>\r\n"
        "To: support@shop.example\r\n"
        "Subject: =?gb2312?B?" + _b64(subject, "gbk") + "?=\r\n"
        "Message-ID: <gbk-1@example.cn>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=gb2312\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" + _b64(body, "gbk") + "\r\n"
    ).encode()
    try:
        "喆".encode("gb2312")
        raise AssertionError("the test needs a character GB2312 lacks")
    except UnicodeEncodeError:
        pass

    mail = parse_mail(raw, AttachmentLimits(tmp_path))

    assert mail.text == body
    assert mail.subject == subject
    assert mail.from_name == "王喆"
    assert mail.from_address == "zhe@example.cn"
    assert mail.message_id == "<gbk-1@example.cn>"


def test_gb18030_and_raw_8bit_gbk_subject(tmp_path: Path) -> None:
    body = "𠀀 是四字节的 GB18030 字符"
    raw = (
        b"From: a@example.cn\r\nSubject: " + "退款申请".encode("gbk") + b"\r\n"
        b"Content-Type: text/plain; charset=GB18030\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + body.encode("gb18030")
    )
    mail = parse_mail(raw, AttachmentLimits(tmp_path))
    assert mail.subject == "退款申请"
    assert mail.text == body
    assert mail.message_id.endswith("@no-message-id.csgw>")  # stable stand-in, for deduplication
    assert parse_mail(raw, AttachmentLimits(tmp_path)).message_id == mail.message_id


def test_big5_traditional_chinese(tmp_path: Path) -> None:
    body = "請問退貨流程是怎樣的？謝謝。"
    raw = (
        "From: tw@example.tw\r\nSubject: =?big5?B?" + _b64("退貨問題", "big5") + "?=\r\n"
        "Content-Type: text/plain; charset=big5\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + _b64(body, "big5")
    ).encode()
    mail = parse_mail(raw, AttachmentLimits(tmp_path))
    assert mail.subject == "退貨問題"
    assert mail.text == body


def test_html_only_mail_becomes_clean_text_and_quote_is_trimmed(tmp_path: Path) -> None:
    html = (
        "<html><head><style>p {color: red}</style><title>x</title></head><body>"
        "<p>您好，</p><div>我想换一个颜色&nbsp;(蓝色)<br>尺码 XL</div>"
        "<ul><li>订单 A1</li><li>订单 B2</li></ul><script>alert(1)</script>"
        "<blockquote><p>原来的邮件内容</p></blockquote></body></html>"
    )
    raw = (
        "From: h@example.cn\r\nSubject: html\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/html; charset=gbk\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + _b64(html, "gbk")
    ).encode()
    mail = parse_mail(raw, AttachmentLimits(tmp_path))
    assert "color" not in mail.full_text and "alert" not in mail.full_text and "<" not in mail.text
    assert mail.full_text.splitlines()[:5] == [
        "您好，",
        "我想换一个颜色 (蓝色)",
        "尺码 XL",
        "- 订单 A1",
        "- 订单 B2",
    ]
    assert "> 原来的邮件内容" in mail.full_text
    assert "原来的邮件内容" not in mail.text
    assert mail.html == html


def test_alternative_prefers_plain_part(tmp_path: Path) -> None:
    raw = (
        b"From: a@example.cn\r\nSubject: alt\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain words\r\n"
        b"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html words</p>\r\n--b--\r\n"
    )
    mail = parse_mail(raw, AttachmentLimits(tmp_path))
    assert mail.text == "plain words"
    assert mail.html == "<p>html words</p>"


def test_attachments_are_stored_with_limits(tmp_path: Path) -> None:
    small = b"%PDF-1.4 invoice"
    big = b"x" * 2048
    raw = (
        b"From: a@example.cn\r\nSubject: files\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="m"\r\n\r\n'
        b"--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsee attached\r\n"
        b"--m\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=gbk''%B7%A2%C6%B1.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(small) + b"\r\n"
        b"--m\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="../../etc/big.bin"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(big) + b"\r\n--m--\r\n"
    )
    directory = tmp_path / "att"
    mail = parse_mail(raw, AttachmentLimits(directory, max_bytes=1024))

    assert mail.text == "see attached"
    invoice, oversized = mail.attachments
    assert invoice.filename == "发票.pdf" and invoice.size == len(small) and invoice.skipped is None
    assert Path(invoice.path).read_bytes() == small
    assert Path(invoice.path).is_relative_to(directory)
    assert oversized.path is None and oversized.skipped == "too_large" and oversized.size == 2048
    assert "/" not in oversized.filename
    # Parsing the same mail again (a resync) reuses the stored file.
    again = parse_mail(raw, AttachmentLimits(directory, max_bytes=1024))
    assert again.attachments[0].path == invoice.path


def test_total_attachment_limit(tmp_path: Path) -> None:
    parts = b"".join(
        b'--m\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename="%d.png"\r\n\r\n'
        % i
        + bytes([i]) * 600
        + b"\r\n"
        for i in range(3)
    )
    raw = (
        b'Subject: imgs\r\nContent-Type: multipart/mixed; boundary="m"\r\n\r\n'
        + parts
        + b"--m--\r\n"
    )
    mail = parse_mail(raw, AttachmentLimits(tmp_path, max_bytes=1000, max_total_bytes=1300))
    assert [a.skipped for a in mail.attachments] == [None, None, "total_too_large"]


def test_quoted_reply_and_signature_trimmed_but_kept(tmp_path: Path) -> None:
    body = (
        "好的，那我等你们发货。\r\n\r\n发自我的iPhone\r\n\r\n"
        "------------------ 原始邮件 ------------------\r\n"
        '发件人: "示例小店" <support@shop.example>\r\n'
        "主题: Re: 发货\r\n\r\n您的订单明天发货。\r\n"
    )
    raw = (
        "From: a@example.cn\r\nSubject: Re: 发货\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + body
    ).encode()
    mail = parse_mail(raw, AttachmentLimits(tmp_path))
    assert mail.text == "好的，那我等你们发货。"
    assert "您的订单明天发货" in mail.full_text


def test_gmail_style_quote_trimmed(tmp_path: Path) -> None:
    body = (
        "Thanks, the XL please.\n\n-- \nAnna\n\nOn Mon, 6 May 2024 at 10:00, Shop <support@shop.example> wrote:\n"
        "> Which size?\n"
    )
    raw = ("From: anna@example.com\r\nSubject: Re: size\r\n\r\n" + body).encode()
    assert parse_mail(raw, AttachmentLimits(tmp_path)).text == "Thanks, the XL please."
