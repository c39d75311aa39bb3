"""Rows of a sheet that are not records, and cells that say "same as above".

Exports and hand-kept sheets carry rows nobody meant as data: the header again where pages were glued
together, 合计 / 小计 rows, a footer (共 120 条记录, 导出时间：2024-05-01), rows of dashes. Each is found on the
row's text as read, for the whole table at once, and every entity of the source files it with the reason.

A column declared ``fill_down`` takes, in an empty cell or one that says 同上 / 〃 / 同前 (any column takes it
in the latter), the value of the last row above it in the same block: the same sheet, with no blank row or
non-record row between. That is what a vertically merged cell (Excel keeps its value in the top cell only)
and a company written once above its people both mean. Each filled cell says which row it came from.
"""

from __future__ import annotations

import re

import polars as pl

from crm_migrate.migrate.readers import ROW, SHEET, SourceTable

# A cell that is only a total's label, however it is spaced or punctuated.
TOTAL_WORDS = [
    "合计",
    "小计",
    "总计",
    "总合计",
    "共计",
    "累计",
    "汇总",
    "总数",
    "总额",
    "合计金额",
    "本页合计",
    "本页小计",
    "全部合计",
    "本月合计",
    "本年合计",
    "年度合计",
    "总计金额",
    "统计",
    "合計",
    "小計",
    "總計",
    "總數",
    "total",
    "totals",
    "subtotal",
    "sub-total",
    "grand total",
    "sum",
    "total amount",
]
_TOTAL = re.compile(
    r"^[\s【\[(（<《]*("
    + "|".join(re.escape(w).replace(r"\ ", r"\s*") for w in TOTAL_WORDS)
    + r")[\s:：】\])）>》.。]*$",
    re.I,
)
# What an export writes under its data: counts, who and when, page marks, "nothing below".
_FOOTER = re.compile(
    r"^\s*(?:"
    r"(?:共|总共|合计|共计|总计|總共)\s*[:：]?\s*\d[\d,]*\s*(?:条|行|个|家|项|人|位|笔|條|個)"
    r"|(?:导出|打印|生成|制表|统计|更新|導出|列印|製表)\s*(?:时间|日期|人|者|時間|用户)\s*[:：]?"
    r"|(?:数据)?(?:来源|截至|截止|截止日期|数据截至)\s*[:：]"
    r"|(?:制表人|审核人|经办人|填表人|负责人签字)\s*[:：]"
    r"|第\s*\d+\s*页|共\s*\d+\s*页|page\s*\d+(?:\s*(?:of|/)\s*\d+)?\b"
    r"|[-—=*\s]*(?:以下空白|以下无内容|以下无数据|以下为空|完|end|end of (?:report|file|list|data))[-—=*\s]*$"
    r"|(?:total|exported|generated|printed)\s*(?:on|at|by|:|\d)"
    r"|\d[\d,]*\s*(?:records?|rows?)\s*(?:in total|total|exported|found)?\s*\.?$"
    r"|(?:record|row)s?\s*(?:count|total)\s*[:：]"
    r")",
    re.I,
)
_SEPARATOR = re.compile(r"^[\s\-=_*~.#—–·•|+:：,，。/\\]+$")
DITTO = ["同上", "同前", "同左", "仝上", "〃", "″", "〞", '"', "”", "“", "''", "々", "ditto", "same as above", "do."]
_DITTO = re.compile(r"^\s*(?:" + "|".join(re.escape(d) for d in DITTO) + r")[\s。.,，]*$", re.I)


