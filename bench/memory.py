"""Peak memory of a run on one large source: a single CSV of company records, with duplicates and with the
values that make huge blocks in real exports (one company name on thousands of rows, one switchboard or 400
number on tens of thousands, one address for a whole office park).

Builds bench/data/m<rows>/ once (reused after), then runs ``python -m crm_migrate run`` on it in a fresh
process and prints the wall time and the child's peak resident memory, with the date and the machine:

    python bench/memory.py                    # 2,000,000 rows
    python bench/memory.py --rows 1000000
    python bench/memory.py --limit 6000000000 # under an address-space limit, as prlimit --as would set
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏")
BRAND_CHARS = list(
    "星辰云帆华创博远恒通瑞丰嘉禾天泽鼎盛汇智锐思启明联宏达新卓越航金桥德信中科永泰东方鸿运世安康隆兴昌茂"
)
TRADES = [
    "科技",
    "信息技术",
    "电子",
    "机械设备",
    "医疗器械",
    "物流",
    "贸易",
    "餐饮管理",
    "教育咨询",
    "建筑工程",
    "新材料",
    "生物科技",
    "网络科技",
    "文化传媒",
    "食品",
    "环保科技",
    "能源",
    "实业",
]
INDUSTRIES = ["信息技术", "制造业", "医疗健康", "交通物流", "批发零售", "餐饮", "教育", "建筑"]
FORMS = ["有限公司", "有限公司", "有限公司", "有限责任公司", "股份有限公司"]
CITIES = [
    ("北京", "北京市朝阳区", "010"),
    ("上海", "上海市浦东新区", "021"),
    ("深圳", "广东省深圳市南山区", "0755"),
    ("广州", "广东省广州市天河区", "020"),
    ("杭州", "浙江省杭州市西湖区", "0571"),
    ("成都", "四川省成都市武侯区", "028"),
    ("武汉", "湖北省武汉市洪山区", "027"),
    ("南京", "江苏省南京市鼓楼区", "025"),
    ("苏州", "江苏省苏州市姑苏区", "0512"),
    ("西安", "陕西省西安市雁塔区", "029"),
]
STREETS = ["科技园路", "中山路", "人民路", "建设路", "解放大道", "长江路", "创业路", "文一西路", "高新大道", "滨江路"]
OWNERS = ["张三", "李四", "王五", "赵六"]
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
HEADER = ["客户名称", "统一社会信用代码", "电话", "地址", "行业", "负责人", "备注"]

MAPPING = """\
file: data/customers.csv
entities:
  accounts:
    columns:
      客户名称: name
      统一社会信用代码: uscc
      电话: phone
      地址: address
      行业: industry
      负责人: owner
      备注: note
