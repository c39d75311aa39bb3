"""The output folder's housekeeping: one run at a time, nothing left behind, private by default.

- **A lock.** A run takes ``.<out>.lock`` beside the output folder (created with O_EXCL, holding its PID)
  before it reads anything, and removes it when it ends, however it ends. A second run on the same folder is
  refused with the PID of the first; a lock whose PID is no longer alive (a killed run) is taken over.
- **No leftovers.** The tree is written to ``.<out>.tmp-PID`` beside the folder and renamed into place; on any
  failure the temporary folder is removed. Folders a killed run left (``.<out>.tmp-PID``, ``.<out>.old-PID``)
  are removed by the next run when their PID is not alive, and reported when it is; if a run was killed between
  putting the old tree aside and the new one in place, the old tree is put back.
- **Private.** Folders are made 0700 and files 0600 (only the owner can read customer data) unless the
  project says ``options.output_mode: shared`` (0755 and 0644).
- **Plain errors.** A full disk, a read-only folder or an ``--out`` that names a file is said as such, with
  the folder, and that nothing was replaced.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from crm_migrate.errors import MigrateError, Problem


@dataclass(frozen=True)
class Modes:
    folder: int
    file: int


PRIVATE = Modes(0o700, 0o600)
SHARED = Modes(0o755, 0o644)


def modes(project) -> Modes:
    return SHARED if getattr(project.config.options, "output_mode", "private") == "shared" else PRIVATE


def lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


def tmp_path(out: Path) -> Path:
    return out.parent / f".{out.name}.tmp-{os.getpid()}"


def alive(pid: int) -> bool:
    """Whether a process with this PID exists (one of another user's counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _holder(lock: Path) -> int | None:
    try:
        text = lock.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def make_parent(out: Path, mode: Modes) -> None:
    """The folder the output folder lives in; a missing one is created (0700 when private)."""
    parent = out.parent
    if parent.exists() and not parent.is_dir():
        raise MigrateError(
            Problem(
                str(parent),
                "this is a file, so the output folder cannot be made in it",
                hint="choose an --out inside a folder",
            )
        )
    try:
        parent.mkdir(parents=True, exist_ok=True, mode=mode.folder)
    except OSError as exc:
        raise MigrateError(write_problem(out, exc)) from None


@contextmanager
def output_lock(out: Path, mode: Modes = PRIVATE) -> Iterator[None]:
    """Hold the output folder's lock for the duration of the block."""
    make_parent(out, mode)
    lock = lock_path(out)
    for _ in range(50):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            pid = _holder(lock)
            if pid is not None and pid != os.getpid() and alive(pid):
                raise MigrateError(
                    Problem(
                        str(out),
                        f"another crm-migrate run (pid {pid}) is writing {out}",
                        hint=f"wait until it has finished; if no crm-migrate is running, delete {lock}",
                    )
                ) from None
            if pid is None and _age(lock) < 5:  # being written this instant: its PID is not in it yet
                time.sleep(0.1)
                continue
            # A killed run's lock: taken over only if it still holds what was read, so that two runs taking
            # over the same stale lock do not both win.
            if _holder(lock) == pid:
                lock.unlink(missing_ok=True)
            continue
        except OSError as exc:
            raise MigrateError(write_problem(out, exc)) from None
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(f"{os.getpid()}\n")
        break
    else:
        raise MigrateError(
            Problem(
                str(out),
                f"cannot take the lock {lock}",
                hint=f"if no crm-migrate is running, delete {lock} and run again",
            )
        )
    try:
        yield
    finally:
        if _holder(lock) == os.getpid():
            lock.unlink(missing_ok=True)


_LEFT = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)$")


def tidy_leftovers(out: Path) -> list[Problem]:
    """Remove what killed runs left beside ``out`` (their temporary and set-aside folders), put back a
    previous tree a run set aside and never replaced, and say what was done; call with the lock held."""
    notes: list[Problem] = []
    try:
        entries = sorted(out.parent.iterdir()) if out.parent.is_dir() else []
    except OSError:
        return notes
    for path in entries:
        found = _LEFT.match(path.name)
        if not found or found["name"] != out.name or not path.is_dir():
            continue
        pid = int(found["pid"])
        if pid != os.getpid() and alive(pid):
            notes.append(
                Problem(
                    str(path),
                    f"left by a run with pid {pid}, which is still running; left as it is",
                    severity="warning",
                    hint=f"delete it if no crm-migrate run is writing {out} (it may hold customer data)",
                )
            )
            continue
        if found["kind"] == "old" and not out.exists():
            try:
                path.rename(out)
            except OSError:
                continue
            notes.append(
                Problem(
                    str(out),
                    f"put back the previous output, which a killed run (pid {pid}) had set aside as {path.name}",
                    severity="warning",
                )
            )
            continue
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            notes.append(
                Problem(
                    str(path),
                    f"removed: left by a run (pid {pid}) that was killed before it finished",
                    severity="warning",
                )
            )
    return notes


def restrict(root: Path, mode: Modes) -> None:
    """Every folder of the tree ``mode.folder`` and every file ``mode.file``, the root included."""
    if not root.exists():
        return
    os.chmod(root, mode.folder if root.is_dir() else mode.file)
    for folder, dirs, files in os.walk(root):
        for d in dirs:
            path = os.path.join(folder, d)
            if not os.path.islink(path):
                os.chmod(path, mode.folder)
        for f in files:
            path = os.path.join(folder, f)
            if not os.path.islink(path):
                os.chmod(path, mode.file)


def write_problem(out: Path, exc: OSError) -> Problem:
    """What went wrong writing the output, said plainly, with the folder and that nothing was replaced."""
    kept = f"nothing was replaced: {out} is as it was" if out.exists() else "nothing was written"
    where = exc.filename or out.parent
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return Problem(
            str(out),
            f"the disk is full: no space left in {out.parent} to write the output; {kept}",
            hint="free some space there, or choose another --out on a disk with room, and run again",
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return Problem(
            str(where),
            f"not allowed to write here ({exc.strerror}); {kept}",
            hint="choose an --out in a folder this user may write to, or change its permissions",
        )
    if exc.errno == errno.ENOTDIR:
        return Problem(
            str(where),
            f"a file stands where a folder is needed; {kept}",
            hint="choose an --out that is a folder (or does not exist yet)",
        )
    return Problem(
        str(where),
        f"cannot write the output: {exc.strerror or exc}; {kept}",
        hint="check the disk and the folder, then run again",
    )
