"""Hawk signing on a corrected clock: the one place that relies on a private mohawk argument.

Hawk's answer to a client whose clock is off is a 401 carrying the server's time (signed,
see `hawk.HawkAdapter.adjust_clock`); the client is meant to sign its next requests on that
time. mohawk 1.1.0 offers no public way to do so: `mohawk.Sender` always stamps a request
with the local clock, unless given its private `_timestamp` keyword (documented there as
"for easier testing"). Without this, a machine whose clock has drifted more than a minute
could not fetch at all.

What it needs from mohawk: `Sender.__init__` accepting `_timestamp` (an int of seconds) and
using it as the request's `ts`. mohawk is pinned exactly (`mohawk==1.1.0` in pyproject.toml)
and `tests/test_seams.py` fails, naming this module, if an upgrade changes either.
"""

from __future__ import annotations

from typing import Any

import mohawk


def sender(
    credentials: dict[str, Any], url: str, method: str, content: str | bytes, content_type: str, timestamp: int
) -> mohawk.Sender:
    """A mohawk Sender that signs the request as made at `timestamp` (seconds since the epoch)."""
    return mohawk.Sender(
        credentials, url, method, content=content, content_type=content_type, _timestamp=timestamp
    )
