"""The Data Hub HTTP client: a retrying, Hawk-signing session and the page loop.

Data Hub's dataset endpoints use Django REST framework cursor pagination: each body
is `{"next", "previous", "results"}` and `next` is an absolute URL carrying an opaque,
percent-encoded cursor. We follow `next` exactly as given until it is null; anything
else in its place means the server and we disagree, so it stops the run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from dlt.sources.helpers.requests import Client
from requests import Response, Session

from extract.config import Secret
from extract.errors import RunError
from extract.sources.datahub.hawk import HawkAdapter
from extract.sources.datahub.settings import (
    MAX_ATTEMPTS,
    MAX_CONNECTIONS,
    MAX_RETRY_DELAY,
    RETRY_BACKOFF_FACTOR,
)


class PageFormatError(RunError):
    """A response body that is not a DRF page."""


class HawkClient(Client):
    """dlt's retrying client with our Hawk adapter mounted on every per-thread session."""

    def __init__(
        self, hawk_id: str, hawk_key: Secret, algorithm: str, *, timeout: float
    ) -> None:
        super().__init__(
            request_timeout=timeout,
            max_connections=MAX_CONNECTIONS,
            request_max_attempts=MAX_ATTEMPTS,
            request_backoff_factor=RETRY_BACKOFF_FACTOR,
            request_max_retry_delay=MAX_RETRY_DELAY,
        )
        self.adapter = HawkAdapter(hawk_id, hawk_key, algorithm, pool_maxsize=MAX_CONNECTIONS)

    def _make_session(self) -> Session:
        session = super()._make_session()
        session.mount("http://", self.adapter)
        session.mount("https://", self.adapter)
        return session


def parse_page(response: Response) -> tuple[list[dict[str, Any]], str | None]:
    """Decode one page; decimals are kept as Decimal so no digit is lost to floats."""
    where = response.request.path_url.split("?")[0] if response.request else "response"
    try:
        body = json.loads(response.content, parse_float=Decimal)
    except ValueError:
        raise PageFormatError(f"response from {where} is not valid JSON") from None
    if not isinstance(body, dict) or "results" not in body or "next" not in body:
        raise PageFormatError(f"response from {where} has no 'results' and 'next'")
    results, next_url = body["results"], body["next"]
    if not isinstance(results, list) or not (next_url is None or isinstance(next_url, str)):
        raise PageFormatError(f"response from {where} has malformed 'results' or 'next'")
    return results, next_url


def iter_pages(session: Session, url: str) -> Iterator[list[dict[str, Any]]]:
    """Yield each page's records, following `next` exactly until it is null."""
    seen: set[str] = set()
    while url:
        if url in seen:
            raise PageFormatError(f"pagination loops: 'next' repeats {url.split('?')[0]}")
        seen.add(url)
        results, next_url = parse_page(session.get(url))
        yield results
        url = next_url
