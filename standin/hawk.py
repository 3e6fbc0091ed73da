"""Hawk request verification and response signing for the stand-in.

Written against mohawk directly (never the project's client code) so that a
bug in the client's Hawk handling cannot be mirrored here and go unnoticed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
import threading
import time

import mohawk
from mohawk.exc import HawkFail
from mohawk.util import parse_authorization_header

#: Hawk's default: requests more than this many seconds off the server clock are stale.
TIMESTAMP_SKEW_SECONDS = 60
CONTENT_TYPE = "application/json"
_MAC = re.compile(r'\bmac="([^"]*)"')


class NonceStore:
    """Remembers (id, nonce, ts) triples so a replayed request is refused.

    Entries older than three times the allowed skew are pruned: such a request
    would be rejected as stale anyway, so forgetting its nonce is safe and
    keeps memory flat during long benchmarks.
    """

    def __init__(self, skew_seconds: int = TIMESTAMP_SKEW_SECONDS) -> None:
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str, str], float] = {}
        self._horizon = 3 * skew_seconds
        self._next_prune = time.monotonic() + self._horizon

    def __call__(self, sender_id: str, nonce: str, timestamp: str) -> bool:
        """mohawk's ``seen_nonce`` callback: True if already seen (and record it)."""
        key = (sender_id, nonce, str(timestamp))
        now = time.time()
        with self._lock:
            if time.monotonic() >= self._next_prune:
                cutoff = now - self._horizon
                self._seen = {k: t for k, t in self._seen.items() if t >= cutoff}
                self._next_prune = time.monotonic() + self._horizon
            if key in self._seen:
                return True
            self._seen[key] = now
            return False


class HawkGate:
    """Verifies incoming Hawk headers for a single id/key pair."""

    def __init__(
        self, hawk_id: str, hawk_key: str, algorithm: str = "sha256", clock_offset: float = 0.0
    ) -> None:
        if not hawk_id or not hawk_key:
            raise ValueError("hawk_id and hawk_key must be non-empty")
        if algorithm not in hashlib.algorithms_guaranteed:
            raise ValueError(f"unsupported Hawk algorithm {algorithm!r}")
        self._id = hawk_id
        self._key = hawk_key
        self._algorithm = algorithm
        #: Seconds this server's clock is ahead of the machine's, to play a client's skewed clock.
        self.clock_offset = clock_offset
        self.nonces = NonceStore()

    def _credentials(self, sender_id: str) -> dict[str, str]:
        if sender_id != self._id:
            raise LookupError(sender_id)
        # A fresh dict each time: mohawk mutates the one it is given.
        return {"id": self._id, "key": self._key, "algorithm": self._algorithm}

    def receive(self, authorization: str | None, url: str) -> mohawk.Receiver:
        """Verify a GET with no body; raises ``HawkFail`` (or ``ValueError``) if refused.

        ``url`` must be the URL exactly as the client addressed it: Hawk signs
        host, port and the raw path+query, so any re-encoding breaks the MAC.
        A GET carries no body, so content and content type are both empty;
        mohawk then accepts a request with or without a payload hash.
        """
        if not authorization:
            raise mohawk.exc.MissingAuthorization()
        return mohawk.Receiver(
            self._credentials,
            authorization,
            url,
            "GET",
            content="",
            content_type="",
            seen_nonce=self.nonces,
            timestamp_skew_in_seconds=TIMESTAMP_SKEW_SECONDS,
            localtime_offset_in_seconds=self.clock_offset,
        )

    def forged_header(self, genuine: str) -> str:
        """``genuine`` Server-Authorization with its MAC swapped for a wrong one.

        Same shape and length as a real header (so only MAC verification can
        catch it), but computed with a key the client does not have.
        """
        match = _MAC.search(genuine)
        if match is None:
            raise ValueError("not a Hawk header with a mac")
        fake = hmac.new(b"not-the-shared-key", match.group(1).encode(), self._algorithm)
        forged = base64.b64encode(fake.digest()).decode("ascii")
        return f"{genuine[: match.start(1)]}{forged}{genuine[match.end(1) :]}"


def sign(receiver: mohawk.Receiver, body: bytes) -> str:
    """Server-Authorization header for ``body`` sent as ``CONTENT_TYPE``.

    The body goes to mohawk as a file object on purpose: given bytes, mohawk
    eagerly ``pprint``s the whole payload into a debug message while hashing
    (~75 ms for a 300 KB page); given a stream it hashes block by block.
    """
    return receiver.respond(content=io.BytesIO(body), content_type=CONTENT_TYPE)


def describe(authorization: str | None) -> dict[str, str | None]:
    """Best-effort id/nonce/ts from a Hawk header, for the request log only."""
    fields: dict[str, str | None] = {"hawk_id": None, "nonce": None, "ts": None}
    if not authorization:
        return fields
    try:
        parsed = parse_authorization_header(authorization)
    except (HawkFail, ValueError, KeyError):
        return fields
    fields.update(hawk_id=parsed.get("id"), nonce=parsed.get("nonce"), ts=parsed.get("ts"))
    return fields
