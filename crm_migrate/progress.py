"""What the command line shows of the library's steps (`crm_migrate.steps`), on stderr.

- On a terminal, a transient bar per running step: its name, how far along (records, pairs, rows, files)
  and the time it has taken so far; nothing stays once the step is done.
- ``--verbose``: besides, one timing line per finished step, terminal or not (CI logs):
  ``   2.41 s  Scoring accounts: 412,087 pairs``.
- ``--quiet``: nothing at all (errors and warnings are printed as always).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

from crm_migrate.steps import Listener, Step, listening


def timing_line(step: Step) -> str:
    """A finished step as ``--verbose`` prints it: seconds, name and count."""
    count = step.counted
    counted = f": {count:,} {step.unit}".rstrip() if count is not None else ""
    return f"{step.seconds:7.2f} s  {step.name}{counted}"


class _Count(ProgressColumn):
    """``12,000/48,000 pairs`` where the total is known, ``12,000 rows`` where it is not, else nothing."""

    def render(self, task: Task) -> Text:
        unit = task.fields.get("unit", "")
        if task.total is not None:
            return Text(f"{int(task.completed):,}/{int(task.total):,} {unit}".rstrip())
        return Text(f"{int(task.completed):,} {unit}".rstrip() if task.completed else "")


class Renderer(Listener):
    """Bars on a terminal (``live``), timing lines when ``verbose``."""

    def __init__(self, console: Console, verbose: bool = False) -> None:
        self.console = console
        self.verbose = verbose
        self.live = console.is_terminal
        self.bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            _Count(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not self.live,
        )
        self.tasks: dict[int, TaskID] = {}

    def started(self, step: Step) -> None:
        if self.live:
            self.tasks[id(step)] = self.bars.add_task(step.name, total=step.total, unit=step.unit)

    def advanced(self, step: Step) -> None:
        if self.live and id(step) in self.tasks:
            self.bars.update(self.tasks[id(step)], completed=step.done)

    def finished(self, step: Step) -> None:
        task = self.tasks.pop(id(step), None)
        if task is not None:
            self.bars.remove_task(task)
        if self.verbose and not step.failed:
            self.console.print(timing_line(step), markup=False, highlight=False)


@contextmanager
def shown(console: Console, quiet: bool = False, verbose: bool = False) -> Iterator[None]:
    """The steps announced inside the block shown on ``console`` (nothing under ``quiet``); the bars are
    cleared on the way out, however the block ends, before any message that follows (an error, Ctrl-C)."""
    if quiet:
        yield
        return
    renderer = Renderer(console, verbose)
    with renderer.bars, listening(renderer):
        yield
