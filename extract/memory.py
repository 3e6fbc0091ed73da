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

M_ARENA_MAX = -8  # glibc's mallopt parameter number


def limit_allocators() -> None:
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")  # for child processes (normalize workers)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            libc.mallopt(M_ARENA_MAX, 2)  # for this process, already started
        except (OSError, AttributeError):
            pass  # not glibc: nothing to limit


def release_free_memory() -> None:
    """Hand memory freed by Python and Arrow back to the OS (glibc keeps it otherwise).

    For worker processes between jobs: a job's peak would otherwise stay their size for
    the rest of the run (measured in issue 4: the batch converter held ~120 MB).
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            libc.malloc_trim(0)
        except (OSError, AttributeError):
            pass  # not glibc
