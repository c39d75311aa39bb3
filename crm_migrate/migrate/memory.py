"""Will the run fit? An estimate of its peak memory from the size of its sources, checked before anything is
read, so that a run too big for the machine stops with a message instead of being killed (or aborted by the
allocator, which no program can catch) an hour in.

The estimate is the sources' text size times what a run has been measured to need per byte (``PER_BYTE``,
from `bench/`: the 1M-record demo reads 135 MB of sources at a 4.6 GB peak, 34 times; a margin on top), plus
what the program itself takes. Workbooks count at the size they unpack to. The limit is
``options.memory_limit`` (``8GB``, ``512MB``, or ``none`` to skip the check); by default what the machine
has available, or half of an address-space limit (``ulimit -v``) when one is set, as polars reserves about
twice the memory it uses.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from crm_migrate.errors import Problem
from crm_migrate.mappings.sizes import parse_size

PER_BYTE = 40  # peak bytes per byte of source text (measured 34 at 1M records; see the module docstring)
BASE = 400 * 2**20  # the program, its libraries and the division table
def available() -> tuple[int | None, str]:
    """The memory this run may use, and where the figure comes from."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft not in (resource.RLIM_INFINITY, -1) and soft > 0:
            return soft // 2, f"half the address-space limit ({_shown(soft)}, ulimit -v)"
    except (ImportError, ValueError, OSError):
        pass
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            info = dict(line.split(":", 1) for line in f if ":" in line)
        return int(info["MemAvailable"].split()[0]) * 1024, "the memory available on this machine"
    except (OSError, KeyError, ValueError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), "the memory of this machine"
    except (ValueError, OSError, AttributeError):
        return None, "unknown"


def source_bytes(files: list[Path]) -> int:
    """The sources' size as text: a workbook at what its parts unpack to."""
    total = 0
    for file in files:
        try:
            if file.suffix.lower() in (".xlsx", ".xlsm") and zipfile.is_zipfile(file):
                with zipfile.ZipFile(file) as z:
                    total += sum(i.file_size for i in z.infolist() if i.filename.startswith("xl/worksheets/")) // 4
                continue
            total += file.stat().st_size
        except (OSError, zipfile.BadZipFile):
            continue  # the reader says what is wrong with it
    return total


def estimate(files: list[Path]) -> int:
    return BASE + PER_BYTE * source_bytes(files)


def check(files: list[Path], limit: str | None, where: str, line: int | None = None) -> Problem | None:
    """A problem when the run will not fit in ``limit`` (the project's option, or what the machine has)."""
    if limit is not None:
        bytes_ = parse_size(limit)
        if bytes_ is None:
            return None
        have, source = bytes_, "options.memory_limit"
    else:
        have, source = available()
        if have is None:
            return None
    need = estimate(files)
    if need <= have:
        return None
    text = _shown(source_bytes(files))
    return Problem(where, line=line, message=f"the sources ({text} of text) need about {_shown(need)} to run, "
                   f"more than the {_shown(have)} of {source}; the run stopped before reading them",
                   hint="run it on a machine with more memory, split the sources into waves, or set "
                   "options.memory_limit (e.g. 16GB, or none) if the estimate is wrong for this data")


def _shown(n: int) -> str:
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"
