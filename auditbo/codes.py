"""Validators for the national codes used everywhere in auditbo.

- Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from a
  31-character alphabet; characters 3–8 are the region code; the last one is a check
  character computed with weights 3^(i) mod 31.
- Region code (行政区划代码, GB/T 2260): 6 digits, the first two a province.
- Industry code (国民经济行业分类, GB/T 4754-2017): a section letter A–T, optionally
  followed by the 2-digit division (which must belong to the section) and up to two
  more digits (group, class).

Each ``check_*`` returns ``None`` when the value is valid, else a one-line English
reason; each ``is_*`` returns a bool.
"""

from __future__ import annotations

import re

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

PROVINCES: dict[str, tuple[str, str]] = {
    "11": ("北京市", "Beijing"), "12": ("天津市", "Tianjin"), "13": ("河北省", "Hebei"),
    "14": ("山西省", "Shanxi"), "15": ("内蒙古自治区", "Inner Mongolia"), "21": ("辽宁省", "Liaoning"),
    "22": ("吉林省", "Jilin"), "23": ("黑龙江省", "Heilongjiang"), "31": ("上海市", "Shanghai"),
    "32": ("江苏省", "Jiangsu"), "33": ("浙江省", "Zhejiang"), "34": ("安徽省", "Anhui"),
    "35": ("福建省", "Fujian"), "36": ("江西省", "Jiangxi"), "37": ("山东省", "Shandong"),
    "41": ("河南省", "Henan"), "42": ("湖北省", "Hubei"), "43": ("湖南省", "Hunan"),
    "44": ("广东省", "Guangdong"), "45": ("广西壮族自治区", "Guangxi"), "46": ("海南省", "Hainan"),
    "50": ("重庆市", "Chongqing"), "51": ("四川省", "Sichuan"), "52": ("贵州省", "Guizhou"),
    "53": ("云南省", "Yunnan"), "54": ("西藏自治区", "Tibet"), "61": ("陕西省", "Shaanxi"),
    "62": ("甘肃省", "Gansu"), "63": ("青海省", "Qinghai"), "64": ("宁夏回族自治区", "Ningxia"),
    "65": ("新疆维吾尔自治区", "Xinjiang"), "71": ("台湾省", "Taiwan"),
    "81": ("香港特别行政区", "Hong Kong"), "82": ("澳门特别行政区", "Macao"),
}

# GB/T 4754-2017: section -> (first division, last division)
INDUSTRY_SECTIONS: dict[str, tuple[int, int, str, str]] = {
    "A": (1, 5, "农、林、牧、渔业", "Agriculture, forestry, animal husbandry and fishery"),
    "B": (6, 12, "采矿业", "Mining"),
    "C": (13, 43, "制造业", "Manufacturing"),
    "D": (44, 46, "电力、热力、燃气及水生产和供应业", "Electricity, heat, gas and water"),
    "E": (47, 50, "建筑业", "Construction"),
    "F": (51, 52, "批发和零售业", "Wholesale and retail"),
    "G": (53, 60, "交通运输、仓储和邮政业", "Transport, storage and post"),
    "H": (61, 62, "住宿和餐饮业", "Accommodation and catering"),
    "I": (63, 65, "信息传输、软件和信息技术服务业", "Information transmission, software and IT services"),
    "J": (66, 69, "金融业", "Finance"),
    "K": (70, 70, "房地产业", "Real estate"),
    "L": (71, 72, "租赁和商务服务业", "Leasing and business services"),
    "M": (73, 75, "科学研究和技术服务业", "Scientific research and technical services"),
    "N": (76, 79, "水利、环境和公共设施管理业", "Water, environment and public facilities"),
    "O": (80, 82, "居民服务、修理和其他服务业", "Resident, repair and other services"),
    "P": (83, 83, "教育", "Education"),
    "Q": (84, 85, "卫生和社会工作", "Health and social work"),
    "R": (86, 90, "文化、体育和娱乐业", "Culture, sports and entertainment"),
    "S": (91, 96, "公共管理、社会保障和社会组织", "Public administration and social organisations"),
    "T": (97, 97, "国际组织", "International organisations"),
}

_REGION_RE = re.compile(r"\A[0-9]{6}\Z")
_INDUSTRY_RE = re.compile(r"\A([A-T])([0-9]{2}([0-9]{1,2})?)?\Z")


def credit_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters."""
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def check_credit_code(value: object) -> str | None:
    if not isinstance(value, str):
        return "must be a string of 18 characters"
    if len(value) != 18:
        return f"must be 18 characters, got {len(value)}"
    bad = sorted({c for c in value if c not in CREDIT_ALPHABET})
    if bad:
        return f"contains characters not allowed in a credit code: {''.join(bad)}"
    if check_region_code(value[2:8]) is not None:
        return "characters 3-8 are not a valid region code"
    expected = credit_check_char(value[:17])
    if value[17] != expected:
        return f"check character is {value[17]}, expected {expected}"
    return None


def check_region_code(value: object) -> str | None:
    if not isinstance(value, str) or not _REGION_RE.match(value):
        return "must be 6 digits"
    if value[:2] not in PROVINCES:
        return f"{value[:2]} is not a province code"
    return None


def check_industry_code(value: object) -> str | None:
    if not isinstance(value, str):
        return "must be a section letter A-T optionally followed by 2-4 digits"
    m = _INDUSTRY_RE.match(value)
    if not m:
        return "must be a section letter A-T optionally followed by 2-4 digits"
    if m.group(2):
        first, last, _, _ = INDUSTRY_SECTIONS[m.group(1)]
        division = int(value[1:3])
        if not first <= division <= last:
            return f"division {value[1:3]} does not belong to section {m.group(1)}"
    return None


def is_credit_code(value: object) -> bool:
    return check_credit_code(value) is None


def is_region_code(value: object) -> bool:
    return check_region_code(value) is None


def is_industry_code(value: object) -> bool:
    return check_industry_code(value) is None


def province_of(region_code: str) -> str:
    return region_code[:2]


def make_credit_code(region_code: str, serial: str, prefix: str = "91") -> str:
    """Build a valid credit code (for demo data and tests): prefix + region + 9-char id + check."""
    first17 = f"{prefix}{region_code}{serial}"
    if len(first17) != 17 or any(c not in CREDIT_ALPHABET for c in first17):
        raise ValueError("prefix(2) + region(6) + serial(9) characters from the credit alphabet")
    return first17 + credit_check_char(first17)
