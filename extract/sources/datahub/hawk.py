"""Hawk request signing and response verification, done in the transport adapter.

Signing lives in `HTTPAdapter.send` rather than in an auth hook because dlt's
retrying session re-sends the same prepared request on every attempt: only the
adapter runs once per attempt, so each retry gets a fresh timestamp and nonce and a
nonce-checking server does not reject it as a replay. The URL signed is the prepared
request's, which is exactly what goes on the wire (requests re-quotes URLs).
"""

from __future__ import annotations

import hmac
import io
import logging
import pprint
import re
import time
from typing import Any

import mohawk
import mohawk.base
import mohawk.exc
import mohawk.util
from mohawk.util import calculate_ts_mac
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

from dataflow.errors import RunError
from dataflow.settings import Secret

# mohawk warns on every response check that it is not tracking nonces; that check is for
# receivers (a response echoes our own nonce), so it is noise here.
logging.getLogger("mohawk").setLevel(logging.ERROR)
log = logging.getLogger("data_flow")


class _PprintWhenDebugging:
    """Stands in for `pprint` inside mohawk, which pretty-prints three debug messages on every
    request whether or not debug logging is on: about 9% of the fetch threads' Python time
    at 350k records (py-spy, issue 4). The text is only made when mohawk logs debug."""

    @staticmethod
    def pformat(value: object) -> str:
        debugging = any(module.log.isEnabledFor(logging.DEBUG) for module in (mohawk.base, mohawk.util))
        return pprint.pformat(value) if debugging else ""


mohawk.base.pprint = mohawk.util.pprint = _PprintWhenDebugging  # type: ignore[attr-defined]


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
        sender = mohawk.Sender(
            self._credentials,
            request.url,
            request.method,
            content=body,
            content_type=request.headers.get("Content-Type", "") if body else "",
            _timestamp=int(time.time() + self.clock_offset),
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
            verify_response(sender, response)
        return response

    def adjust_clock(self, response: Response) -> bool:
        """Learn the clock offset from a "Stale timestamp" answer, after checking its tsm.

        The server's timestamp is only trusted when its MAC (keyed with our credentials)
        verifies: otherwise anyone on the path could move our clock.
        """
        header = response.headers.get("WWW-Authenticate", "")
        fields = dict(re.findall(r'(\w+)="([^"]*)"', header))
        if not header.startswith("Hawk") or "ts" not in fields or "tsm" not in fields:
            return False
        expected = calculate_ts_mac(fields["ts"], self._credentials).decode("ascii")
        if not hmac.compare_digest(expected, fields["tsm"]):
            raise ResponseSignatureError("Data Hub's stale-timestamp answer failed verification (tsm)")
        self.clock_offset = int(fields["ts"]) - time.time()
        log.warning("clock differs from Data Hub's by %.0f s; using Data Hub's time", self.clock_offset)
        return True


def response_path(response: Response) -> str:
    """The request path a response answers, without the query (cursors), for messages."""
    return response.request.path_url.split("?")[0] if response.request else "response"


def verify_response(sender: mohawk.Sender, response: Response) -> None:
    """Check the Server-Authorization header against the exact body and content type."""
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
        )
    except mohawk.exc.HawkFail as exc:
        raise ResponseSignatureError(
            f"response from {where} failed Hawk verification ({type(exc).__name__})"
        ) from None
