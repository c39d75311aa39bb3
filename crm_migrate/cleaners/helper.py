"""A second process for the cleaners' per-value Python, so that cleaning uses the machine's second core.

Cleaning a column runs its pure-Python cleaner once per distinct value the vectorised fast path leaves (a
company name of an unusual shape, a phone written oddly): at a million records some hundred thousand calls
with the GIL held, while the other core, and polars, wait. During a build (`helping`) one worker process
runs beside the run: started before the sources are read, so that it has booted (and loaded the cleaners'
tables) by the time cleaning starts. `clean_values` then hands the worker the second half of each large
batch of values and cleans the first half itself. The worker runs the same cleaners, which are pure, on the
same values and the same context, so the results are the same, in the same order.

Whatever goes wrong with the worker (it cannot start, is not ready yet, dies, answers nonsense), the values
are cleaned here, as they were before it existed: it can only ever save time. It is not started for
sources under 30 MB (their batches are small) or on a machine with one core, not used for small batches,
and not at all with ``CRM_MIGRATE_NO_HELPER`` set; it prints nothing, and it ends with the cleaning.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast

OFF = "CRM_MIGRATE_NO_HELPER"
MIN_VALUES = 4_000  # a batch smaller than this is cleaned here: handing it over would cost what it saves
FROM_BYTES = 30_000_000  # sources smaller than this make no batch that large: no worker is started for them
WAIT_LEAST, WAIT_TIMES = 30.0, 10  # how long the worker may take over its half: seconds, times this side's
_HEAD = struct.Struct(">Q")
_SAMPLES = [
    "北京星辰科技有限公司",
    "星辰科技（北京）有限公司上海分公司",
    "Xingchen Technology Co., Ltd.",
    "13800138000",
    "010-62345678转801",
    "王芳",
    "Wang Fang",
    "北京市海淀区中关村大街1号",
    "a@example.com",
    "2024-01-01",
    "110105199003070021",
    "1,200.50",
]


def _send(stream, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEAD.pack(len(data)) + data)
    stream.flush()


def _exactly(stream, size: int, deadline: float | None = None) -> bytes:
    """``size`` bytes from a pipe, which gives what has arrived so far on each read; by ``deadline`` (a
    time.monotonic()), if given, or TimeoutError."""
    parts, left = [], size
    while left:
        if deadline is not None and not select.select([stream], [], [], max(deadline - time.monotonic(), 0))[0]:
            raise TimeoutError("the helper did not answer in time")
        part = stream.read(left)
        if not part:
            raise EOFError("the other end closed the pipe")
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _receive(stream, deadline: float | None = None) -> Any:
    return pickle.loads(_exactly(stream, _HEAD.unpack(_exactly(stream, _HEAD.size, deadline))[0], deadline))


class _Helper:
    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.stdin = cast(IO[bytes], process.stdin)  # both piped (`start`)
        self.stdout = cast(IO[bytes], process.stdout)
        self.ready = False
        self.dead = False
        self.sending: threading.Thread | None = None
        self.failed_send = False
        self.batches = 0  # cleaned by the worker

    @classmethod
    def start(cls) -> _Helper | None:
        # This very crm_migrate, whatever the folder the run was started in holds: its folder first on the
        # path, and -P so that the current folder is not put before it (the worker checks, `_serve`).
        package_root = str(Path(__file__).resolve().parent.parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = package_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        try:
            process = subprocess.Popen(
                [sys.executable, "-P", "-m", "crm_migrate.cleaners.helper", _package_file()],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
                cwd=package_root,
                bufsize=0,
            )
        except OSError:
            return None
        return cls(process)

    def usable(self) -> bool:
        """Booted and answering: its 'ready' read without waiting for it."""
        if self.dead:
            return False
        if not self.ready:
            try:
                if not select.select([self.stdout], [], [], 0)[0]:
                    return False  # still starting: not worth waiting for
                self.ready = _receive(self.stdout) == ("ready",)
            except (OSError, EOFError, ValueError, pickle.UnpicklingError):
                self.ready = False
            if not self.ready:
                self.stop()
        return self.ready

    def hand(self, cleaner: Callable, ctx: Any, values: list[str]) -> None:
        """Send a batch without waiting for the worker to take it (a thread writes it into the pipe)."""
        message = (cleaner.__module__, cleaner.__qualname__, ctx, values)

        def write() -> None:
            try:
                _send(self.stdin, message)
            except (OSError, ValueError, pickle.PicklingError):
                self.failed_send = True

        self.failed_send = False
        self.sending = threading.Thread(target=write, daemon=True)
        self.sending.start()

    def take(self, expected: int, wait: float) -> list | None:
        """The cleaned batch, or None when the worker did not clean it within ``wait`` seconds."""
        deadline = time.monotonic() + wait
        try:
            if self.sending is not None:
                self.sending.join(wait)
                if self.sending.is_alive():
                    raise TimeoutError("the helper did not take the batch in time")
            if self.failed_send:
                raise OSError("the batch could not be handed over")
            kind, results = _receive(self.stdout, deadline)
            if kind != "ok" or not isinstance(results, list) or len(results) != expected:
                raise ValueError("the helper did not clean the batch")
            self.batches += 1
            return results
        except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError):  # TimeoutError is an OSError
            self.stop()
            return None

    def stop(self) -> None:
        self.dead = True
        if self.sending is not None and self.sending.is_alive():
            self.process.kill()  # stuck reading a batch: closing its input would wait on the writer
        with contextlib.suppress(OSError):
            self.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(OSError):
            self.stdout.close()


_helper: _Helper | None = None


def _cores() -> int:
    """The processors this process may run on (a container's or taskset's share, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@contextmanager
def helping(wanted: bool = True) -> Iterator[None]:
    """A worker for `clean_values` while the block runs, where ``wanted`` (none on one core, or with
    CRM_MIGRATE_NO_HELPER)."""
    global _helper
    if not wanted or _helper is not None or os.name != "posix" or _cores() < 2 or os.environ.get(OFF):
        yield
        return
    _helper = _Helper.start()
    try:
        yield
    finally:
        done_helping()


def done_helping() -> None:
    """End the worker before the block ends (the build's cleaning is over: it needs the memory back)."""
    global _helper
    helper, _helper = _helper, None
    if helper is not None and not helper.dead:
        helper.stop()


def clean_values(values: list[str], cleaner: Callable, ctx: Any) -> list:
    """``[cleaner(v, ctx) for v in values]``, half of a large batch cleaned by the worker meanwhile."""
    helper = _helper
    if helper is None or len(values) < MIN_VALUES or not helper.usable():
        return [cleaner(v, ctx) for v in values]
    half = len(values) // 2
    helper.hand(cleaner, ctx, values[half:])
    started = time.monotonic()
    mine = [cleaner(v, ctx) for v in values[:half]]
    # as long as its half took here, and then some: a worker that takes far longer is stuck, or starved
    theirs = helper.take(len(values) - half, max(WAIT_LEAST, WAIT_TIMES * (time.monotonic() - started)))
    if theirs is None:  # the worker failed: its half here, as if it had never been asked
        theirs = [cleaner(v, ctx) for v in values[half:]]
    return mine + theirs


def _package_file() -> str:
    """The crm_migrate package this module belongs to, by its __init__.py (what its parent runs)."""
    return str(Path(__file__).resolve().parent.parent / "__init__.py")


def _serve(parent_package: str) -> None:
    """The worker: say ready once the cleaners are loaded, then clean each batch it is sent until its input
    closes. It says nothing (and the run cleans everything itself) if it is not the parent's crm_migrate."""
    if _package_file() != parent_package:
        return
    from crm_migrate.cleaners import CLEANERS, CleanContext

    for cleaner in set(CLEANERS.values()):  # load the tables they read now, not while a batch waits
        for value in _SAMPLES:
            with contextlib.suppress(Exception):  # a sample a cleaner refuses is no matter
                cleaner(value, CleanContext())
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    _send(out, ("ready",))
    while True:
        try:
            module, name, ctx, values = _receive(inp)
        except EOFError:
            return
        try:
            cleaner = getattr(importlib.import_module(module), name)
            _send(out, ("ok", [cleaner(v, ctx) for v in values]))
        except Exception as exc:  # said to the parent, which cleans the batch itself
            _send(out, ("error", repr(exc)))


if __name__ == "__main__":
    _serve(sys.argv[1] if len(sys.argv) > 1 else "")
