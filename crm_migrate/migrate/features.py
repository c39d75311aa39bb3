"""What matching compares besides the cleaned fields: columns derived from several fields or several records.

All are ``m:`` columns added to an entity's frame before matching and dropped after it:

- **phones as sets**, whatever column a number came in: ``m:mobiles`` (mobiles and foreign numbers),
  ``m:lines`` (landlines and service numbers), ``m:locals`` (a landline's number without its area code, and
  numbers written without one), so a landline typed in the mobile column meets the same line elsewhere;
- **company names across scripts**: ``m:script`` (zh or latin), ``m:latin`` (the brand in pinyin, or as an
  English name writes it), ``m:family`` (the
  trade's family), ``m:region_latin``, ``m:branch`` (a branch's place, "" for a head office), ``m:whole``
  (the key with its region in front), ``m:pinyin`` (the key's sound), ``m:ambiguous`` (a name without
  region whose key the data holds in several regions), ``m:brand_ambiguous`` (a name without trade whose
  brand the data holds with several trades), ``m:variants`` (the brand with one character left out),
  ``m:heads`` (how an English name may start: the pinyin of the first characters) and the region as
  ``m:province`` and ``m:city`` codes (广东 and 深圳 do not conflict, 深圳 and 广州 do);
- **deal names**: an opportunity's ``m:deal``, its name without punctuation, brackets and the words that
  only say it is a project (【星辰年度采购】, 星辰年度采购项目 -> 星辰年度采购);
- **relationships**: an account's ``m:people`` (its contacts' mobiles and emails, from the contacts on its
  row or pointing at its legacy id) and the office lines they give; a contact's ``m:own_lines`` (lines no
  other person holds and that are not its account's switchboard), and its employer's name key and brand.
"""

from __future__ import annotations

import re

import polars as pl

from crm_migrate.cleaners.company import BRANCH_KINDS
from crm_migrate.cleaners.company_words import (
    calques,
    division_of_latin,
    family_of,
    region_latin,
    romanise_series,
    syllable,
)
from crm_migrate.cleaners.divisions import CITY_SUFFIXES, PROVINCE_SUFFIXES, short_name
from crm_migrate.mappings.entities import ACCOUNT_LINK, ID_FIELD, FieldSpec, FieldType
from crm_migrate.migrate.columns import (
    FILTERED,
    OUTCOME,
    RECORD_ID,
    ROW,
    SEQ,
    SHEET,
    SOURCE,
    SYSTEM,
    attr,
    key,
    val,
    why,
)
from crm_migrate.outcomes import KEPT, WRITTEN

MOBILE = r"^\+861[3-9]\d{9}$|^\+(?:[1-79]|8[0-57-9])"  # a mainland mobile, or any number abroad
LINE = r"^\+86"
CJK = r"[\u3400-\u9fff]"
NO_TEXT = pl.lit(None, pl.String)
EMPTY_LIST = pl.lit([], pl.List(pl.String))


def m(name: str) -> str:
    return f"m:{name}"


# -- phones ------------------------------------------------------------------------------------------------


def _numbers(frame: pl.DataFrame, phones: list[str]) -> pl.Expr:
    """Every valid number of the row's phone fields, the extra numbers of a cell included, as a list."""
    parts = []
    for f in phones:
        valid = pl.col(val(f)).is_not_null() & (pl.col(why(f)).is_null() if why(f) in frame.columns else True)
        parts.append(pl.when(valid).then(pl.col(val(f))).otherwise(NO_TEXT))
        if attr(f, "others") in frame.columns:
            parts.append(pl.col(attr(f, "others")).str.split("; ").fill_null(EMPTY_LIST))
    if not parts:
        return EMPTY_LIST
    return pl.concat_list(parts).list.drop_nulls().list.unique(maintain_order=True)


def _local_part() -> pl.Expr:
    """A mainland landline's number without country and area code (+861062345678 -> 62345678)."""
    e = pl.element()
    return pl.when(e.str.contains(r"^\+86(?:10|2\d)")).then(e.str.slice(5)).otherwise(e.str.slice(6))


