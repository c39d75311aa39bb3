"""The demo generator (samples/generate.py) for the benchmark scripts, which run as plain scripts."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def generator():
    """samples/generate.py as a module."""
    spec = importlib.util.spec_from_file_location("generate", ROOT / "samples" / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    sys.modules["generate"] = gen
    spec.loader.exec_module(gen)
    return gen


def generated_project(name: str, companies: int, seed: int = 7) -> Path:
    """bench/data/<name>, generated for ``companies`` companies and then reused for as long as the generator
    is the same: truth/generator.txt names the generator's checksum, the companies and the seed, and a
    project made by another (or without that file) is made again, mappings and all."""
    project = ROOT / "bench" / "data" / name
    stamp = project / "truth" / "generator.txt"
    made_by = f"{generator_checksum()} companies={companies} seed={seed}\n"
    current = stamp.exists() and stamp.read_text(encoding="utf-8") == made_by
    if not (current and (project / "truth" / "truth.csv").exists()):
        if project.exists():
            shutil.rmtree(project)
        generator().generate(project, companies, seed)
        stamp.write_text(made_by, encoding="utf-8")
    return project


def generator_checksum() -> str:
    """SHA-256 over the generator's code (samples/*.py) and the demo project it copies (mappings, target)."""
    digest = hashlib.sha256()
    demo = ROOT / "samples" / "demo"
    files = (
        sorted(ROOT.glob("samples/*.py"))
        + sorted(demo.glob("*.yaml"))
        + sorted(demo.glob("mappings/*.yaml"))
        + sorted(demo.glob("targets/*.yaml"))
    )
    for path in files:
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
