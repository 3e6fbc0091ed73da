"""Hawk request signing and response verification, done in the transport adapter.

Signing lives in `HTTPAdapter.send` rather than in an auth hook because the client's
retrying session (`client.py`) re-sends the same prepared request on every attempt: only
the adapter runs once per attempt, so each retry gets a fresh timestamp and nonce and a
nonce-checking server does not reject it as a replay. The URL signed is the prepared
request's, which is exactly what goes on the wire (requests re-quotes URLs).
"""

from __future__ import annotations

import base64
import hmac
import io
import logging
import re
import time
from typing import Any

import mohawk
import mohawk.exc
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

from dataflow.errors import RunError
from dataflow.settings import Secret
from extract.sources.datahub import mohawk_clock

# mohawk warns on every response check that it is not tracking nonces; that check is for
# receivers (a response echoes our own nonce), so it is noise here.
logging.getLogger("mohawk").setLevel(logging.ERROR)
log = logging.getLogger("data_flow")


class ResponseSignatureError(RunError):
    """A response whose Server-Authorization is missing or does not verify."""


class HawkAdapter(HTTPAdapter):
    """Signs every attempt afresh and refuses any successful response it cannot verify."""

    def __init__(self, hawk_id: str, hawk_key: Secret, algorithm: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._credentials = {"id": hawk_id, "key": hawk_key.reveal(), "algorithm": algorithm}
        # Seconds to add to the local clock, learnt from a server's stale-timestamp answer.
        self.clock_offset = 0.0

    def __repr__(self) -> str:  # never show the credentials
        return f"HawkAdapter(id={self._credentials['id']!r})"

    def sign(self, request: PreparedRequest) -> mohawk.Sender:
        """Put a fresh Hawk Authorization header on the request and return its sender."""
        body = request.body or ""
        sender = mohawk_clock.sender(
            self._credentials,
            request.url or "",
            request.method or "GET",
            content=body,
            content_type=request.headers.get("Content-Type", "") if body else "",
            timestamp=int(time.time() + self.clock_offset),
        )
        request.headers["Authorization"] = sender.request_header
        return sender

    def send(self, request: PreparedRequest, **kwargs: Any) -> Response:  # type: ignore[override]
        sender = self.sign(request)
        response = super().send(request, **kwargs)
        if response.status_code == 401 and self.adjust_clock(response):
            # Hawk's answer to a skewed clock: retry once on the server's time.
            response.close()
            sender = self.sign(request)
            response = super().send(request, **kwargs)
        if 200 <= response.status_code < 300:
            verify_response(sender, response, self.clock_offset)
        return response

    def adjust_clock(self, response: Response) -> bool:
        """Learn the clock offset from a "Stale timestamp" answer, after checking its tsm.

        The server's timestamp is only trusted when its MAC (keyed with our credentials)
        verifies: otherwise anyone on the path could move our clock.
        """
        header = response.headers.get("WWW-Authenticate", "")
        fields = dict(re.findall(r'(\w+)="([^"]*)"', header))
        if not header.startswith("Hawk") or not fields.get("ts", "").isdigit() or "tsm" not in fields:
            return False
        expected = timestamp_mac(fields["ts"], self._credentials["key"], self._credentials["algorithm"])
        if not hmac.compare_digest(expected.encode("ascii"), fields["tsm"].encode("utf-8")):
            raise ResponseSignatureError("Data Hub's stale-timestamp answer failed verification (tsm)")
        self.clock_offset = int(fields["ts"]) - time.time()
        log.warning("clock differs from Data Hub's by %.0f s; using Data Hub's time", self.clock_offset)
        return True


def timestamp_mac(ts: str, key: str, algorithm: str) -> str:
    """Hawk's `tsm`, the MAC a server puts on its time: base64(HMAC(key, "hawk.1.ts\\n<ts>\\n")),
    keyed with the credentials' key and algorithm (the Hawk reference's calculateTsMac).

    Computed here rather than with mohawk's helper, which is not part of its public API."""
    normalized = f"hawk.1.ts\n{ts}\n".encode()
    return base64.b64encode(hmac.new(key.encode("utf-8"), normalized, algorithm).digest()).decode("ascii")


def response_path(response: Response) -> str:
    """The request path a response answers, without the query (cursors), for messages."""
    return response.request.path_url.split("?")[0] if response.request else "response"


def verify_response(sender: mohawk.Sender, response: Response, clock_offset: float = 0.0) -> None:
    """Check the Server-Authorization header against the exact body and content type.

    A response carries the request's timestamp, which mohawk compares with the local clock:
    `clock_offset` (what `adjust_clock` learnt) makes that the server's clock too, or a
    request signed on a corrected clock would have its answer refused as expired."""
    header = response.headers.get("Server-Authorization")
    where = response_path(response)
    if not header:
        raise ResponseSignatureError(f"response from {where} has no Server-Authorization header")
    try:
        sender.accept_response(
            header,
            # A file object is hashed in blocks; given bytes, mohawk also formats the
            # whole body into a debug message (measured ~75 ms for a 300 KB page).
            content=io.BytesIO(response.content),
            content_type=response.headers.get("Content-Type", ""),
            localtime_offset_in_seconds=clock_offset,
        )
    except mohawk.exc.HawkFail as exc:
        raise ResponseSignatureError(
            f"response from {where} failed Hawk verification ({type(exc).__name__})"
        ) from None