def phone_sets(frame: pl.DataFrame, phones: list[str]) -> pl.DataFrame:
    """``m:mobiles``, ``m:lines`` and ``m:locals`` of every row, from the phone fields named."""
    numbers = _numbers(frame, phones)
    locals_ = [pl.col(attr(f, "local")) for f in phones if attr(f, "local") in frame.columns]
    frame = frame.with_columns(numbers.alias("_numbers"))
    lines = pl.col("_numbers").list.eval(
        pl.element().filter(pl.element().str.contains(LINE) & ~pl.element().str.contains(MOBILE))
    )
    mobiles = pl.col("_numbers").list.eval(pl.element().filter(pl.element().str.contains(MOBILE)))
    frame = frame.with_columns(mobiles.alias(m("mobiles")), lines.alias(m("lines")))
    written_local = pl.concat_list(locals_).list.drop_nulls() if locals_ else EMPTY_LIST
    local = pl.concat_list([pl.col(m("lines")).list.eval(_local_part()), written_local]).list.unique(
        maintain_order=True
    )
    return frame.with_columns(local.alias(m("locals"))).drop("_numbers")


# -- company names -----------------------------------------------------------------------------------------


def company_features(frame: pl.DataFrame, field: str = "name") -> pl.DataFrame:
    """The name's script, romanised brand, calques, trade family, region in pinyin, branch place, whole key and
    sound, and whether a name without region is ambiguous (see the module text)."""
    k = key(field)
    if k not in frame.columns:
        return frame
    a = {
        part: pl.col(attr(field, part)) if attr(field, part) in frame.columns else NO_TEXT
        for part in ("brand", "trade", "region", "region_latin", "branch", "head")
    }
    zh = pl.col(k).str.contains(CJK)
    frame = frame.with_columns(
        pl.when(pl.col(k).is_null())
        .then(NO_TEXT)
        .when(zh)
        .then(pl.lit("zh"))
        .otherwise(pl.lit("latin"))
        .alias(m("script")),
        a["brand"].alias("_brand"),
        a["region"].alias("_region"),
        a["branch"].alias("_branch"),
    )
    chinese = pl.col(m("script")) == "zh"
    # Calques are only looked for where English names are there to meet them.
    has_english = frame.select((pl.col(m("script")) == "latin").any()).item()
    frame = frame.join(_brand_table(frame["_brand"], has_english), on="_brand", how="left", maintain_order="left")
    keys = frame.select(pl.when(chinese).then(pl.col(k)).alias("k"))["k"].drop_nulls().unique()
    frame = frame.join(
        pl.DataFrame({k: keys, "_sound": romanise_series(keys)}), on=k, how="left", maintain_order="left"
    )
    regions = frame["_region"].drop_nulls().unique().to_list()
    region_short = {r: short_name(r, PROVINCE_SUFFIXES) or short_name(r, CITY_SUFFIXES) or r for r in regions}
    frame = frame.with_columns(
        pl.when(chinese).then(pl.col("_latin")).otherwise(pl.col("_brand")).alias(m("latin")),
        a["trade"]
        .replace_strict(_families(frame, a["trade"]), default=None, return_dtype=pl.String)
        .alias(m("family")),
        pl.when(chinese)
        .then(
            pl.col("_region").replace_strict(
                {r: region_latin(r) for r in regions}, default=None, return_dtype=pl.String
            )
        )
        .otherwise(a["region_latin"])
        .alias(m("region_latin")),
        _branch_place(frame, chinese).alias(m("branch")),
        pl.when(chinese & pl.col("_region").is_not_null())
        .then(pl.col("_region").replace_strict(region_short, default="", return_dtype=pl.String) + pl.col(k))
        .otherwise(pl.col(k))
        .alias(m("whole")),
        pl.when(chinese).then(pl.col("_sound")).otherwise(NO_TEXT).alias(m("pinyin")),
        pl.when(chinese)
        .then(pl.col("_calques"))
        .otherwise(pl.concat_list([pl.col("_brand")]).list.drop_nulls())
        .alias(m("calques")),
    ).drop("_latin", "_sound", "_calques")
    # The companies the data shows, whether they are migrated or not: one left out of scope (no recent activity)
    # still holds its name in its city, so 航精科技 without a region is not the one other 航精科技 there is. Rows
    # rejected as no record at all are not companies.
    known = (pl.col(OUTCOME).is_null() | (pl.col(OUTCOME) == FILTERED)) if OUTCOME in frame.columns else pl.lit(True)
    trades_per_brand = a["trade"].filter(known).drop_nulls().n_unique().over("_brand")
    core = (
        pl.when(pl.col("_branch").is_not_null())
        .then(pl.col(k).str.slice(0, pl.col(k).str.len_chars() - pl.col("_branch").str.len_chars()))
        .otherwise(pl.col(k))
    )
    frame = frame.with_columns(pl.when(chinese).then(core).alias("_core"))
    if has_english:
        cores = frame["_core"].drop_nulls().unique()
        frame = frame.join(
            pl.DataFrame({"_core": cores, "_heads": _heads(cores)}), on="_core", how="left", maintain_order="left"
        )
    else:
        frame = frame.with_columns(pl.lit(None, pl.List(pl.String)).alias("_heads"))
    codes = {r: _region_code(r) for r in regions}
    branches = frame["_branch"].drop_nulls().unique().to_list()
    branch_codes = {b: _branch_code(b) for b in branches}
    # Where the company is: a branch where the branch is (上海恒新永…成都分公司 is in 成都), else its name's region,
    # else its street address or landline.
    code = pl.coalesce(
        pl.col("_branch").replace_strict(branch_codes, default=None, return_dtype=pl.String),
        pl.col("_region").replace_strict(codes, default=None, return_dtype=pl.String),
        _place(frame),
    )
    # The code and the hint once each as columns: an eager with_columns would work each out anew where it is
    # read (four times and twice).
    frame = frame.with_columns(code.alias("_code"), _city_hint(frame).alias("_hint"))
    code, hint = pl.col("_code"), pl.col("_hint")
    frame = frame.with_columns(
        pl.when(chinese)
        .then(pl.col("_heads"))
        .otherwise(pl.concat_list([a["head"], pl.col("_brand")]).list.drop_nulls().list.unique(maintain_order=True))
        .alias(m("heads")),
        code.str.slice(0, 2).alias(m("province")),
        pl.when(code.str.slice(2, 2) != "00").then(code.str.slice(0, 4)).alias(m("city")),
        # A city given only as a city (a sign-up's), for a record that says nothing else of where it is: a hint,
        # not a place.
        pl.when(code.is_null()).then(hint.str.slice(0, 2)).alias(m("hint_province")),
        pl.when(code.is_null() & (hint.str.slice(2, 2) != "00")).then(hint.str.slice(0, 4)).alias(m("hint_city")),
    ).drop("_code", "_hint")

    # Where the records of one name are: the region in their names, else their branch, street address or landline
    # (航精科技 with an address in 昆明 is a company in 昆明 as much as 昆明市航精科技 is).
    def places_per(column: str) -> pl.Expr:  # the provinces or cities the data gives a value in, the more
        return pl.max_horizontal(
            pl.col(m(part)).filter(known).drop_nulls().n_unique().over(column) for part in ("province", "city")
        )

    places_per_key, places_per_brand = places_per(k), places_per("_brand")
    frame = _trades_here(frame, a["trade"], known)
    frame = _sounds(frame, chinese & pl.col(k).is_not_null() & known)
    return frame.with_columns(
        (pl.col(m("province")).is_null() & pl.col(k).is_not_null() & (places_per_key >= 2)).alias(m("ambiguous")),
        # A full name (brand and trade) whose brand's sound the data gives one company in that trade there: a
        # homophone of it is that company's name mistyped, not another's (星晨科技 beside 北京星辰科技).
        (chinese & a["trade"].is_not_null() & (pl.col(m("sounds_in_trade")) == 1)).alias(m("sound_alone")),
        # A short name (a brand without its trade: 锐宏集团) names no one company where the data holds its brand
        # with several trades, or, saying nowhere itself, in several places (锐宏 in 上海 and in 成都). One that
        # says where it is (西安锐宏) is weighed against the brand's trades there and where no place is known:
        # 锐宏贸易 in 上海 is not another company it could name.
        (
            a["trade"].is_null()
            & pl.col("_brand").is_not_null()
            & pl.when(pl.col(m("province")).is_null())
            .then((trades_per_brand >= 2) | (places_per_brand >= 2))
            .otherwise(pl.col("_trades_here") >= 2)
        ).alias(m("brand_ambiguous")),
        pl.when(chinese).then(pl.col("_variants")).alias(m("variants")),
        a["trade"].is_null().alias(m("short")),  # a brand without its trade (星辰, XINGCHEN): a short name
    ).drop("_brand", "_region", "_branch", "_core", "_heads", "_variants", "_trades_here")


