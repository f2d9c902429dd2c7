"""SACoche's text cleaning of names and ENT ids (its `Clean` class), as the simulator applies
it when it stores people and when it matches the ENT's account file. Kept faithful down to the
quirks the real site shows:
- accents are removed through a Latin-1 table: every character outside Latin-1 (and every
  real "?") first becomes "?", and the table then turns "?" into "z" (`O’NEIL` → `OzNEIL`);
- names are cut to 25 characters by abbreviating words from the end (`Marie-Christine` →
  `M.-C.` until it fits), walking the UTF-8 bytes as the real code does;
- a first name in plain ASCII gets a capital after every non-letter (`o'neil` → `O'Neil`); one
  with other characters is title-cased the Unicode way, where a word goes on across an
  apostrophe (`o'neil héloïse` → `O'neil Héloïse`)."""
from __future__ import annotations

import re
import unicodedata

# SACoche's Latin-1 accent table, as its PHP builds it: characters outside Latin-1 in its list
# become "?", so "?" ends up mapped to the last of their replacements ("z").
_ACCENTED = "ÀÁÂÃÄÅàáâãäåÞþÇçÐðÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖØòóôõöøŔŕŠšßÙÚÛÜùúûüÝŸýÿŽž"
_PLAIN = "AAAAAAaaaaaaBbCcDdEEEEeeeeIIIIiiiiNnOOOOOOooooooRrSssUUUUuuuuYYyyZz"
ACCENT_TABLE: dict[str, str] = {}
for _from, _to in zip(_ACCENTED, _PLAIN):
    ACCENT_TABLE["?" if ord(_from) > 0xFF else _from] = _to
# Removed by SACoche's ctrl cleaning: C0 controls except tab, line feed and carriage return, and DEL.
CONTROL_CHARS = {chr(code) for code in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)}
PHP_TRIM = " \t\n\r\0\x0b"
WORD_BREAKS = b" -.'\"`&~,"
NAME_LENGTH = 25
ENT_ID_LENGTH = 63


def accents(text: str) -> str:
    return "".join(ACCENT_TABLE.get(ch if ord(ch) <= 0xFF else "?", ch if ord(ch) <= 0xFF else "?") for ch in text)


def ctrl(text: str) -> str:
    return "".join(ch for ch in text if ch not in CONTROL_CHARS)


def _cased(ch: str) -> bool:
    return ch.lower() != ch.upper() or unicodedata.category(ch) in ("Lu", "Ll", "Lt")


def _case_ignorable(ch: str) -> bool:
    return ch in "'.:^`\u00b7\u2018\u2019\u2024\u2027" or unicodedata.category(ch) in ("Mn", "Me", "Cf", "Lm", "Sk")


def title_case(text: str) -> str:
    """SACoche's perso_ucwords: PHP sees plain ASCII as not UTF-8 and upper-cases each letter
    that follows a non-letter; other text gets mb_convert_case(MB_CASE_TITLE)."""
    if all(ord(ch) < 0x80 for ch in text):
        lowered = text.lower()
        return "".join(ch.upper() if ch.isalpha() and (i == 0 or not lowered[i - 1].isalpha()) else ch
                       for i, ch in enumerate(lowered)).strip(PHP_TRIM)
    out, in_word = [], False
    for ch in text:
        out.append(ch.lower() if in_word else ch.title())
        if not _case_ignorable(ch):
            in_word = _cased(ch)
    return "".join(out)


def abbreviate(text: str, limit: int = NAME_LENGTH) -> str:
    """SACoche's cut of a long name: words shortened to "X." from the last one until it fits."""
    length = len(text)
    if length <= limit:
        return text
    data = text.encode("utf-8")[:length]   # the real code walks bytes up to the character count
    sections: list[bytes] = []
    previous = None
    for byte in data:
        is_break = byte in WORD_BREAKS
        if is_break is previous:
            sections[-1] += bytes([byte])
        else:
            sections.append(bytes([byte]))
            previous = is_break
    for index in range(len(sections) - 1, -1, -1):
        size = len(sections[index].decode("utf-8", errors="replace"))
        if size > 3:
            sections[index] = sections[index][:1] + b"."
            length = length - size + 2
            if length <= limit:
                break
    return b"".join(sections).decode("utf-8", errors="ignore")


def nom(text: str) -> str:
    return abbreviate(ctrl(text.strip(PHP_TRIM)).upper())


def prenom(text: str) -> str:
    return abbreviate(title_case(ctrl(text.strip(PHP_TRIM))))


def id_ent(text: str) -> str:
    return ctrl(text.strip(PHP_TRIM))[:ENT_ID_LENGTH]


# PHP 8's numeric strings: optional surrounding whitespace, a sign, digits with a decimal point,
# an exponent. Nothing else (no hexadecimal, no "inf").
NUMERIC = re.compile(r"[ \t\n\r\v\f]*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?[ \t\n\r\v\f]*")


def is_numeric(text: str) -> bool:
    return NUMERIC.fullmatch(text) is not None


def loosely_equal(left: str, right: str) -> bool:
    """PHP 8's `==` between two strings: numerically when both are numeric ("0123" == "123")."""
    if is_numeric(left) and is_numeric(right):
        return float(left) == float(right)
    return left == right