def non_records(table: SourceTable) -> pl.Series:
    """Per row of the table, why it is not a record (null for a record); computed once per table."""
    if table.non_records is not None:
        return table.non_records
    frame = table.frame
    columns = table.columns
    if not columns or frame.height == 0:
        table.non_records = pl.Series("non_record", [None] * frame.height, pl.String)
        return table.non_records
    headers = sorted(
        {h.strip() for cols in (table.headers or {"": columns}).values() for h in cols if h.strip()}
        | {c.strip() for c in columns}
    )
    # Each cell stripped once, for the five tests below to read (an expression per test would strip it again).
    frame = frame.select(pl.col(c).str.strip_chars().alias(str(i)) for i, c in enumerate(columns))
    cells = [pl.col(str(i)) for i in range(len(columns))]
    filled = pl.sum_horizontal([(c.is_not_null() & (c != "")).cast(pl.Int32) for c in cells])
    header_hits = pl.sum_horizontal([c.is_in(headers).fill_null(False).cast(pl.Int32) for c in cells])
    first = pl.coalesce([pl.when(c != "").then(c) for c in cells])
    total = pl.any_horizontal([c.str.contains(_TOTAL.pattern).fill_null(False) for c in cells])
    separator = pl.all_horizontal([c.is_null() | (c == "") | c.str.contains(_SEPARATOR.pattern) for c in cells])
    reason = (
        pl.when((header_hits >= 2) & (header_hits * 10 >= filled * 6))
        .then(pl.lit("repeated header row"))
        .when(total)
        .then(pl.format("total row ({})", first))
        .when((filled <= 2) & first.str.contains(_FOOTER.pattern).fill_null(False))
        .then(pl.format("export footer ({})", first.str.slice(0, 40)))
        .when(separator)
        .then(pl.lit("separator row"))
    )
    table.non_records = frame.select(reason.alias("non_record")).to_series()
    return table.non_records


def is_ditto(text: pl.Expr) -> pl.Expr:
    return text.str.contains(_DITTO.pattern).fill_null(False)


def blank(v: pl.Expr) -> pl.Expr:
    """An empty cell: null, or only spaces."""
    return v.is_null() | (v.str.strip_chars() == "")


def written(v: pl.Expr) -> pl.Expr:
    """A cell that holds its own value: neither blank nor a ditto mark."""
    return ~blank(v) & ~is_ditto(v)


def fill_down(
    series: pl.Series, frame: pl.DataFrame, stop: pl.Series, starts: pl.Series | None = None, empty_cells: bool = True
) -> tuple[pl.Series, pl.Series]:
    """The column with empty and ditto cells filled from the row above in their block, and per row a note
    saying where a filled value came from (null where nothing was filled). ``stop`` marks rows that are not
    records: they end a block and give nothing. ``starts`` marks rows that begin a record of their own (a
    company's name written, not left empty or 同上): such a row is not filled from the record above it, and
    the rows that continue it are filled from it (a company's phone is not taken from the company above).
    Without ``empty_cells`` only ditto cells are filled: what a column without ``fill_down`` gets, since 同上
    says "the value above" whatever the mapping says, while an empty cell may be empty."""
    begins = starts.fill_null(False) if starts is not None else pl.Series([False] * len(series))
    work = pl.DataFrame(
        {"v": series, "sheet": frame[SHEET], "row": frame[ROW], "stop": stop.fill_null(False), "starts": begins}
    )
    v = pl.col("v")
    ditto = is_ditto(v)
    empty = blank(v)
    given = written(v) & ~pl.col("stop")
    new_block = (
        pl.col("sheet").ne_missing(pl.col("sheet").shift(1))  # a CSV has no sheet: null is one sheet
        | (pl.col("row") - pl.col("row").shift(1) != 1).fill_null(True)
        | pl.col("stop")
        | pl.col("stop").shift(1).fill_null(False)
        | pl.col("starts")
    )
    out = work.with_columns(
        new_block.cum_sum().alias("block"), ditto.alias("ditto"), empty.alias("empty"), given.alias("given")
    ).with_columns(
        pl.when("given").then(v).forward_fill().over("block").alias("above"),
        pl.when("given").then(pl.col("row")).forward_fill().over("block").alias("from"),
    )
    fill = (pl.col("ditto") | (pl.col("empty") & empty_cells)) & ~pl.col("stop") & ~pl.col("starts")
    out = out.select(
        pl.when(fill).then(pl.col("above")).when(pl.col("ditto")).then(None).otherwise(v).alias(series.name),
        pl.when(fill & pl.col("above").is_not_null())
        .then(
            pl.format(
                "filled from row {} ({})",
                pl.col("from"),
                pl.when(pl.col("ditto")).then(v.str.strip_chars()).otherwise(pl.lit("empty cell")),
            )
        )
        .when(pl.col("ditto"))
        .then(pl.format("{} with nothing above it: left empty", v.str.strip_chars()))
        .alias("note"),
    )
    return out[series.name], out["note"]