def _sounds(frame: pl.DataFrame, counted: pl.Expr) -> pl.DataFrame:
    """``m:sounds`` and ``m:sounds_in_trade``: how many companies the Chinese names that sound like this one's
    brand may be (with its trade's family, and without). An English name matches one of them only where it is
    the only one. A company is a brand's sound in one trade family and one province: 星辰科技 and 星晨科技 in 北京
    (a homophone typed through a pinyin input method) or 星辰 beside 星辰科技 (its short name) are how one
    company's records read, not two companies an English name could be; 星辰科技 in 北京 and in 上海, or
    星辰科技 and 星辰贸易, are two. A name that says nowhere is not a company of its own where the data places
    its sound and trade somewhere; a short name (no trade) counts only where no name of that sound has one.
    Counted on the distinct (sound, family, province) of the data, a small table, and joined back."""
    latin, family, province = m("latin"), m("family"), "_place"
    seen = (
        frame.lazy()
        .filter(counted)
        .select(latin, family, pl.coalesce(m("city"), m("province")).alias(province))
        .unique()
    )
    in_trade = seen.group_by(latin, family).agg(
        pl.max_horizontal(pl.col(province).drop_nulls().n_unique(), pl.lit(1)).alias(m("sounds_in_trade"))
    )
    per_sound = in_trade.group_by(latin).agg(
        pl.when(pl.col(family).is_not_null().any())
        .then(pl.col(m("sounds_in_trade")).filter(pl.col(family).is_not_null()).sum())
        .otherwise(pl.col(m("sounds_in_trade")).sum())
        .alias(m("sounds"))
    )
    tables = pl.collect_all([in_trade, per_sound])
    return frame.join(tables[0], on=[latin, family], how="left", nulls_equal=True, maintain_order="left").join(
        tables[1], on=latin, how="left", maintain_order="left"
    )


