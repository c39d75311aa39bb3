"""crm-migrate: move a company's scattered customer data into a new CRM, clean.

The library's front door: the verbs of the command line as functions over one loaded project, each
returning a result whose ``exit_code`` is the command's exit status (a `MigrateError` is 1)::

    import crm_migrate

    project = crm_migrate.load_project("samples/demo")
    plan = crm_migrate.plan(project)            # Plan: .facts (as plan --format json), .problems
    result = crm_migrate.run(project, "out")    # RunResult: .files, .lineage, .reconciliation

Called as a library, crm-migrate prints nothing; `crm_migrate.steps.listening` hears its steps. The names are
imported when first used, so ``import crm_migrate`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {  # name -> the module that defines it
    "__version__": "crm_migrate.version",
    "load_project": "crm_migrate.project",
    "Project": "crm_migrate.project",
    "validate": "crm_migrate.migrate.validate",
    "Validation": "crm_migrate.migrate.validate",
    "plan": "crm_migrate.migrate.plan",
    "Plan": "crm_migrate.migrate.plan",
    "run": "crm_migrate.migrate.run",
    "RunResult": "crm_migrate.migrate.run",
    "dry_run": "crm_migrate.migrate.dryrun",
    "DryRun": "crm_migrate.migrate.dryrun",
    "verify": "crm_migrate.migrate.verify",
    "Verification": "crm_migrate.validators.roundtrip",
    "watch": "crm_migrate.migrate.watch",
    "Watch": "crm_migrate.migrate.watch",
    "MigrateError": "crm_migrate.errors",
    "Problem": "crm_migrate.errors",
}

__all__ = [name for name in _EXPORTS if name != "__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'crm_migrate' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # once: the next use is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:  # what type checkers and editors see; at run time __getattr__ imports each on first use
    from crm_migrate.errors import MigrateError as MigrateError
    from crm_migrate.errors import Problem as Problem
    from crm_migrate.migrate.dryrun import DryRun as DryRun
    from crm_migrate.migrate.dryrun import dry_run as dry_run
    from crm_migrate.migrate.plan import Plan as Plan
    from crm_migrate.migrate.plan import plan as plan
    from crm_migrate.migrate.run import RunResult as RunResult
    from crm_migrate.migrate.run import run as run
    from crm_migrate.migrate.validate import Validation as Validation
    from crm_migrate.migrate.validate import validate as validate
    from crm_migrate.migrate.verify import verify as verify
    from crm_migrate.migrate.watch import Watch as Watch
    from crm_migrate.migrate.watch import watch as watch
    from crm_migrate.project import Project as Project
    from crm_migrate.project import load_project as load_project
    from crm_migrate.validators.roundtrip import Verification as Verification
    from crm_migrate.version import __version__ as __version__
