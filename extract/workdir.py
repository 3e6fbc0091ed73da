"""A directory of dlt's working files that belongs to one run only.

dlt keeps its load packages in a working directory, and a package left there by a killed
run must never be loaded into a later one, so each extract starts from an empty one. Two
runs that share DATAFLOW_WORK_DIR (against two warehouses, say, or two scheduler tasks on
one worker) must not empty each other's: so each run gets a directory of its own, holds
an exclusive lock on it while it works, and removes it when done. A directory whose lock
nobody holds is a killed run's, and the next run removes it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = ".owner"


@contextmanager
def own_directory(parent: Path, prefix: str) -> Iterator[Path]:
    """A fresh directory under `parent`, locked for this process until the block ends,
    then removed; left-overs of killed runs under `parent` are removed first."""
    parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    lock = os.open(path / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _remove_abandoned(parent, keep=path)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(lock)


def _remove_abandoned(parent: Path, keep: Path) -> None:
    """Remove the run directories under `parent` whose lock no live process holds."""
    for other in parent.iterdir():
        if other == keep or not (other / LOCK_FILE).is_file():
            continue
        try:
            handle = os.open(other / LOCK_FILE, os.O_RDWR)
        except OSError:
            continue  # removed meanwhile
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            shutil.rmtree(other, ignore_errors=True)
        except OSError:
            pass  # a live run's
        finally:
            os.close(handle)
