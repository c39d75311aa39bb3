"""Chinese addresses: province, city and district recognised and written in full standard form.

    广东深圳南山区科技园        -> 广东省深圳市南山区科技园  (province 广东省, city 深圳市, district 南山区, code 440305)
    深圳南山科技园              -> the province is inferred from the city
    廣東省深圳市南山區科技園    -> read through traditional -> simplified
    朝阳区建国路88号            -> left as written and flagged: 朝阳区 is in 北京市 and in 长春市, unless the
                                   row's phone area code says which (see `resolve_with_phone`)
    Shanghai, Shenzhen Guangdong -> 上海市, 广东省深圳市 (a city in pinyin, as sign-up forms hold it)

    成都新津县五津镇            -> 四川省成都市新津区五津镇, noted "renamed division: 新津县 -> 新津区 (2020)"
    北京市崇文区, 上海闸北区    -> 北京市东城区, 上海市静安区 (districts merged away, read as the one they joined)
    滨江北路, 黄浦江路, 南京东路 -> no division: a road named after a place, not the place

Names come from the official division table (see `divisions`); each level is matched at the start of what
is left, longest name first, among the children of the level above when that is known. A former name (see
`divisions`' history) is read as today's unit where no current name is, except where today's short name
reads better (番禺市桥街道 is 番禺 + 市桥街道, not 番禺市 + 桥街道). A short name (suffix dropped) does not
match where a road begins: right after it (中山路, 南山大道, 海淀街) or after one character (滨江北路, 黄浦江路,
延安西路, 滨江1路), unless what follows is one of the unit's own counties or townships (台州路桥区, 东莞道滘镇,
南海里水镇). A short name that begins one of the unit's townships (深圳南山街道) is the unit, and the township
keeps its whole name in the detail.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import polars as pl

from crm_migrate.cleaners.base import CleanContext, Cleaned, fast_path
from crm_migrate.cleaners.divisions import CITY_SUFFIXES, COUNTY_SUFFIXES, Division, divisions, short_name
from crm_migrate.cleaners.text import hygiene, plain_chinese, simplified

# What begins a road: its suffix right away, or after one character (北路, 江路, 1路); 道, 号 and 里 only right away.
_ROAD = re.compile(r"(?:\d{1,3}|[\u4e00-\u9fff])?(?:路|大道|大街|街|巷|弄|胡同)|道|号|里")
MUNICIPALITIES = {"110000", "120000", "310000", "500000"}
_COUNTRY = re.compile(r"^(中华人民共和国|中国)")


@dataclass(frozen=True)
class AddressParts:
    province: Division | None = None
    city: Division | None = None
    county: Division | None = None
    detail: str = ""
    candidates: tuple[Division, ...] = ()  # an ambiguous county: every unit it could be
    renamed: tuple[str, ...] = ()  # a note for each former name read as today's

    @property
    def code(self) -> str | None:
        unit = self.county or self.city or self.province
        return unit.code if unit else None

    def standard(self) -> str:
        names = [d.name for d in (self.province, self.city, self.county) if d is not None]
        if self.province and self.city and self.province.name == self.city.name:
            names = names[1:]
        return "".join(names) + self.detail


@lru_cache(maxsize=3)
def _longest(level: int) -> dict[str, int]:
    """For each first two characters of a name of ``level``, current or former, the length of the longest."""
    out: dict[str, int] = {}
    for name in (*divisions().names[level], *divisions().renamed[level]):
        out[name[:2]] = max(out.get(name[:2], 0), len(name))
    return out


@dataclass(frozen=True)
class _Found:
    head: str  # the name as written
    units: tuple[Division, ...]
    taken: int  # characters read: 0 where the name begins one of the unit's townships (南山街道)
    renamed: tuple[str, ...] = ()


def _subdivision_follows(rest: str, units) -> bool:
    return any(rest.startswith(n) for d in units for n in divisions().child_names(d))


def _begins_own_township(text: str, head: str, units) -> bool:
    return any(
        len(n) > len(head) and n.startswith(head) and text.startswith(n)
        for d in units
        for n in divisions().child_names(d)
    )


def _today_reads_better(text: str, r) -> bool:
    """番禺市桥街道: today's short name 番禺 followed by its township 市桥街道, not the former 番禺市."""
    today = short_name(r.unit.name, COUNTY_SUFFIXES if r.unit.level == 3 else CITY_SUFFIXES)
    return bool(today and r.old_name.startswith(today) and _subdivision_follows(text[len(today) :], [r.unit]))


