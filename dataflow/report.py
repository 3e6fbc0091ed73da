"""What a run tells its user, in the format asked for.

`text` (default) is a short human summary; `json` is one JSON object per line (events,
then the summary) for logs and scripts; `quiet` prints nothing but warnings and errors,
for cron. Warnings always go to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO

FORMATS = ("text", "json")


class Reporter:
    def __init__(self, log_format: str = "text", quiet: bool = False, out: TextIO | None = None) -> None:
        self.log_format = log_format
        self.quiet = quiet
        self.out = out or sys.stdout

    def event(self, kind: str, text: str, **fields: Any) -> None:
        """One thing that happened; `text` is its human line."""
        if self.quiet:
            return
        if self.log_format == "json":
            print(json.dumps({"event": kind, **fields}, default=str), file=self.out, flush=True)
        else:
            print(text, file=self.out, flush=True)

    def held(self, unpublished: dict[str, str]) -> None:
        """A line for each publish unit not published, with why."""
        for unit, reason in unpublished.items():
            self.event("unpublished", f"  held     {unit}: {reason}", unit=unit, reason=reason)

    def warning(self, message: str) -> None:
        if self.log_format == "json":
            print(json.dumps({"event": "warning", "message": message}), file=sys.stderr, flush=True)
        else:
            print(f"  warning  {message}", file=sys.stderr, flush=True)


class ReaderGone:
    """Standard output that goes on working after its reader went away (`orchestrate.py | head`).

    A run that nobody reads any more must still finish: a BrokenPipeError from a progress
    line would end it as "failed" half-way, even after it published. Once the pipe is
    broken, writes are dropped, and the descriptor is pointed at /dev/null so that the
    interpreter's last flush does not fail either."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._gone = False

    def write(self, text: str) -> int:
        if not self._gone:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._reader_gone()
        return len(text)

    def flush(self) -> None:
        if not self._gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._reader_gone()

    def _reader_gone(self) -> None:
        self._gone = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
