"""Money amounts: a plain decimal with two places, and the currency the value names.

    "1,200,000" -> 1200000.00;  "120万" -> 1200000.00;  "¥35,000.00" -> 35000.00 CNY;  "3.5亿" -> 350000000.00;
    "USD 1,200" / "$1,200" / "1200美元" -> 1200.00 USD;  "1.2k" -> 1200.00;  "120w" -> 1200000.00;
    "1.2M" -> 1200000.00 (million)
    "伍仟玖佰元整" -> 5900.00;  "人民币叁拾伍万元整" -> 350000.00 CNY;  "壹仟零伍拾元伍角" -> 1050.50;
    "十二万五千" -> 125000.00;  "三千五" -> 3500.00 (a bare last digit counts in the unit below)
    "约50万" / "50万左右" / "100万以上" / "120万+" / "5万余元" -> the number, noted "approximate amount: 约 dropped"
    "10-20万" / "三到五万" -> invalid: a range, not an amount

Chinese numerals, financial (大写: 壹贰叁, 拾佰仟) or common (一二三, 十百千), are read section by section:
亿, then 万, then the units below, with 零 for a skipped unit, then 元 (圆, 块), 角 (毛) and 分, and 整 or 正 at
the end. A string that does not follow that grammar (三五万, 千百元, 万) stays "not an amount".
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from crm_migrate.cleaners.base import CleanContext, Cleaned
from crm_migrate.cleaners.text import ascii_width, tidy

# Longest first, so that 美元 is read as USD before 元 is read as CNY. A word ending in 元 leaves 元 behind
# as the mark between yuan and jiao (壹仟元伍角); 块 and 圆 are 元 too.
CURRENCIES = sorted(
    [
        ("人民币", "CNY"),
        ("rmb", "CNY"),
        ("cny", "CNY"),
        ("¥", "CNY"),
        ("￥", "CNY"),
        ("元", "CNY"),
        ("圆", "CNY"),
        ("块钱", "CNY"),
        ("块", "CNY"),
        ("hk$", "HKD"),
        ("hkd", "HKD"),
        ("港币", "HKD"),
        ("港元", "HKD"),
        ("us$", "USD"),
        ("usd", "USD"),
        ("美元", "USD"),
        ("美金", "USD"),
        ("$", "USD"),
        ("eur", "EUR"),
        ("euro", "EUR"),
        ("€", "EUR"),
        ("欧元", "EUR"),
        ("jpy", "JPY"),
        ("日元", "JPY"),
    ],
    key=lambda c: -len(c[0]),
)
MULTIPLIERS = {
    "万": Decimal(10_000),
    "亿": Decimal(100_000_000),
    "千": Decimal(1_000),
    "百": Decimal(100),
    "k": Decimal(1_000),
    "w": Decimal(10_000),
    "m": Decimal(1_000_000),
    "b": Decimal(1_000_000_000),
}
_WORD_MULTIPLIERS = [("thousand", "k"), ("million", "m"), ("mn", "m"), ("billion", "b"), ("bn", "b")]

# Words that make an amount approximate or a bound: dropped, with a note naming them.
APPROX_BEFORE = sorted(
    """大约 约合 约为 约计 大概 大致 差不多 将近 接近 约 近 超过 超出 多于 高于 不少于 不低于 至少 最少 最多
