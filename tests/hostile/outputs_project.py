"""The small project the hostile output cases run on, written by `write_project` (python -m
tests.hostile.outputs_project DIR writes one to look at).

One CSV source whose rows each hold a company, its contact and a deal, with the values an attacker or a
careless export puts in: formulas in a name and a note (=cmd|' /C calc'!A0, +SUM(1), @x, -1+1 in text,
the full-width ＝), a formula exactly as long as the target's limit (9), HTML in a company name, a phone
with a country code and a negative amount that must stay as they are, and three rows of one company so that
the review workbook, provenance and phone_others (two numbers) have something to show.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

HEADER = "编号,公司,电话,备注,联系人,手机,商机,金额,行业"
ROWS = [
    # a 9-character formula under a limit of 9: 10 characters with its apostrophe in CSV, 9 in XLSX
    ["A1", "=SUM(1)+1", "+86 10 6234 5670", "=cmd|' /C calc'!A0", "张伟", "13912345678", "首单", "-5.00", "I1"],
    ["A2", "星辰科技有限公司", "010-62345678", "-1+1", "＝李四", "13812345679", "=HYPERLINK(1)", "1200.00", "I2"],
    ["A3", "星辰科技有限公司", "010-62345679", "@x", "王五", "13712345670", "续约", "-350", "I1"],
    ["A4", "<script>alert(1)</script>有限公司", "021-62345678", "+SUM(1)", "赵六", "13612345671", "年框", "80", "I2"],
    ["A6", "星辰科技有限公司", "010-62345680", "老客户", "孙八", "13412345673", "扩容", "3000", "I2"],
    ["A5", "月亮科技有限公司", "0755-2345678", "\t=1+1", "钱七", "13512345672", "@SUM(1)", "-0.50", "I1"],
]
SOURCE_ROWS = len(ROWS)


def csv_text(rows: list[list[str]] | None = None) -> str:
    def cell(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in ",\"\t\r\n'") else v

    return HEADER + "\n" + "".join(",".join(cell(v) for v in row) + "\n" for row in (ROWS if rows is None else rows))


MIGRATION = """\
name: hostile outputs
target: targets/t.yaml
entities: [accounts, contacts, opportunities]
sources: [acc]
options:
  today: 2026-06-30
"""

MAPPING = """\
file: data/acc.csv
entities:
  accounts:
    columns:
      编号: id
      公司: name
      电话: phone
      备注: note
    derive:
      industry: {column: 行业, lookup: {file: data/industry.csv, key: code, value: name, unknown: keep}}
  contacts:
    columns:
      联系人: name
      手机: mobile
  opportunities:
    columns:
      商机: name
      金额: amount
"""


def target(fmt: str = "csv") -> str:
    # A workbook has no byte order mark or delimiter: the profile refuses them for XLSX.
    spec = '{format: csv, encoding: utf-8, bom: true, delimiter: ","}' if fmt == "csv" else f"{{format: {fmt}}}"
    return textwrap.dedent(f"""\
        name: t
        rests_on: the hostile cases of issue 14
        file: {spec}
        entities:
          accounts:
            object: Account
            columns:
              - {{header: id, value: external_id, type: id}}
              - {{header: 名称, value: name, max_length: 9}}
              - {{header: 电话, value: phone}}
              - {{header: 其他电话, value: phone_others}}
              - {{header: 备注, value: note}}
              - {{header: 行业, value: industry}}
          contacts:
            object: Contact
            columns:
              - {{header: id, value: external_id, type: id}}
              - {{header: 公司, value: account_external_id, parent: accounts}}
              - {{header: 姓名, value: name}}
              - {{header: 手机, value: mobile}}
          opportunities:
            object: Deal
            columns:
              - {{header: id, value: external_id, type: id}}
              - {{header: 公司, value: account_external_id, parent: accounts}}
              - {{header: 商机, value: name}}
              - {{header: 金额, value: amount, type: money, format: "2"}}
        """)


def write_project(root: Path, fmt: str = "csv", rows: list[list[str]] | None = None, options: str = "") -> Path:
    (root / "mappings").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    (root / "targets").mkdir(exist_ok=True)
    (root / "migration.yaml").write_text(MIGRATION + options, encoding="utf-8")
    (root / "mappings" / "acc.yaml").write_text(MAPPING, encoding="utf-8")
    (root / "targets" / "t.yaml").write_text(target(fmt), encoding="utf-8")
    (root / "data" / "acc.csv").write_text(csv_text(rows), encoding="utf-8")
    (root / "data" / "industry.csv").write_text("code,name\nI1,=制造业\nI2,信息技术\n", encoding="utf-8")
    return root


if __name__ == "__main__":
    print(write_project(Path(sys.argv[1]), *(sys.argv[2:3] or ["csv"])))
