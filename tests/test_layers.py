"""Data flows one way, and the imports say so.

The package is cut into units (a top-level module, or a folder of modules) stacked in layers, lowest first.
A module may import from its own unit and from the units of lower layers, never from its own layer's other
units or from above, so no two units can import each other, however long the way round. Every import
counts: at the top of a module, inside a function (a lazy import), under ``if TYPE_CHECKING``, and a module
named to ``importlib.import_module``. The data flows readers -> cleaners -> stages -> outputs, and the run
is what wires them: readers and cleaners know nothing of each other or of the stages, and the outputs for
people (reports/) are written from plain data the run hands them, so they sit below the run that calls
them. Lowest first:

- the base: errors, path confinement, the version, the project secret, the steps a long run reports;
- mappings: the entity catalogue (entities, fields, the field types), the models of the mapping files
  and target profiles, the built-in profiles;
- beside each other: project (migration.yaml and the mappings loaded into one Project), and the cleaners,
  one module per field type, knowing nothing of files, projects or targets;
- validators: checks only, each given plain data (frames, the project, the profile);
- reports: what is written for people (the review workbook, the quality report, what the verbs print),
  written from plain data: a report never imports the run that calls it;
- readers, then the rest of migrate: the pipeline's stages, the run (the one place that wires them and
  writes the output tree), the dry run, verify;
- the front door (``crm_migrate/__init__.py``), then what the command line shows, then the command line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "crm_migrate"

LAYERS: list[tuple[str, ...]] = [  # lowest first
    ("crm_migrate.errors", "crm_migrate.confine", "crm_migrate.version", "crm_migrate.outcomes"),
    ("crm_migrate.secret", "crm_migrate.steps"),
    ("crm_migrate.mappings",),
    ("crm_migrate.project", "crm_migrate.cleaners"),
    ("crm_migrate.validators",),
    ("crm_migrate.reports",),
    ("crm_migrate.migrate.readers",),
    ("crm_migrate.migrate",),
    ("crm_migrate",),  # the front door: load_project, validate, plan, run, dry_run, verify
    ("crm_migrate.progress",),
    ("crm_migrate.cli",),
    ("crm_migrate.__main__",),
]
LAYER = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = ["crm_migrate", *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str | None:
    """The unit a module belongs to: the longest unit its name starts with (the package root is its
    ``__init__.py`` alone, so a new top-level module belongs to no unit until it is given a layer)."""
    found = [u for u in LAYER if module == u or (u != "crm_migrate" and module.startswith(u + "."))]
    return max(found, key=len) if found else None


def imports(path: Path, module: str) -> list[tuple[int, str]]:
    """Every crm_migrate module ``path`` imports, anywhere in it, with the line: for ``from a import b``
    both a and, where b is a module of its own, a.b."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            found += [(node.lineno, f"{target}.{a.name}") for a in node.names if _is_module(f"{target}.{a.name}")]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) in (
            "import_module",
            "__import__",
        ):
            found += [
                (node.lineno, a.value)
                for a in node.args[:1]
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
    return [(line, name) for line, name in found if name == "crm_migrate" or name.startswith("crm_migrate.")]


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def edges(root: Path = PACKAGE) -> list[tuple[str, int, str]]:
    out = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        out += [(module, line, name) for line, name in imports(path, module)]
    return out


def violations(found: list[tuple[str, int, str]]) -> list[str]:
    """The imports that go up, or sideways to another unit of the same layer."""
    bad = []
    for module, line, name in found:
        mine, theirs = unit_of(module), unit_of(name)
        if mine is None or theirs is None or mine == theirs:
            continue
        if LAYER[theirs] >= LAYER[mine]:
            how = "a unit of the same layer" if LAYER[theirs] == LAYER[mine] else "a higher layer"
            bad.append(f"{module} (line {line}) imports {name}: {theirs} is {how} than {mine}")
    return bad


def test_every_module_is_in_a_layer():
    lost = [module_name(p) for p in PACKAGE.rglob("*.py") if unit_of(module_name(p)) is None]
    assert not lost, f"add these to a layer of LAYERS: {lost}"
    assert all(_is_module(u) for u in LAYER if u != "crm_migrate"), "every unit names a module or folder"


def test_imports_go_down_the_layers():
    found = edges()
    assert len(found) > 300  # the walk sees the package's imports (some 600)
    bad = violations(found)
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def test_the_walk_sees_every_kind_of_import(tmp_path: Path):
    """An upward import is caught at the top of a module, inside a function, under TYPE_CHECKING, relative,
    and through importlib; a downward one is not."""
    root = tmp_path / "crm_migrate"
    for rel in (
        "errors.py",
        "project.py",
        "cleaners/__init__.py",
        "cleaners/text.py",
        "mappings/__init__.py",
        "migrate/__init__.py",
        "migrate/run.py",
    ):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("", encoding="utf-8")
    (root / "mappings" / "models.py").write_text(
        "from crm_migrate.errors import Problem\n"  # down: fine
        "from crm_migrate.cleaners.text import tidy\n"
        "def f():\n    import crm_migrate.migrate.run\n"
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from crm_migrate.migrate import run\n"
        "from ..project import Project\n"
        "import importlib\nimportlib.import_module('crm_migrate.migrate.run')\n",
        encoding="utf-8",
    )
    found = [(m, line, name) for m, line, name in edges(root) if m == "crm_migrate.mappings.models"]
    assert {line for _, line, _ in found} == set(range(1, 11)) - {3, 5, 6, 9}
    lines = sorted({line for line in (int(v.split("(line ")[1].split(")")[0]) for v in violations(found))})
    assert lines == [2, 4, 7, 8, 10]


@pytest.mark.parametrize(
    "module, name, ok",
    [
        ("crm_migrate.migrate.run", "crm_migrate.reports.quality", True),
        ("crm_migrate.reports.quality", "crm_migrate.migrate.run", False),
        ("crm_migrate.migrate.readers.text", "crm_migrate.migrate.columns", False),  # readers know no stage
        ("crm_migrate.migrate.pipeline", "crm_migrate.migrate.readers", True),
        ("crm_migrate.steps", "crm_migrate.secret", False),  # sideways, within the base
        ("crm_migrate.cleaners.base", "crm_migrate.mappings.entities", True),
        ("crm_migrate.cleaners.base", "crm_migrate.project", False),  # sideways
        ("crm_migrate.mappings.models", "crm_migrate.project", False),
    ],
)
def test_the_rule(module: str, name: str, ok: bool):
    assert (not violations([(module, 1, name)])) is ok