最高 高达 逾 超 不到 不足 少于 低于 不超过 预计 预估 估计 ~ ≈""".split(),
    key=len,
    reverse=True,
)
APPROX_AFTER = sorted("左右 上下 以上 以下 以内 之内 之上 之下 出头 开外 起 多 余 +".split(), key=len, reverse=True)
_NUMERAL = "0-9零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟萬億"
_APPROX_INSIDE = re.compile(rf"(?<=[{_NUMERAL}])(多|余|来)(?=[万亿千百萬億kwm元])")
_RANGE = re.compile(r"(?<=.)(-|~|—|–|〜|至|到)")

DIGITS = {
    c: i
    for i, chars in enumerate(
        ["零〇0", "一壹1", "二贰两2", "三叁3", "四肆4", "五伍5", "六陆6", "七柒7", "八捌8", "九玖9"]
    )
    for c in chars
}
SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
BIG_UNITS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
_CHINESE_NUMERALS = re.compile(r"[零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟萬億角毛分]")
NOT_AN_AMOUNT, A_RANGE = "not an amount", "a range, not an amount"


def chinese_integer(text: str) -> int | None:
    """一百二十万 -> 1200000, 伍仟玖佰 -> 5900, 十二万五千 -> 125000, 三千五 -> 3500, 12万5千 -> 125000; None when
    the text is not a Chinese number (三五, 千百, 万)."""
    if not text:
        return None
    total = section = 0
    digit: int | None = None
    small: int | None = None  # the last unit below 万 in this section: units must fall
    big: int | None = None  # the last 万 or 亿: they must fall too
    last: int | None = None  # the last unit of any kind, for a bare last digit (三千五)
    zero = False
    for run in re.findall(r"\d+|.", text):
        if run.isdigit() and len(run) > 18:
            return None
        if run.isdigit() and len(run) > 1 or run in DIGITS:
            if digit is not None:
                return None  # two digits in a row: 三五
            value = int(run) if run.isdigit() else DIGITS[run]
            if value == 0 and not run.isdigit() or run == "0":
                zero = True
            else:
                digit = value
        elif run in SMALL_UNITS:
            unit = SMALL_UNITS[run]
            if digit is None:
                if unit != 10 or (section and not zero):
                    return None  # 千百; a leading 十 is 一十
                digit = 1
            if small is not None and unit >= small:
                return None
            section, digit, small, last, zero = section + digit * unit, None, unit, unit, False
        elif run in BIG_UNITS:
            unit = BIG_UNITS[run]
            section += digit or 0
            if not section or (big is not None and unit >= big):
                return None
            total, section, digit, small, big, last, zero = total + section * unit, 0, None, None, unit, unit, False
        else:
            return None
    if digit is not None:
        section += digit if zero or last is None else digit * (last // 10)
    return total + section


def chinese_amount(text: str) -> Decimal | None:
    """壹仟零伍拾元伍角 -> 1050.5, 贰万元整 -> 20000; ``text`` has its currency words taken out but its 元."""
    text = re.sub(r"[整正]$", "", text)
    if "元" not in text and re.search(r"[角毛分]$", text):
        yuan, after = "", text  # 伍角 alone
    elif (m := re.fullmatch(r"(?P<yuan>[^元角毛分]+)(?:元(?P<after>.*))?", text)) is not None:
        yuan, after = m["yuan"], m["after"] or ""
    else:
        return None
    fraction = Decimal(0)
    if after:
        f = re.fullmatch(r"零?(?:(?P<jiao>.)[角毛])?零?(?:(?P<fen>.)分?)?", after)
        if f is None or (f["jiao"] is None and f["fen"] is None):
            return None
        jiao, fen = f["jiao"], f["fen"]
        if f["jiao"] is None and not after.endswith("分") and not after.startswith("零"):
            jiao, fen = fen, None  # 三块五: a bare digit after 元 is jiao
        for digit, share in ((jiao, Decimal("0.1")), (fen, Decimal("0.01"))):
            if digit is not None:
                if digit not in DIGITS:
                    return None
                fraction += DIGITS[digit] * share
    integer = chinese_integer(yuan) if yuan else 0
    return None if integer is None else integer + fraction


def _decimal(core: str) -> Decimal | None:
    """1,200 / 12.5万 / 1.2k / 3百万 as a number (commas and spaces already gone)."""
    core = core.removesuffix("元")
    factor = Decimal(1)
    while core and core[-1] in MULTIPLIERS:
        factor, core = factor * MULTIPLIERS[core[-1]], core[:-1]
    try:
        amount = Decimal(core) * factor
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _amount(core: str) -> tuple[Decimal, bool] | None:
    """The amount and whether it was written in Chinese numerals."""
    if (amount := _decimal(core)) is not None:
        return amount, False
    if _CHINESE_NUMERALS.search(core) and (amount := chinese_amount(core)) is not None:
        return Decimal(amount), True
    return None


def _range(core: str) -> bool:
    """10-20万, 5万~8万, 三到五万: two amounts, the first no larger than the second (unit of the second
    shared when the first has none)."""
    m = _RANGE.search(core)
    if m is None:
        return False
    low, high = core[: m.start()], core[m.end() :]
    units = re.search(r"[万亿千百kwmb]+元?$", high)
    if units and low and low[-1] not in MULTIPLIERS:
        low += units.group()
    a, b = _amount(low), _amount(high)
    return a is not None and b is not None and a[0] <= b[0]


def _approximations(core: str) -> tuple[str, list[str]]:
    dropped: list[str] = []
    for word in APPROX_BEFORE:
        if core.startswith(word) and len(core) > len(word):
            core, dropped = core[len(word) :], dropped + [word]
            break
    for word in APPROX_AFTER:
        if core.endswith(word) and len(core) > len(word):
            core, dropped = core[: -len(word)], dropped + [word]
            break
    if m := _APPROX_INSIDE.search(core):
        core, dropped = core[: m.start()] + core[m.end() :], dropped + [m[1]]
    return core, dropped


def clean_money(raw: str, ctx: CleanContext) -> Cleaned:
    text = ascii_width(tidy(raw))
    if not text:
        return Cleaned(None)
    core = text.lower().replace(",", "").replace(" ", "")
    for word, letter in _WORD_MULTIPLIERS:
        core = re.sub(rf"(?<=\d){word}(?![a-z])", letter, core)
    currency = None
    for sign, code in CURRENCIES:
        if sign in core:
            currency = currency or code
            core = core.replace(sign, "元" if sign[-1] in "元圆块钱" else "")
    core = re.sub(r"元+", "元", core)
    if core.endswith("元整") or core.endswith("元正"):
        core = core[:-1]
    core, dropped = _approximations(core)
    found = _amount(core)
    if found is None:
        return Cleaned(text, None, A_RANGE if _range(core) else NOT_AN_AMOUNT)
    amount, chinese = found
    if abs(amount) >= Decimal(10) ** 18:
        return Cleaned(text, None, NOT_AN_AMOUNT)
    value = format(amount.quantize(Decimal("0.01")), "f")
    notes = []
    if dropped:
        notes.append(f"approximate amount: {', '.join(dropped)} dropped")
    if chinese:
        notes.append("Chinese numerals read")
    if value != text:
        notes.append("written as a plain decimal")
    return Cleaned(value, value, None, tuple(notes), (("currency", currency),))
