"""Anonymising text for the public (典型案例): what no published case may carry.

Pure. Removes mainland mobile and landline numbers, ID card numbers, house numbers and exact
addresses (号/室/栋/单元/楼/门牌), e-mail addresses, and the names the caller knows (the citizen's,
unsealed by the caller); forms of address (张先生, 李女士, 王大爷…) become 某先生, 某女士….
"""

from __future__ import annotations

import re

MASK = "某"
PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[- ]?\d{7,8}(?!\d)")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
DIGITS = r"[0-9０-９一二三四五六七八九十百零〇两]+"
# 12号楼, 3单元, 502室, 7栋, 16号, 4层, 甲1号: a house number of any form, and the "路/街/巷 + number".
HOUSE = re.compile(
    rf"[甲乙丙丁]?{DIGITS}\s*(?:号楼|号院|号|室|栋|幢|单元|层|楼|户|门)(?:{DIGITS}\s*(?:室|号|户))?"
)
ANY_NUMBER = re.compile(r"(?<!\d)\d{3,}(?!\d)")
# Service lines a case may name: not anybody's number.
PUBLIC_NUMBERS = frozenset({"110", "119", "120", "122", "12345", "12315", "12333", "12348", "12369", "95598"})
ADDRESS_FORMS = re.compile(r"([\u4e00-\u9fa5])(?=(?:先生|女士|大爷|大妈|大娘|阿姨|师傅|老师|同志))")


def scrub(text: str | None, names: list[str] | tuple[str, ...] = ()) -> str:
    """The text with personal data taken out; ``names`` are replaced wherever they appear (and
    their given name after a surname, 张三 → 某某, 张先生 → 某先生)."""
    if not text:
        return ""
    out = text
    for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
        out = out.replace(name, MASK * 2)
        if len(name) >= 2:
            out = re.sub(rf"{re.escape(name[0])}(?=(?:先生|女士|大爷|大妈|大娘|阿姨|师傅))", MASK, out)
    out = EMAIL.sub("[已隐去]", out)
    out = ID_NUMBER.sub("[已隐去]", out)
    out = PHONE.sub("[已隐去]", out)
    out = LANDLINE.sub("[已隐去]", out)
    out = HOUSE.sub("", out)
    out = ANY_NUMBER.sub(lambda m: m.group(0) if m.group(0) in PUBLIC_NUMBERS else "", out)
    out = ADDRESS_FORMS.sub(MASK, out)
    return re.sub(r"\s{2,}", " ", out).strip()


def leaks(text: str, names: list[str] | tuple[str, ...] = ()) -> list[str]:
    """What in ``text`` still looks like personal data (the public cases' own check, and the tests')."""
    found = [m.group(0) for rx in (PHONE, LANDLINE, ID_NUMBER, EMAIL, HOUSE) for m in rx.finditer(text)]
    return found + [n for n in names if n and n in text]