def _trades_here(frame: pl.DataFrame, trade: pl.Expr, known: pl.Expr) -> pl.DataFrame:
    """``_trades_here``: per record, how many trades the data holds its brand with in its province or with no
    place known (a placeless 锐宏贸易 may be in any province); 0 where it holds none. Counted on the distinct
    (brand, province, trade) of the data, a small table, and joined back."""
    province = m("province")
    seen = (
        frame.lazy()
        .filter(known)
        .select("_brand", pl.col(province).alias("_p"), trade.alias("_t"))
        .drop_nulls(["_brand", "_t"])
        .unique()
    )
    placed = seen.filter(pl.col("_p").is_not_null())
    placeless = seen.filter(pl.col("_p").is_null()).select("_brand", "_t")
    places = frame.lazy().select("_brand", pl.col(province).alias("_p")).drop_nulls().unique()
    here = (
        pl.concat([placed, places.join(placeless, on="_brand").select("_brand", "_p", "_t")])
        .unique()
        .group_by("_brand", "_p")
        .agg(pl.len().alias("_trades_here"))
    )
    return frame.join(
        here.collect(), left_on=["_brand", province], right_on=["_brand", "_p"], how="left", maintain_order="left"
    ).with_columns(pl.col("_trades_here").fill_null(0))


def _brand_table(brands: pl.Series, has_english: bool) -> pl.DataFrame:
    """Per distinct brand: its pinyin (``_latin``) and the brand with one character left out from three
    characters up (``_variants``)."""
    distinct = brands.drop_nulls().unique()
    table = pl.DataFrame({"_brand": distinct, "_latin": romanise_series(distinct)})
    b, n = pl.col("_brand"), pl.col("_brand").str.len_chars()
    dropped = [pl.when((n >= 3) & (n > i)).then(b.str.slice(0, i) + b.str.slice(i + 1)) for i in range(8)]
    table = table.with_columns(
        pl.concat_list([b, *dropped]).list.drop_nulls().list.unique(maintain_order=True).alias("_variants")
    )
    # The English a translated brand may be written in (星云 -> starcloud), asked once per distinct brand and only
    # where English names are there to meet it: what blocks a calque with its Chinese name.
    if not has_english:
        return table.with_columns(pl.lit(None, pl.List(pl.String)).alias("_calques"))
    return table.with_columns(_calque_lists(distinct.to_list()).alias("_calques"))


def _calque_lists(brands: list[str]) -> pl.Series:
    """`calques` of each brand as a list column, built from one flat column of every form and the brand each
    belongs to (a Series of Python lists costs one small Series per brand: 2 s at 150k brands)."""
    forms = [calques(brand) for brand in brands]
    owner = pl.Series("_i", [i for i, found in enumerate(forms) for _ in found], dtype=pl.UInt32)
    flat = pl.Series("_c", [form for found in forms for form in found], dtype=pl.String)
    lists = pl.DataFrame([owner, flat]).group_by("_i").agg(pl.col("_c"))
    return (
        pl.DataFrame({"_i": pl.int_range(len(brands), dtype=pl.UInt32, eager=True)})
        .join(lists, on="_i", how="left", maintain_order="left")
        .select(pl.col("_c").fill_null(EMPTY_LIST))["_c"]
    )


