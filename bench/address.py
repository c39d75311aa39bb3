"""Address parsing on the research benchmark: county-level units from the official table, each written six
ways. ``python bench/address.py`` runs 1,000 units; the tests score a smaller sample with ``score``.

    python bench/address.py
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from functools import lru_cache

from crm_migrate.cleaners.divisions import (
    CITY_SUFFIXES,
    COUNTY_SUFFIXES,
    PROVINCE_SUFFIXES,
    Division,
    divisions,
    short_name,
)

SPELLINGS = {
    "A": "full: province, city, district, street",
    "B": "no province",
    "C": "short province and city (广东深圳南山区)",
    "D": "all suffixes dropped (广东深圳南山)",
    "E": "district only",
    "F": "traditional characters",
}
STREETS = ["科技园路1号", "人民路88号", "解放大道100号", "建设路6号", "中山路12号", "长江路3号"]


def spellings(unit: Division, street: str) -> dict[str, str]:
    d = divisions()
    province, city, _ = d.path(unit)
    p_full = province.name
    c_full = city.name if city and city.name != province.name else ""
    p_short = short_name(p_full, PROVINCE_SUFFIXES) or p_full
    c_short = (short_name(c_full, CITY_SUFFIXES) or c_full) if c_full else ""
    u_short = short_name(unit.name, COUNTY_SUFFIXES) or unit.name
    full = p_full + c_full + unit.name + street
    return {
        "A": full,
        "B": c_full + unit.name + street,
        "C": p_short + c_short + unit.name + street,
        "D": p_short + c_short + u_short + street,
        "E": unit.name + street,
        "F": _s2t().convert(full),
    }


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


def sample(n: int, seed: int) -> Iterator[tuple[Division, dict[str, str]]]:
    rng = random.Random(seed)
    units = sorted((u for u in divisions().by_code.values() if u.level == 3), key=lambda u: u.code)
    for unit in rng.sample(units, n):
        yield unit, spellings(unit, rng.choice(STREETS))


def score(n: int = 1000, seed: int = 2026) -> dict[str, float]:
    """Share of addresses whose province and district come out right, per spelling and overall."""
    from crm_migrate.cleaners.address import parse_address

    hits = {k: 0 for k in SPELLINGS}
    for unit, written in sample(n, seed):
        for k, text in written.items():
            parts = parse_address(text)
            hits[k] += bool(parts.county and parts.county.code == unit.code)
    out = {k: v / n for k, v in hits.items()}
    out["all"] = sum(hits.values()) / (n * len(SPELLINGS))
    return out


def main() -> None:
    started = time.perf_counter()
    result = score(1000, 2026)
    seconds = time.perf_counter() - started
    for k, label in SPELLINGS.items():
        print(f"address spelling={k} right={result[k]:.4f} ({label})")
    print(f"address all right={result['all']:.4f} addresses=6000 seconds={seconds:.2f}")


if __name__ == "__main__":
    main()