def _match(text: str, level: int, allowed) -> _Found | None:
    """The longest name of ``level`` at the start of ``text`` whose units pass ``allowed``."""
    longest = _longest(level).get(text[:2])
    if longest is None:
        return None
    names, former = divisions().names[level], divisions().renamed[level]
    for length in range(min(len(text), longest), 1, -1):
        head, rest = text[:length], text[length:]
        units = [d for d in names.get(head, ()) if allowed(d)]
        if units:
            if all(d.name != head for d in units):  # a short name
                if _begins_own_township(text, head, units):
                    return _Found(head, tuple(units), 0)
                if _ROAD.match(rest) and not _subdivision_follows(rest, units):
                    continue
            return _Found(head, tuple(units), length)
        renames = [r for r in former.get(head, ()) if allowed(r.unit) and not _today_reads_better(text, r)]
        if renames:
            units = list(dict.fromkeys(r.unit for r in renames))
            notes = tuple(divisions().rename_note(r) for r in renames) if len(units) == 1 else ()
            return _Found(head, tuple(units), length, notes)
    return None


def parse_address(text: str) -> AddressParts:
    s = _COUNTRY.sub("", re.sub(r"\s+", "", simplified(unicodedata.normalize("NFKC", text))))
    pos = 0
    province = city = county = None
    renamed: list[str] = []
    found = _match(s, 1, lambda d: True)
    if found:
        province, pos = found.units[0], found.taken
        renamed += found.renamed
    if province is None or province.code not in MUNICIPALITIES:
        parent = province.code if province else None
        found = _match(s[pos:], 2, lambda d: parent is None or d.parent == parent)
        longer = _match(s[pos:], 3, lambda d: parent is None or d.code[:2] == parent[:2])
        if found and longer and len(longer.head) > len(found.head):
            found = None  # 朝阳区 is a district, not the city 朝阳(市) followed by 区
        if found is not None and len(found.units) == 1:
            city, pos = found.units[0], pos + found.taken
            province = province or divisions().by_code.get(city.parent)
            renamed += found.renamed
    elif s[pos:].startswith(province.name):
        pos += len(province.name)  # 北京市北京市朝阳区
    if city is not None:
        city_code = city.code
        scope = lambda d: d.parent == city_code
    elif province is not None:
        province_code = province.code
        scope = lambda d: d.code[:2] == province_code[:2]
    else:
        scope = lambda d: True
    found = _match(s[pos:], 3, scope)
    candidates: tuple[Division, ...] = ()
    if found:
        if len(found.units) == 1:
            county, pos = found.units[0], pos + found.taken
            p, c, _ = divisions().path(county)
            province, city = province or p, city or c
            renamed += found.renamed
        else:
            candidates = found.units
    if province is not None and province.code in MUNICIPALITIES and city is None:
        city = province
    return AddressParts(province, city, county, s[pos:] if not candidates else s, candidates, tuple(renamed))


def resolve(parts: AddressParts, region_text: str) -> AddressParts:
    """Settle an ambiguous county with a region named elsewhere on the row (a phone's area, a city field)."""
    hits = []
    for d in parts.candidates:
        p, c, _ = divisions().path(d)
        if (c and c.name.removesuffix("市") in region_text) or (c is None and p and p.name[:2] in region_text):
            hits.append(d)
    if len(hits) != 1:
        return parts
    county = hits[0]
    p, c, _ = divisions().path(county)
    renamed: tuple[str, ...] = ()
    rest = parts.detail
    for alias in (county.name, *(a for a, units in divisions().names[3].items() if county in units)):
        if rest.startswith(alias):
            rest = rest[len(alias) :]
            break
    else:
        for r in (
            divisions()
            .renamed[3]
            .get(next((o for o in divisions().former_names(county) if rest.startswith(o)), ""), ())
        ):
            if r.unit == county:
                rest, renamed = rest[len(r.old_name) :], (divisions().rename_note(r),)
                break
    return AddressParts(p, c or p, county, rest, (), renamed)


