"""The long steps of a migration as they happen: what is being done, how far along, and how long it took.

The library announces each step; by default nobody listens, so a library user or a test sees nothing and
the cost is a few attribute writes per step. The command line listens with a renderer on stderr, and every
run with a `Recorder`, whose lines become ``out/run.log``:

    with step("Scoring accounts", total=pairs.height, unit="pairs") as s:
        for chunk in chunks:          # once per chunk or file, never per row
            ...
            s.advance(chunk.height)

    with listening(Printer()):        # what a caller sees: every step started, advanced and finished
        run(project)

A step's name holds only the tool's own words: a verb, an entity, a project source's file name, an output
file's path; its count is a number of rows, records, pairs or files. Never a value from the data.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Step:
    name: str
    total: int | None = None  # what ``done`` counts up to, where known beforehand
    unit: str = "rows"
    done: int = 0  # advanced so far
    count: int | None = None  # what the step ended with, where it says (else ``done`` or ``total``)
    started: float = 0.0
    seconds: float = 0.0
    failed: bool = False
    _listeners: tuple[Listener, ...] = field(default=(), repr=False)

    def advance(self, n: int = 1) -> None:
        self.done += n
        for listener in self._listeners:
            listener.advanced(self)

    def finish(self, count: int | None) -> None:
        """The step's count as it ended: records written, pairs found, files checked."""
        self.count = count

    @property
    def counted(self) -> int | None:
        if self.count is not None:
            return self.count
        return self.done if self.done else self.total


class Listener:
    """What is told of each step; override what you need."""

    def started(self, step: Step) -> None:
        pass

    def advanced(self, step: Step) -> None:
        pass

    def finished(self, step: Step) -> None:
        """``step.seconds`` is set; ``step.failed`` when an exception (an error, Ctrl-C) ended it."""


_listeners: ContextVar[tuple[Listener, ...]] = ContextVar("crm_migrate_step_listeners", default=())
_prefix: ContextVar[str] = ContextVar("crm_migrate_step_prefix", default="")


@contextmanager
def step(name: str, total: int | None = None, unit: str = "rows") -> Iterator[Step]:
    """One step of the work: started when entered, finished (with its time) when left."""
    listeners = _listeners.get()
    current = Step(_prefix.get() + name, total, unit, _listeners=listeners)
    if not listeners:
        yield current
        return
    current.started = time.perf_counter()
    for listener in listeners:
        listener.started(current)
    try:
        yield current
    except BaseException:
        current.failed = True
        raise
    finally:
        current.seconds = time.perf_counter() - current.started
        for listener in listeners:
            listener.finished(current)


@contextmanager
def listening(*added: Listener) -> Iterator[None]:
    """Tell ``added`` of every step announced inside the block (in this thread and context)."""
    token = _listeners.set(_listeners.get() + added)
    try:
        yield
    finally:
        _listeners.reset(token)


@contextmanager
def named(prefix: str) -> Iterator[None]:
    """Steps inside the block named ``prefix: name`` (the dry run's steps on its sample)."""
    token = _prefix.set(f"{_prefix.get()}{prefix}: ")
    try:
        yield
    finally:
        _prefix.reset(token)


RUN_LOG = "run.log"
_HEADER = "time\tstep\tcount\tunit\tseconds"


class Recorder(Listener):
    """One line per finished step, for ``run.log``: when it ended (UTC), its name, count, unit and seconds."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.began = time.perf_counter()

    def finished(self, step: Step) -> None:
        if step.failed:
            return
        when = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        count = "" if step.counted is None else str(step.counted)
        name = " ".join(step.name.split())  # one line, one field: no tab or newline of a file name
        self.lines.append(f"{when}\t{name}\t{count}\t{step.unit}\t{step.seconds:.3f}")

    def text(self) -> str:
        when = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        total = f"{when}\ttotal\t\t\t{time.perf_counter() - self.began:.3f}"
        return "\n".join([_HEADER, *self.lines, total]) + "\n"

    def write(self, folder: Path) -> Path:
        path = folder / RUN_LOG
        path.write_text(self.text(), encoding="utf-8")
        return path


@contextmanager
def recording() -> Iterator[Recorder]:
    """The recorder listening already (an outer caller's: the dry run's around its run), or a new one for
    the block."""
    found = next((x for x in _listeners.get() if isinstance(x, Recorder)), None)
    if found is not None:
        yield found
        return
    recorder = Recorder()
    with listening(recorder):
        yield recorder
