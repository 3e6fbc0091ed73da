"""Ending a process without the interpreter's teardown.

Python's shutdown frees every object and module one by one: 0.4-0.7 s in the main process
after a run (dlt, pyarrow and psycopg2 loaded) and 0.6 s in dbt's worker, time the user
waits for nothing (measured in issue 4). The process's exit duties still run, in the
interpreter's own order: its other threads are waited for, the atexit handlers run
(logging's flush, multiprocessing's finalizers and its children, weakref finalizers, the
embedded PostgreSQL's handle bookkeeping), and the standard streams are flushed. Only the
teardown after them is skipped.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from typing import NoReturn


def exit_now(code: int) -> NoReturn:
    """Exit with `code` once the process's exit duties are done (see the module docstring)."""
    main = threading.main_thread()
    for thread in threading.enumerate():
        if thread is not main and not thread.daemon:
            thread.join()
    run_exit_functions = getattr(atexit, "_run_exitfuncs", None)  # CPython's, private
    if run_exit_functions is None:  # a Python without it: exit the slow, normal way
        sys.exit(code)
    run_exit_functions()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