def _cleaned(parts: AddressParts, value: str, notes: list[str]) -> Cleaned:
    if parts.candidates:
        where = " or ".join(f"{(divisions().path(d)[1] or divisions().path(d)[0] or d).name}" for d in parts.candidates)
        notes.append("ambiguous district left unresolved")
        return Cleaned(
            value,
            None,
            None,
            tuple(notes),
            (("candidates", "|".join(d.code for d in parts.candidates)), ("ambiguity", where)),
        )
    if parts.province is None:
        notes.append("no division recognised")
        return Cleaned(value, simplified(value).lower(), None, tuple(notes))
    standard = parts.standard()
    if standard != value:
        notes.append("divisions written in full")
    notes += parts.renamed
    attrs = (
        ("province", parts.province.name if parts.province else None),
        ("city", parts.city.name if parts.city else None),
        ("district", parts.county.name if parts.county else None),
        ("detail", parts.detail or None),
        ("code", parts.code),
    )
    return Cleaned(standard, standard, None, tuple(notes), attrs)


AMBIGUOUS_PLACE = "\x00ambiguous"
_PINYIN_NOISE = {"city", "shi", "province", "sheng", "china", "prc", "district", "municipality", "pr"}


def parse_pinyin_place(value: str) -> AddressParts | None:
    """A place written in pinyin or English (Shanghai, Shenzhen Guangdong, Hong Kong): the one division it
    names, or None. Only a province or prefecture whose pinyin no other one shares is taken."""
    from crm_migrate.cleaners.company_words import _regions_latin, fold_latin

    if not re.fullmatch(r"[A-Za-z][A-Za-z .,'\-]*", value):
        return None
    tokens = [t for t in re.split(r"[\s,.]+", value.lower()) if t and t not in _PINYIN_NOISE]
    regions = _regions_latin()
    found: list[Division | None] = []  # None: a name that is no division after all
    i = 0
    while i < len(tokens):
        for n in (2, 1):
            latin = fold_latin("".join(tokens[i : i + n]))
            if i + n <= len(tokens) and latin in regions:
                name = regions[latin][1]
                if name is None:
                    return AddressParts(candidates=(), detail=AMBIGUOUS_PLACE)
                found.append(divisions().is_region(name))
                i += n
                break
        else:
            return None
    units = [d for d in found if d is not None]
    if not units:
        return None
    finest = max(units, key=lambda d: d.level)
    province, city, _ = divisions().path(finest)
    if any(d.code[:2] != finest.code[:2] for d in units):
        return None  # two places that do not nest
    if province is not None and province.code in MUNICIPALITIES:
        city = province
    return AddressParts(province, city, None, "")


def clean_address(raw: str, ctx: CleanContext) -> Cleaned:
    value, notes = hygiene(raw, ctx)
    value = value.replace("\n", " ")
    if not value:
        return Cleaned(None)
    if value.isascii() and (parts := parse_pinyin_place(value)) is not None:
        if parts.detail == AMBIGUOUS_PLACE:  # Suzhou: 苏州 or 宿州; only a city, but which is unknown
            return Cleaned(
                value,
                simplified(value).lower(),
                None,
                tuple(notes + ["place in pinyin names several cities"]),
                (("coarse", "yes"),),
            )
        return _cleaned(parts, value, notes + ["place in pinyin written in Chinese"])
    return _cleaned(parse_address(value), value, notes)


@lru_cache(maxsize=4096)
def phone_region(e164: str) -> str:
    """Where a Chinese landline's area code is (广东省深圳市), from phonenumbers' offline geocoder."""
    import phonenumbers
    from phonenumbers import geocoder

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ""
    return geocoder.description_for_number(number, "zh") if number.country_code == 86 else ""


def resolve_with_phone(value: str, phones: list[str | None], ctx: CleanContext) -> Cleaned | None:
    """The address settled by the row's landlines, or None when they do not settle it."""
    parts = parse_address(value)
    if not parts.candidates:
        return None
    for phone in phones:
        if phone and (region := phone_region(phone)):
            settled = resolve(parts, region)
            if not settled.candidates:
                return _cleaned(settled, value, ["ambiguous district settled by the phone's area code"])
    return None


