"""Keep a long load's memory flat: allocator settings for the processes that convert batches.

Arrow's default allocator (jemalloc or mimalloc) keeps freed memory for reuse, and glibc
gives every thread that allocates its own arena; both make a process's memory grow with
the amount of data that passed through it, not with what it holds. Both are set through
their documented environment variables, so they take effect in the processes started
after this call (the conversion worker and dbt's worker are spawned) and, for Arrow, in
this process when it runs before pyarrow is imported.
"""

from __future__ import annotations

import os


def limit_allocators() -> None:
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