def _place(frame: pl.DataFrame) -> pl.Expr:
    """Where a company whose name says no region is, as a division code: its street address's district, or
    else its landline's area. A sign-up's city (an address that is only a city) is left out: it is often the
    attendee's."""
    options: list[pl.Expr] = []
    code, detail, coarse = attr("address", "code"), attr("address", "detail"), attr("address", "coarse")
    if code in frame.columns and detail in frame.columns:
        full = (pl.col(detail).is_not_null() | ~pl.col(code).str.ends_with("00")) & (
            pl.col(coarse).is_null() if coarse in frame.columns else pl.lit(True)
        )
        options.append(pl.when(full).then(pl.col(code)))
    if m("lines") in frame.columns:
        first = pl.col(m("lines")).list.first()
        area = (
            pl.when(first.str.contains(r"^\+86(?:10|2\d)")).then(first.str.slice(3, 2)).otherwise(first.str.slice(3, 3))
        )
        areas = frame.select(area.alias("a"))["a"].drop_nulls().unique().to_list()
        options.append(area.replace_strict({x: _area_code(x) for x in areas}, default=None, return_dtype=pl.String))
    return pl.coalesce(options) if options else NO_TEXT


def _city_hint(frame: pl.DataFrame) -> pl.Expr:
    """The division code of an address that is only a city or a province (a sign-up's city column)."""
    code, detail = attr("address", "code"), attr("address", "detail")
    if code not in frame.columns or detail not in frame.columns:
        return NO_TEXT
    return pl.when(pl.col(detail).is_null() & pl.col(code).str.ends_with("00")).then(pl.col(code))


def _area_code(area: str) -> str | None:
    """The division code of a landline area code (755 -> 440300), from phonenumbers' offline geocoder."""
    from crm_migrate.cleaners.address import parse_address, phone_region

    description = phone_region(f"+86{area}62345678") or phone_region(f"+86{area}6234567")
    if not description:
        return None
    parts = parse_address(description)
    unit = parts.city or parts.province
    return unit.code if unit and not parts.candidates else None


def _heads(cores: pl.Series) -> pl.Series:
    """How an English name may begin for each Chinese core: the pinyin of its first two to six characters."""
    chars = cores.drop_nulls().str.split("").explode().unique().drop_nulls().to_list()
    reading = {c: syllable(c) for c in chars if c}
    frame = pl.DataFrame({"c": cores}).with_columns(
        pl.col("c")
        .str.split("")
        .list.head(6)
        .list.eval(pl.element().replace_strict(reading, default="", return_dtype=pl.String))
        .alias("s")
    )
    starts = [pl.when(pl.col("s").list.len() >= n).then(pl.col("s").list.head(n).list.join("")) for n in range(2, 7)]
    folded = [
        x.str.to_lowercase().str.replace_all(r"[\s'’\-_.]+", "").str.replace_all(r"([ln])(?:ü|v|yu)", "${1}u")
        for x in starts
    ]
    return frame.select(pl.concat_list(folded).list.drop_nulls().list.unique(maintain_order=True).alias("h"))["h"]


def _branch_code(branch: str) -> str | None:
    """The division a branch's name places it in (成都分公司, chengdu branch -> 510100)."""
    from crm_migrate.cleaners.divisions import divisions

    place = re.sub(_BRANCH_KINDS, "", branch)
    if place and not re.search(CJK, place):
        # An English branch as the cleaner writes it, "<place> branch": the place's pinyin read back.
        latin = re.sub(r"\s*branch$", "", branch).replace(" ", "")
        division = division_of_latin(latin) if latin else None
        unit = divisions().is_region(division) if division else None
        return unit.code if unit is not None else None
    if not place:
        return None
    for n in range(min(len(place), 7), 1, -1):
        unit = divisions().is_region(place[-n:])
        if unit is not None:
            return unit.code
    return None


def _region_code(name: str) -> str | None:
    from crm_migrate.cleaners.divisions import divisions

    unit = divisions().is_region(name)
    return unit.code if unit else None


def _families(frame: pl.DataFrame, trade: pl.Expr) -> dict[str, str | None]:
    codes = frame.select(trade.alias("t"))["t"].drop_nulls().unique().to_list()
    return {c: family_of(c) for c in codes}


_BRANCH_KINDS = "(?:" + "|".join(BRANCH_KINDS) + ")$"