"""


def write_source(path: Path, rows: int, seed: int = 14) -> None:
    """``rows`` company records: about 1.6 rows per company (a company typed again with its legal form,
    region or a character changed), and the common values of real exports planted on many rows."""
    rng = np.random.default_rng(seed)
    companies = int(rows / 1.6)
    brand_len = rng.choice([2, 3, 4], companies, p=[0.5, 0.4, 0.1])
    chars = rng.integers(0, len(BRAND_CHARS), (companies, 4))
    trade = rng.integers(0, len(TRADES), companies)
    city = rng.integers(0, len(CITIES), companies)
    has_uscc = rng.random(companies) < 0.4
    uscc_chars = rng.integers(0, len(USCC_CHARS), (companies, 16))
    phone_digits = rng.integers(20_000_000, 89_999_999, companies)
    street = rng.integers(0, len(STREETS), companies)
    number = rng.integers(1, 999, companies)
    # Row -> company: every company once, the rest repeats of a third of them.
    extra = rows - companies
    owner = np.concatenate([np.arange(companies), rng.integers(0, companies // 3, extra)])
    rng.shuffle(owner)
    variant = rng.random(rows)
    # The planted common values: one name on 8,000 rows, one switchboard on 30,000, one 400 number on
    # 20,000, one office-park address on 15,000, a placeholder name on 5,000.
    # (On fewer rows, proportionally fewer.)
    cut = np.cumsum([round(n * rows / 2_000_000) for n in (8_000, 30_000, 20_000, 15_000, 5_000)])
    same_name, same_phone, hotline, same_address, placeholder = np.split(rng.permutation(rows)[: cut[-1]], cut[:-1])
    name_override = {int(i): "星辰科技有限公司" for i in same_name}
    name_override.update({int(i): "个体户" for i in placeholder})
    phone_override = {int(i): "010-88888888" for i in same_phone}
    phone_override.update({int(i): "400-800-8888" for i in hotline})
    address_override = {int(i): "北京市海淀区中关村软件园一号楼" for i in same_address}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(rows):
            c = int(owner[i])
            brand = "".join(BRAND_CHARS[x] for x in chars[c, : brand_len[c]])
            region, address_region, area = CITIES[city[c]]
            v = variant[i]
            form = FORMS[c % len(FORMS)]
            if v < 0.1:
                form = "有限责任公司" if form == "有限公司" else "有限公司"  # the legal form typed otherwise
            if v < 0.05 and len(brand) >= 3:
                brand = brand[:1] + brand[2:]  # a character dropped
            name = f"{region}{brand}{TRADES[trade[c]]}{form}" if v >= 0.2 else f"{brand}{TRADES[trade[c]]}{form}"
            phone = f"{area}-{phone_digits[c]}" if variant[i] < 0.85 else ""
            uscc = f"91{c % 90 + 10:02d}{''.join(USCC_CHARS[x] for x in uscc_chars[c])}" if has_uscc[c] else ""
            address = f"{address_region}{STREETS[street[c]]}{number[c]}号" if v < 0.7 else ""
            w.writerow(
                [
                    name_override.get(i, name),
                    uscc[:18],
                    phone_override.get(i, phone),
                    address_override.get(i, address),
                    INDUSTRIES[trade[c] % len(INDUSTRIES)],
                    OWNERS[i % len(OWNERS)],
                    "",
                ]
            )


def project(rows: int) -> Path:
    """bench/data/m<rows>: one CSV source of ``rows`` company records (built once, then reused)."""
    root = ROOT / "bench" / "data" / f"m{rows}"
    source = root / "data" / "customers.csv"
    if not source.exists():
        if root.exists():
            shutil.rmtree(root)
        (root / "mappings").mkdir(parents=True)
        write_source(source.with_suffix(".tmp"), rows)
        source.with_suffix(".tmp").rename(source)
        (root / "mappings" / "customers.yaml").write_text(MAPPING, encoding="utf-8")
        (root / "migration.yaml").write_text(
            f"name: memory bench ({rows:,} rows)\nentities: [accounts]\noptions:\n  today: 2026-06-30\n",
            encoding="utf-8",
        )
    return root


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.node()} ({os.cpu_count()} cores, {memory:.0f} GB, {platform.machine()}, Python {platform.python_version()})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--limit", type=int, default=0, help="address-space limit for the run, in bytes")
    args = parser.parse_args()
    root = project(args.rows)
    for left in (root / "out", root / "state"):  # a run from scratch, not a delta of the last one
        if left.exists():
            shutil.rmtree(left)
    limit = args.limit

    def limited() -> None:
        if limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "crm_migrate", "run", str(root)],
        cwd=ROOT,
        env=env,
        preexec_fn=limited,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # KiB -> bytes
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine()}")
    # Both units: the bar says 4 GB, and 4 GiB is 7% more.
    print(
        f"memory rows={args.rows} exit={done.returncode} wall_s={wall:.1f} peak_rss_gib={peak / 2**30:.2f} "
        f"peak_rss_gb={peak / 1e9:.2f}" + (f" limit_gb={limit / 1e9:.1f}" if limit else "")
    )
    if done.returncode:
        print(done.stderr[-3000:] or done.stdout[-3000:])
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
