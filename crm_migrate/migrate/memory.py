"""Will the run fit? An estimate of its peak memory from the size of its sources, checked before anything is
read, so that a run too big for the machine stops with a message instead of being killed (or aborted by the
allocator, which no program can catch) an hour in.

The estimate is the sources' records times what a run has been measured to need per record (``PER_ROW``,
from `bench/`, whole runs with every output written: the 1M-record demo, 1.26M source rows, peaks at 4.45 GB,
3.4 KB a record, and a 2M-row single CSV of companies at 4.84 GB, 2.4 KB; a margin on top), plus what the
program itself takes. Records are counted without parsing:
line breaks of a text file, cards of a vCard, ``<row`` elements of a workbook's sheets. The limit is
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

PER_ROW = 5 * 2**10  # peak bytes per source record (measured 2.4 to 3.4 KB; see the module docstring)
CHUNK = 2**24
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


def _count(f, *markers: bytes) -> int:
    """How often the markers occur in a binary stream, read a chunk at a time (a marker across two chunks is
    missed: a count to within a few, as an estimate needs)."""
    n = 0
    while chunk := f.read(CHUNK):
        n += sum(chunk.count(m) for m in markers)
    return n


def source_rows(files: list[Path]) -> int:
    """The sources' records, counted without parsing them (a close upper bound: a header, a title row or a
    line break inside a quoted value counts too)."""
    total = 0
    for file in files:
        try:
            suffix = file.suffix.lower()
            if suffix in (".xlsx", ".xlsm") and zipfile.is_zipfile(file):
                with zipfile.ZipFile(file) as z:
                    for part in z.infolist():
                        if part.filename.startswith("xl/worksheets/") and part.filename.endswith(".xml"):
                            with z.open(part) as f:
                                total += _count(f, b"<row ", b"<row>")
            elif suffix == ".vcf":
                with file.open("rb") as f:
                    total += _count(f, b"BEGIN:VCARD")
            elif suffix in (".xls", ".xlsb", ".ods"):
                total += file.stat().st_size // 100
            else:
                with file.open("rb") as f:
                    total += _count(f, b"\n") + (1 if suffix in (".txt", ".tsv") else 0)
        except (OSError, zipfile.BadZipFile):
            continue  # the reader says what is wrong with it
    return total


def estimate(files: list[Path]) -> int:
    return BASE + PER_ROW * source_rows(files)


def check(files: list[Path], limit: str | None, where: str, line: int | None = None) -> Problem | None:
    """A problem when the run will not fit in ``limit`` (the project's option, or what the machine has)."""
    have: int | None
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
    rows = source_rows(files)
    return Problem(
        where,
        line=line,
        message=f"the sources ({rows:,} records) need about {_shown(need)} to run, "
        f"more than the {_shown(have)} of {source}; the run stopped before reading them",
        hint="run it on a machine with more memory, split the sources into waves, or set "
        "options.memory_limit (e.g. 16GB, or none) if the estimate is wrong for this data",
    )


def _shown(n: int) -> str:
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"