def _branch_place(frame: pl.DataFrame, chinese: pl.Expr) -> pl.Expr:
    """A branch's place in pinyin, the same in both scripts (上海分公司, Shanghai Branch -> shanghai), the
    branch as written where it names no place, and "" for a name that is not a branch."""
    branch = pl.col("_branch")
    places = frame.select(branch.str.replace(_BRANCH_KINDS, "").alias("p"))["p"].drop_nulls().unique()
    reading = dict(
        zip(places.to_list(), romanise_series(places.str.replace(r"(?:市|省|区|县)$", "")).to_list(), strict=True)
    )
    english = branch.str.replace(r"\s*branch(?: office| company)?$|\s*(?:representative |rep )?office$", "")
    place = (
        pl.when(chinese)
        .then(branch.str.replace(_BRANCH_KINDS, "").replace_strict(reading, default=None, return_dtype=pl.String))
        .otherwise(english)
    )
    named = pl.when(place.is_not_null() & (place != "")).then(place).otherwise(branch)
    return pl.when(pl.col(m("script")).is_null()).then(NO_TEXT).when(branch.is_null()).then(pl.lit("")).otherwise(named)


# -- relationships ------------------------------------------------------------------------------------------


def _linked(accounts: pl.DataFrame, parts: list[pl.DataFrame], values: list[str]) -> pl.DataFrame | None:
    """Per account row (``_seq``), the ``values`` (list columns) of the child rows linked to it: on its row, or
    pointing at its legacy id in its system. ``parts`` hold SOURCE, SHEET, ROW, SYSTEM, ``_ref`` and ``values``."""
    by_row = accounts.select(SOURCE, SHEET, ROW, SEQ)
    by_id = (
        accounts.select(SYSTEM, pl.col(key(ID_FIELD)).alias("_ref"), SEQ).drop_nulls(["_ref", SYSTEM])
        if key(ID_FIELD) in accounts.columns
        else None
    )
    links = []
    for part in parts:
        links.append(part.join(by_row, on=[SOURCE, SHEET, ROW], how="inner", nulls_equal=True).select(SEQ, *values))
        if by_id is not None:
            links.append(part.drop_nulls("_ref").join(by_id, on=[SYSTEM, "_ref"], how="inner").select(SEQ, *values))
    if not links:
        return None
    return pl.concat(links).group_by(SEQ).agg(pl.col(v).explode().drop_nulls().unique() for v in values)


def _child(part: pl.DataFrame, *values: pl.Expr) -> pl.DataFrame:
    ref = pl.col(key(ACCOUNT_LINK)) if key(ACCOUNT_LINK) in part.columns else NO_TEXT
    return part.select(SOURCE, SHEET, ROW, SYSTEM, ref.alias("_ref"), *values)


def _live(part: pl.DataFrame, read: list[str]) -> pl.DataFrame:
    """The rows of a child part still in play, with only the columns ``read`` (those it has) and the ones
    `_child` and `_linked` need: a filter of the whole part would copy each of its columns."""
    needed = [SOURCE, SHEET, ROW, SYSTEM, key(ACCOUNT_LINK), OUTCOME, *read]
    return part.select([c for c in dict.fromkeys(needed) if c in part.columns]).filter(pl.col(OUTCOME).is_null())


def related_to_accounts(
    accounts: pl.DataFrame, contact_parts: list[pl.DataFrame], opportunity_parts: list[pl.DataFrame]
) -> pl.DataFrame:
    """Per account row (``_seq``): ``m:people``, the mobiles and emails of its contacts, ``m:contact_lines``,
    their office lines, and ``m:deals``, its opportunities by name and amount and by name and close date: two
    records of one company often share a person or a deal (a pipeline sheet repeats the CRM's)."""
    schema: dict[str, pl.DataType] = {
        SEQ: pl.Int64(),
        m("people"): pl.List(pl.String),
        m("contact_lines"): pl.List(pl.String),
        m("deals"): pl.List(pl.String),
    }
    out = pl.DataFrame(schema=schema)
    if accounts.is_empty():
        return out
    people = []
    for part in contact_parts:
        phones = [
            c.removeprefix("v:") for c in part.columns if c.startswith("v:") and attr(c[2:], "kind") in part.columns
        ]
        read = [key("email"), *(c for f in phones for c in (val(f), why(f), attr(f, "others"), attr(f, "local")))]
        part = phone_sets(_live(part, read), phones)
        email = pl.col(key("email")) if key("email") in part.columns else NO_TEXT
        people.append(
            _child(
                part,
                pl.concat_list([pl.col(m("mobiles")), email]).list.drop_nulls().alias("_people"),
                pl.col(m("lines")).alias("_lines"),
            )
        )
    deals = []
    for part in opportunity_parts:
        part = opportunity_features(_live(part, [key("name"), val("amount"), val("close_date")]))
        if m("deal") not in part.columns:
            continue
        by = [pl.col(m("deal")) + "\x1f" + pl.col(val(f)) for f in ("amount", "close_date") if val(f) in part.columns]
        if by:
            deals.append(_child(part, pl.concat_list(by).list.drop_nulls().alias("_deals")))
    found = [
        f
        for f in (_linked(accounts, people, ["_people", "_lines"]), _linked(accounts, deals, ["_deals"]))
        if f is not None
    ]
    for frame in found:
        out = out.join(frame, on=SEQ, how="full", coalesce=True) if out.height else frame
    out = out.rename({"_people": m("people"), "_lines": m("contact_lines"), "_deals": m("deals")}, strict=False)
    return out.with_columns(pl.lit(None, pl.List(pl.String)).alias(c) for c in schema if c not in out.columns)


