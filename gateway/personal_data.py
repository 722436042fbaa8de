"""Customers' personal data out of text that leaves the machine (a hosted language model) or goes
into a log: phone numbers, e-mail addresses, ID-card numbers and postal addresses become
placeholders such as [PHONE].

Recognised by shape, so it errs on the side of masking: a mainland mobile number (with or without
+86 and separators), a landline with its area code, an 18-digit resident ID, an e-mail, and an
address from a province or city down to a house, building or room number (or an English street
address). Order numbers and prices are left alone: they are what a customer asks about.
"""

from __future__ import annotations

import re

PLACEHOLDERS = ("[PHONE]", "[EMAIL]", "[ID]", "[ADDRESS]")

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_ID_CARD = re.compile(r"(?<![0-9])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])(?:(?:\+|00)?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])(?:\(0\d{2,3}\)|0\d{2,3}-)\s?\d{7,8}(?:-\d{1,5})?(?![0-9])")

_HAN = "\u4e00-\u9fff"
# a place name's character: not a word that only leads up to one ("地址是", "寄到", "我在")
_PLACE = rf"(?:(?![是在到的址寄送往发收我你您他她和与或从给])[{_HAN}])"
_REGION = rf"{_PLACE}{{1,10}}?(?:省|自治区|特别行政区|市|州|盟|区|县|旗|镇|乡|街道)"
_STREET = rf"(?:{_PLACE}|[0-9A-Za-z]){{1,16}}?(?:路|街|大道|道|巷|弄|胡同|村|小区|大厦|花园|公寓|苑|广场|园区)"
_NUMBER = rf"[{_HAN}A-Za-z]{{0,6}}?[0-9０-９一二三四五六七八九十百零A-Za-z-]{{1,6}}\s?(?:号院|号楼|号|弄|栋|幢|座|单元|室|楼|层|户|门)"
_ADDRESS_ZH = re.compile(rf"(?:{_REGION}){{0,4}}{_STREET}(?:{_NUMBER})+|(?:{_REGION}){{2,4}}(?:{_NUMBER})+")
_ADDRESS_EN = re.compile(
    r"\b\d{1,5}\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Boulevard|Blvd|Drive|Dr|Way|Court|Ct)\b\.?"
    r"(?:,?\s*(?:Apt|Suite|Unit|#)\s*[\w-]+)?")


def mask_personal_data(text: str) -> str:
    """`text` with phone numbers, e-mails, ID-card numbers and addresses replaced by placeholders."""
    if not text:
        return text
    text = _EMAIL.sub("[EMAIL]", text)
    text = _ID_CARD.sub("[ID]", text)
    text = _MOBILE.sub("[PHONE]", text)
    text = _LANDLINE.sub("[PHONE]", text)
    text = _ADDRESS_ZH.sub("[ADDRESS]", text)
    return _ADDRESS_EN.sub("[ADDRESS]", text)
