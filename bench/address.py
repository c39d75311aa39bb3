"""Address parsing on the research benchmark: 1,000 county-level units, six spellings each.

    python bench/address.py
"""

from __future__ import annotations

import time

from crm_migrate.cleaners.address_benchmark import SPELLINGS, score


def main() -> None:
    started = time.perf_counter()
    result = score(1000, 2026)
    seconds = time.perf_counter() - started
    for k, label in SPELLINGS.items():
        print(f"address spelling={k} right={result[k]:.4f} ({label})")
    print(f"address all right={result['all']:.4f} addresses=6000 seconds={seconds:.2f}")


if __name__ == "__main__":
    main()
