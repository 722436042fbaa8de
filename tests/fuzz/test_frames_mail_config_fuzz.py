"""Hostile widget frames, e-mail and config files: an error for the sender, never a crash."""

from __future__ import annotations

import json
import tracemalloc
from email.message import EmailMessage
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from csgw.config.errors import ConfigError
from csgw.config.loader import load_settings, settings_from_dict
from csgw.plugins.email.parse import AttachmentLimits, parse_mail
from csgw.plugins.webchat.frames import FrameError, parse_frame
from tests.fuzz.strategies import FUZZ, objects

FRAME_KEYS = ["type", "client_id", "text", "after", "score", "comment"]
frames = (objects(FRAME_KEYS).map(json.dumps)
          | st.builds(lambda kind, rest: json.dumps({"type": kind, **rest}),
                      st.sampled_from(["message", "resume", "typing", "survey", "x"]), objects(FRAME_KEYS))
          | st.text(max_size=100) | st.sampled_from(["[" * 5000, '{"a":' * 5000, "null", "1e999"]))


@FUZZ
@given(frames)
def test_widget_frames_parse_or_get_an_error_frame(raw: str) -> None:
    try:
        parse_frame(raw, max_text=4000)
    except FrameError as error:
        assert error.frame()["type"] == "error" and error.code


HEADERS = ["From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
           "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "MIME-Version"]
header_values = st.text(max_size=60) | st.sampled_from([
    "=?utf-8?b?5L2g5aW9?=", "=?gb2312?q?=C4=E3?=", "=?bogus?x?zz?=", "multipart/mixed; boundary=b",
    "multipart/alternative; boundary=b", "text/plain; charset=x-unknown", "base64", "quoted-printable",
    "attachment; filename=\"../../etc/passwd\"", "Mon, 32 Foo 99999 99:99:99 +9999", "<a@b> <c@d>"])


@st.composite
def mails(draw) -> bytes:
    headers = draw(st.lists(st.tuples(st.sampled_from(HEADERS), header_values), max_size=10))
    head = "".join(f"{name}: {value.replace(chr(10), ' ').replace(chr(13), ' ')}\r\n" for name, value in headers)
    body = draw(st.text(max_size=200) | st.sampled_from(["--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--",
                                                          "--b\r\n\r\n--b\r\n--b--", "=ZZ=\r\n", "!!!!"]))
    return (head + "\r\n" + body).encode("utf-8", "surrogatepass")


@FUZZ
@given(mails() | st.binary(max_size=300))
def test_mail_always_parses(tmp_path_factory, raw: bytes) -> None:
    directory = tmp_path_factory.mktemp("att")
    mail = parse_mail(raw, AttachmentLimits(directory, max_bytes=1024, max_total_bytes=2048))
    assert isinstance(mail.text, str) and mail.message_id
    for attachment in mail.attachments:  # a hostile file name never escapes the attachment folder
        assert attachment.path is None or Path(attachment.path).resolve().is_relative_to(directory.resolve())


def test_mail_memory_is_bounded_by_the_message(tmp_path) -> None:
    message = EmailMessage()
    message["From"], message["Subject"] = "a@example.com", "big"
    message.set_content("正文 " * 1000)
    for n in range(20):
        message.add_attachment(b"\0" * 200_000, maintype="application", subtype="octet-stream",
                               filename=f"f{n}.bin")
    raw = message.as_bytes()
    tracemalloc.start()
    try:
        mail = parse_mail(raw, AttachmentLimits(tmp_path, max_bytes=100_000, max_total_bytes=300_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert all(a.skipped for a in mail.attachments)  # over the limits: kept out of the disk
    assert peak < 12 * len(raw), (peak, len(raw))


SECTIONS = ["server", "database", "logging", "channels", "plugins", "reply", "assignment", "escalation",
            "health"]


@FUZZ
@given(objects(SECTIONS) | st.dictionaries(st.sampled_from(SECTIONS), objects(["host", "port", "url", "level",
                                                                              "plugin", "account"])))
def test_config_dicts_validate_or_name_the_problem(raw: dict) -> None:
    try:
        settings_from_dict(raw, "fuzz.toml", base_dir=Path("/tmp"), env={})
    except ConfigError as error:
        assert error.lines and all(line.startswith("fuzz.toml: ") for line in error.lines)


@FUZZ
@given(st.text(max_size=200) | st.sampled_from(['[server]\nport = "x"', "[[channels]]\nplugin = 1",
                                                 'a = "${NOPE}"', "[server\n", "x = 1e9999"]))
def test_config_files_load_or_name_the_problem(tmp_path_factory, text: str) -> None:
    path = tmp_path_factory.mktemp("cfg") / "csgw.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_settings(path, env={})
    except ConfigError as error:
        assert error.lines


