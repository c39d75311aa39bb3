"""The demo generator (samples/generate.py) for the benchmark scripts, which run as plain scripts."""

from __future__ import annotations

import importlib.util
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
    """bench/data/<name>, generated once for ``companies`` companies and then reused."""
    project = ROOT / "bench" / "data" / name
    if not (project / "truth" / "truth.csv").exists():
        generator().generate(project, companies, seed)
    return project
