"""Sizes as a project writes them: 8GB, 512 MB, 6GiB, 1000000, or none."""

from __future__ import annotations

import re

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_size(text: str) -> int | None:
    """Bytes of ``8GB``, ``512 MB``, ``6GiB``, ``1000000``; None for ``none``. Raises ValueError otherwise."""
    if text.strip().lower() in ("none", "off", "no"):
        return None
    m = _SIZE.match(text)
    if m is None:
        raise ValueError(f"{text!r} is not a size (write it as 8GB, 512MB or none)")
    return int(float(m[1]) * _UNITS[m[2].upper()])
