"""Keep a long load's memory flat (measured in issue 4: peak RSS 380 -> 270 MB at 350k).

Arrow's default allocator keeps freed memory for reuse, and glibc gives every thread
that allocates its own arena; both make RSS grow with the amount of data that passed
through, not with what is held. This must run before pyarrow is imported.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from functools import cache

M_ARENA_MAX = -8  # glibc's mallopt parameter number


@cache
def _glibc() -> ctypes.CDLL | None:
    """The C library, if it is glibc (loaded once: finding it runs a subprocess)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def limit_allocators() -> None:
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")  # for child processes (normalize workers)
    libc = _glibc()
    if libc is not None:  # otherwise not glibc: nothing to limit
        libc.mallopt(M_ARENA_MAX, 2)  # for this process, already started


def release_free_memory() -> None:
    """Hand memory freed by Python and Arrow back to the OS (glibc keeps it otherwise).

    For dbt's worker between its few, large jobs: a parse's or build's peak would otherwise
    stay its size for the rest of the run (measured in issue 4: a worker held ~120 MB).
    Not for many small jobs: re-faulting the memory each time costs CPU (see `convert`).
    """
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
