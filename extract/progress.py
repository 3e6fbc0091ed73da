"""Progress of the extract: pages and rows per dataset, with the rate.

On a terminal it is one line redrawn in place; elsewhere (cron, CI, a pipe) a plain log
line every LOG_EVERY seconds; as JSON events with --log-format json; nothing with
--quiet. DATAFLOW_PROGRESS_SECONDS overrides the interval.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from dataflow.report import Reporter
from extract.sources.datahub import FetchStats

REDRAW_EVERY = 0.5
LOG_EVERY = 10.0


def line(stats: FetchStats, elapsed: float) -> str:
    parts = [
        f"{name} {stats.pages.get(name, 0):,} pages {rows:,} rows"
        for name, rows in sorted(stats.records.items())
    ]
    total = sum(stats.records.values())
    rate = total / elapsed if elapsed > 0 else 0.0
    return f"  fetch    {' | '.join(parts) or 'starting'} ({rate:,.0f} rows/s)"


@contextmanager
def shown(stats: FetchStats, reporter: Reporter) -> Iterator[None]:
    """Report progress while the block runs."""
    if reporter.quiet:
        yield
        return
    live = reporter.log_format == "text" and reporter.out.isatty()
    every = float(os.environ.get("DATAFLOW_PROGRESS_SECONDS") or (REDRAW_EVERY if live else LOG_EVERY))
    stop = threading.Event()
    started = time.monotonic()

    def report() -> None:
        while not stop.wait(every):
            elapsed = time.monotonic() - started
            if live:
                reporter.out.write("\r\033[K" + line(stats, elapsed))
                reporter.out.flush()
            else:
                reporter.event(
                    "progress", line(stats, elapsed), pages=dict(stats.pages), rows=dict(stats.records),
                    seconds=round(elapsed, 1),
                )

    thread = threading.Thread(target=report, name="progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        if live:
            reporter.out.write("\r\033[K")
            reporter.out.flush()
