from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# CI explores the same examples every run; HYPOTHESIS_PROFILE=search digs deeper on purpose.
settings.register_profile(
    "ci", max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("search", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "samples" / "demo"


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """Write a project folder: make_project(migration="...", mappings={"name": "..."}, files={"data/x.csv": b"..."})."""

    def make(
        migration: str = "name: test\n",
        mappings: dict[str, str] | None = None,
        files: dict[str, bytes | str] | None = None,
    ) -> Path:
        root = tmp_path / "project"
        (root / "mappings").mkdir(parents=True, exist_ok=True)
        (root / "migration.yaml").write_text(textwrap.dedent(migration), encoding="utf-8")
        for name, text in (mappings or {}).items():
            (root / "mappings" / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
        for rel, content in (files or {}).items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str):
                path.write_text(content, encoding="utf-8")
            else:
                path.write_bytes(content)
        return root

    return make


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A copy of the demo project without any earlier output, so tests never write into the checkout."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("out", ".out*", ".crm-migrate", "state"))
    return target