@lru_cache(maxsize=1)
def _full_prefixes() -> dict[str, tuple[str, str | None, str | None, str]]:
    """Every division path written in full standard form (广东省深圳市南山区, 北京市朝阳区, 湖北省仙桃市, and
    广东省东莞市 for a city without districts) -> (province, city, district, code)."""
    d = divisions()
    out: dict[str, tuple[str, str | None, str | None, str]] = {}
    for unit in d.by_code.values():
        if unit.level == 3:
            province, city, _ = d.path(unit)
            if province is None:
                continue
            prefix = province.name + (city.name if city and city.name != province.name else "") + unit.name
            shown_city = city.name if city else (province.name if province.code in MUNICIPALITIES else None)
            out[prefix] = (province.name, shown_city, unit.name, unit.code)
        elif unit.level == 2 and not d.children.get(unit.code):
            province = d.by_code[unit.parent]
            out[province.name + unit.name] = (province.name, unit.name, None, unit.code)
    return out


@fast_path(clean_address)
def _fast_addresses(values: pl.Series, ctx: CleanContext) -> pl.DataFrame:
    """Addresses in full standard form (`_fast_standard_addresses`) and street addresses in Latin letters with
    a number (`_fast_latin_addresses`)."""
    standard = _fast_standard_addresses(values, ctx)
    latin = _fast_latin_addresses(values.filter(~values.is_in(standard["raw"].implode())))
    return pl.concat([standard, latin], how="diagonal_relaxed") if latin.height else standard


# Words of ASCII letters, digits and a street's punctuation, one space between them, nothing before or after,
# with a digit: not a place in pinyin (`parse_pinyin_place` takes letters only), and no Chinese division name
# for `parse_address` to find. "42 Miller Street", "Flat 3, 15 Gordon Ave".
_LATIN_STREET = r"^[A-Za-z0-9#&'/.,\-]+(?: [A-Za-z0-9#&'/.,\-]+)*$"


def _fast_latin_addresses(values: pl.Series) -> pl.DataFrame:
    """A street address in Latin letters (Febrl's, a Salesforce export's): as written, its key lower-cased, no
    division recognised."""
    raw = pl.col("raw")
    frame = pl.DataFrame({"raw": values}).filter(raw.str.contains(_LATIN_STREET) & raw.str.contains("[0-9]"))
    return frame.select(
        "raw",
        raw.alias("value"),
        raw.str.to_lowercase().alias("key"),
        pl.lit(None, pl.String).alias("reason"),
        pl.lit("no division recognised").alias("notes"),
    )


def _fast_standard_addresses(values: pl.Series, ctx: CleanContext) -> pl.DataFrame:
    """Addresses already in full standard form: province, city and district written out, then the street."""
    plain = plain_chinese(values, r"^[\u4e00-\u9fff][\u4e00-\u9fff0-9A-Za-z#\-]*$")
    plain = plain.filter(~plain.str.starts_with("中国") & ~plain.str.starts_with("中华人民共和国"))
    prefixes = _full_prefixes()
    alternation = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
    frame = pl.DataFrame({"raw": plain}).with_columns(pl.col("raw").str.extract(f"^({alternation})", 1).alias("p"))
    frame = frame.filter(pl.col("p").is_not_null())
    parts = {p: prefixes[p] for p in frame["p"].unique().to_list()}
    part = [
        pl.col("p").replace_strict({p: v[i] for p, v in parts.items()}, default=None, return_dtype=pl.String)
        for i in range(4)
    ]
    detail = pl.col("raw").str.slice(pl.col("p").str.len_chars())
    return frame.select(
        "raw",
        pl.col("raw").alias("value"),
        pl.col("raw").alias("key"),
        pl.lit(None, pl.String).alias("reason"),
        pl.lit(None, pl.String).alias("notes"),
        part[0].alias("attr:province"),
        part[1].alias("attr:city"),
        part[2].alias("attr:district"),
        pl.when(detail.str.len_chars() > 0).then(detail).alias("attr:detail"),
        part[3].alias("attr:code"),
    )
