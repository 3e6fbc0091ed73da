"""What a run tells its user, in the format asked for.

`text` (default) is a short human summary; `json` is one JSON object per line (events,
then the summary) for logs and scripts; `quiet` prints nothing but warnings and errors,
for cron. Warnings always go to stderr.
"""

from __future__ import annotations

import json
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

    def warning(self, message: str) -> None:
        if self.log_format == "json":
            print(json.dumps({"event": "warning", "message": message}), file=sys.stderr, flush=True)
        else:
            print(f"  warning  {message}", file=sys.stderr, flush=True)