def account_features(frame: pl.DataFrame, fields: list[FieldSpec], people: pl.DataFrame | None) -> pl.DataFrame:
    """Accounts: the name's features, and every number the company answers on (its own, its contacts' office
    lines) in ``m:phones``, with its contacts in ``m:people``."""
    phones = [s.name for s in fields if s.type is FieldType.phone and val(s.name) in frame.columns]
    frame = company_features(phone_sets(frame, phones))
    if people is not None and not people.is_empty():
        frame = frame.join(people, on=SEQ, how="left", maintain_order="left")
    else:
        frame = frame.with_columns(
            pl.lit(None, pl.List(pl.String)).alias(c) for c in (m("people"), m("contact_lines"), m("deals"))
        )
    contact_lines = pl.col(m("contact_lines")).fill_null([])
    all_lines = pl.concat_list([pl.col(m("lines")), contact_lines]).list.unique(maintain_order=True)
    own_numbers = pl.concat_list([pl.col(m("mobiles")), pl.col(m("lines"))]).list.unique(maintain_order=True)
    phones_all = pl.concat_list([pl.col(m("mobiles")), all_lines]).list.unique(maintain_order=True)
    locals_ = pl.concat_list([pl.col(m("locals")), contact_lines.list.eval(_local_part())]).list.unique(
        maintain_order=True
    )
    return frame.with_columns(
        phones_all.alias(m("phones")),
        own_numbers.alias(m("own_phones")),
        locals_.alias(m("locals")),
        pl.col(m("people")).fill_null([]),
        pl.col(m("deals")).fill_null([]),
    ).drop(m("contact_lines"))


def account_context(accounts: pl.DataFrame) -> pl.DataFrame:
    """Per written account (record id): every number its records hold (``_phones``), its name key
    (``_employer``) and brand in pinyin (``_employer_latin``), for its contacts' matching."""
    from crm_migrate.migrate.link import ACCOUNT

    kept = accounts.filter(pl.col(OUTCOME).is_in(KEPT))
    own = m("own_phones")  # the company's own numbers, not its contacts' lines
    phones = (
        kept.select(RECORD_ID, own)
        .explode(own)
        .drop_nulls(own)
        .group_by(RECORD_ID)
        .agg(pl.col(own).unique().alias("_phones"))
        if own in kept.columns
        else pl.DataFrame(schema={RECORD_ID: pl.String, "_phones": pl.List(pl.String)})
    )
    written = kept.filter(pl.col(OUTCOME) == WRITTEN).select(
        RECORD_ID,
        (pl.col(key("name")) if key("name") in kept.columns else NO_TEXT).alias("_employer"),
        (pl.col(m("latin")) if m("latin") in kept.columns else NO_TEXT).alias("_employer_latin"),
    )
    return written.join(phones, on=RECORD_ID, how="left").rename({RECORD_ID: ACCOUNT})


def contact_features(frame: pl.DataFrame, fields: list[FieldSpec], accounts: pl.DataFrame | None) -> pl.DataFrame:
    """Contacts: phones as sets; a line is the person's own unless another person (another name) holds it or it
    is a number of the contact's account (its switchboard); the employer's name key and brand, from
    `account_context`."""
    from crm_migrate.migrate.link import ACCOUNT

    phones = [s.name for s in fields if s.type is FieldType.phone and val(s.name) in frame.columns]
    frame = phone_sets(frame, phones)
    if accounts is not None and ACCOUNT in frame.columns:
        frame = frame.join(accounts, on=ACCOUNT, how="left", maintain_order="left")
    else:
        frame = frame.with_columns(
            NO_TEXT.alias("_employer"),
            NO_TEXT.alias("_employer_latin"),
            pl.lit(None, pl.List(pl.String)).alias("_phones"),
        )
    # Who holds a value: people by their full names (王经理 and 王建国 may be one person, so a surname and a
    # salutation counts for no one).
    full = (
        (pl.col(attr("name", "form")) != "surname").fill_null(True)
        if attr("name", "form") in frame.columns
        else pl.lit(True)
    )
    who = pl.when(full).then(pl.col(key("name"))) if key("name") in frame.columns else NO_TEXT
    lines = (
        frame.select(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("_i"),
            who.alias("_who"),
            m("lines"),
            pl.col("_phones").fill_null([]),
        )
        .explode(m("lines"))
        .drop_nulls(m("lines"))
    )
    held = lines.group_by(m("lines")).agg(pl.col("_who").drop_nulls().n_unique().alias("_people"))
    own = (
        lines.join(held.filter(pl.col("_people") >= 2), on=m("lines"), how="anti")
        .filter(~pl.col("_phones").list.contains(pl.col(m("lines"))))
        .group_by("_i")
        .agg(pl.col(m("lines")).alias(m("own_lines")))
    )
    frame = (
        frame.with_row_index("_i")
        .join(own, on="_i", how="left", maintain_order="left")
        .with_columns(pl.col(m("own_lines")).fill_null([]))
        .drop("_i")
        .rename({"_employer": m("employer"), "_employer_latin": m("employer_latin")})
        .drop("_phones")
    )
    return _own_address(_emails(frame, who), who)


def _held_by_one(value: pl.Expr, who: pl.Expr) -> pl.Expr:
    """Whether a value is held by at most one person (one full name) among the records."""
    return value.is_not_null() & (who.drop_nulls().n_unique().over(value) <= 1)


def _own_address(frame: pl.DataFrame, who: pl.Expr) -> pl.DataFrame:
    """``m:own_address``: a person's address where no other person gives the same one (else it is the office's
    or the family's: it says where the company is, not who the person is)."""
    if key("address") not in frame.columns:
        return frame
    address = pl.col(key("address"))
    return frame.with_columns(pl.when(_held_by_one(address, who)).then(address).alias(m("own_address")))


GENERIC_MAILBOX = (
    r"^(?:info|office|admin|sales|service|support|contact|hr|marketing|market|enquiry|inquiry|mail|"
    r"hello|ceo[._-]?office|gm[._-]?office|secretary|assistant|reception|kefu|xiaoshou|bangong|caiwu|"
    r"finance|mishu|zjb|zjbgs|zjl|zjlb|dongban|zongban|bgs|xzb|rsb|cwb|xsb|scb)[._-]?\d*@"
)


def _emails(frame: pl.DataFrame, who: pl.Expr) -> pl.DataFrame:
    """``m:emails`` and ``m:own_emails``: a mailbox that several people (several names) use, or that is named
    for a function (office@, sales@), is the company's, not the person's."""
    if key("email") not in frame.columns:
        return frame
    email = pl.col(key("email"))
    held = (
        frame.select(email.alias("e"), who.alias("w"))
        .drop_nulls("e")
        .group_by("e")
        .agg(pl.col("w").drop_nulls().n_unique().alias("n"))
    )
    shared = held.filter(pl.col("n") >= 2)["e"].to_list()
    personal = email.is_not_null() & ~email.is_in(shared) & ~email.str.contains(GENERIC_MAILBOX)
    return frame.with_columns(
        pl.concat_list([email]).list.drop_nulls().alias(m("emails")),
        pl.concat_list([pl.when(personal).then(email)]).list.drop_nulls().alias(m("own_emails")),
    )


_DEAL_NOISE = r"[\s\p{P}\p{S}]+"
_DEAL_SUFFIX = r"(?:项目|工程|合同|订单|商机)+$"


def opportunity_features(frame: pl.DataFrame) -> pl.DataFrame:
    """``m:deal``: the name as the deal's identity, without punctuation and the words every deal name may
    carry (项目, 合同)."""
    if key("name") not in frame.columns:
        return frame
    deal = pl.col(key("name")).str.replace_all(_DEAL_NOISE, "").str.replace(_DEAL_SUFFIX, "")
    return frame.with_columns(
        pl.when(deal.str.len_chars() > 0).then(deal).otherwise(pl.col(key("name"))).alias(m("deal"))
    )
