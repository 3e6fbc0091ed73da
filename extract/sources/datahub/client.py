"""The Data Hub HTTP client: a retrying, Hawk-signing session and the page loop.

Data Hub's dataset endpoints use Django REST framework cursor pagination: each body
is `{"next", "previous", "results"}` and `next` is an absolute URL carrying an opaque,
percent-encoded cursor. We follow `next` exactly as given until it is JSON null; anything
else in its place means the server and we disagree, so it fails the dataset:

- a `next` (or an HTTP redirect) to another scheme, host or port than DATAHUB_BASE_URL's
  is refused before anything is sent there: requests are Hawk-signed, and records from
  another server must never be published as Data Hub's;
- an empty `next` (`""`) is not the last page (only null is);
- a page with no records but a `next`, or more than `max_pages` pages, is pagination
  that does not end (DRF's cursor pagination never sends an empty page with a `next`).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from email.utils import mktime_tz, parsedate_tz
from typing import Any
from urllib.parse import urljoin, urlsplit

import msgspec
from requests import Response, Session
from requests.exceptions import ChunkedEncodingError, SSLError, Timeout
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.utils import get_environ_proxies
from tenacity import (
    RetryCallState,
    Retrying,
    retry_any,
    retry_if_exception,
    retry_if_result,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from dataflow.errors import RunError
from dataflow.printable import escaped
from dataflow.settings import DEFAULT_MAX_PAGES, Secret
from extract import json_scan
from extract.sources.datahub.hawk import HawkAdapter, response_path
from extract.sources.datahub.settings import (
    MAX_ATTEMPTS,
    MAX_CONNECTIONS,
    MAX_RETRY_DELAY,
    RETRY_BACKOFF_FACTOR,
    USER_AGENT,
)

log = logging.getLogger("data_flow")

#: Answers worth asking again: throttled, or the server failing for now.
RETRY_STATUS = frozenset((429, *range(500, 600)))
#: Failures on the way worth trying again (a read timeout is a `Timeout`).
RETRY_EXCEPTIONS = (RequestsConnectionError, Timeout, ChunkedEncodingError)


class PageFormatError(RunError):
    """A response body that is not a DRF page."""


class TooDeepError(PageFormatError):
    """A page whose JSON is nested deeper than the parser allows; `record` is the first
    record that is (for the dataset to name its field and key), or None."""

    def __init__(self, message: str, record: bytes | None) -> None:
        super().__init__(message)
        self.record = record


class ForeignURLError(RunError):
    """A request Data Hub's answer asked for, to another server than DATAHUB_BASE_URL."""


class EndlessPagingError(RunError):
    """Pagination that does not end: an empty page with a `next`, or too many pages."""


def origin(url: str) -> tuple[str, str, int | None]:
    """A URL's scheme, host (lower case) and port (the scheme's default when not given)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1  # a malformed port matches nothing
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), port if port is not None else default


def shown_origin(url: str) -> str:
    """'https://host:port' of a URL, escaped, for messages (never the path or query)."""
    scheme, host, port = origin(url)
    return escaped(f"{scheme}://{host}:{port}")


def refuse_foreign(url: str, base_url: str, what: str) -> None:
    """Raise ForeignURLError when `url` is not on `base_url`'s scheme, host and port."""
    if base_url and origin(url) != origin(base_url):
        raise ForeignURLError(f"{what} leads to {shown_origin(url)}, not to DATAHUB_BASE_URL "
                              f"({shown_origin(base_url)}); refused, nothing was sent there")


def is_transient(exc: BaseException) -> bool:
    """A failure that another attempt may not meet. A TLS failure (`SSLError`, which requests
    makes a kind of `ConnectionError`) is not one: an untrusted certificate stays untrusted."""
    return isinstance(exc, RETRY_EXCEPTIONS) and not isinstance(exc, SSLError)


def is_retry_status(response: Response) -> bool:
    return response.status_code in RETRY_STATUS


def retry_after_seconds(response: Response | None) -> float | None:
    """The wait a Retry-After header asks for (seconds or an HTTP date), if any and positive."""
    header = response.headers.get("Retry-After", "") if response is not None else ""
    if re.fullmatch(r"\s*[0-9]+\s*", header):
        seconds: float = int(header)
    else:
        date = parsedate_tz(header) if header else None
        if date is None:
            return None
        seconds = mktime_tz(date) - time.time()
    return seconds if seconds > 0 else None


class WaitRetryAfterOrExponential:
    """Wait what the server's Retry-After asks, else back off exponentially; both capped,
    and never past `budget` seconds since the first attempt (DATAHUB_RETRY_SECONDS): the
    last wait is cut to what is left of it."""

    def __init__(self, multiplier: float, maximum: float, budget: float = float("inf")) -> None:
        self.maximum = maximum
        self.budget = budget
        self.exponential = wait_exponential(multiplier=multiplier, max=maximum)

    def __call__(self, state: RetryCallState) -> float:
        outcome = state.outcome
        response = outcome.result() if outcome is not None and not outcome.failed else None
        asked = retry_after_seconds(response)
        wait = min(asked, self.maximum) if asked is not None else self.exponential(state)
        left = self.budget - (state.seconds_since_start or 0.0)
        return max(0.0, min(wait, left))


class RetryingSession(Session):
    """A requests session that retries transient faults and raises on any error status.

    Every send (so every redirect hop too) is retried on HTTP 429 and 5xx, connection
    errors, read timeouts and broken chunked bodies, with exponential backoff honouring
    Retry-After, for at most `MAX_ATTEMPTS` attempts and `retry_seconds` in all. Out of
    attempts on an error status, the last response is kept, and `request` raises
    `requests.HTTPError` for it as for any other error status (401/403/404 at once).
    """

    def __init__(self, timeout: float, retry_seconds: float, base_url: str = "") -> None:
        super().__init__()
        self.timeout = timeout
        self.base_url = base_url
        self.headers["User-Agent"] = USER_AGENT
        self.retrying = Retrying(
            wait=WaitRetryAfterOrExponential(RETRY_BACKOFF_FACTOR, MAX_RETRY_DELAY, retry_seconds),
            retry=retry_any(retry_if_result(is_retry_status), retry_if_exception(is_transient)),
            stop=stop_after_attempt(MAX_ATTEMPTS) | stop_after_delay(retry_seconds),
            reraise=True,
            # Out of attempts on an error status: hand back the response, `request` raises for it.
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
            before_sleep=_log_retry,
        )

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Response:
        response = super().request(method, url, *args, **kwargs)
        response.raise_for_status()
        return response

    def get_redirect_target(self, resp: Response) -> str | None:
        """requests' redirect target, refused when it leaves DATAHUB_BASE_URL's server (before
        requests prepares, signs and sends it)."""
        target = super().get_redirect_target(resp)
        if target is not None:
            refuse_foreign(urljoin(resp.url, target), self.base_url,
                           f"Data Hub's HTTP {resp.status_code} redirect from {response_path(resp)}")
        return target

    def send(self, request: Any, **kwargs: Any) -> Response:
        refuse_foreign(request.url or "", self.base_url, "a request")  # whatever asked for it
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return self.retrying(super().send, request, **kwargs)


class HawkClient:
    """Per-thread retrying sessions sharing one Hawk adapter.

    Transient faults are retried (see `RetryingSession`). Everything else fails at once:
    401/403/404, a TLS failure such as an untrusted certificate, and (raised by the adapter
    and the page parser, which the retry does not catch) a bad response signature, a
    non-JSON body or a body that is not a page. Each attempt goes through the adapter, so
    each is signed afresh.

    `verify` is requests' `verify`: True for the CA certificates requests ships, or the
    path of a CA bundle (`Settings.ca_bundle`).
    """

    def __init__(
        self,
        hawk_id: str,
        hawk_key: Secret,
        algorithm: str,
        *,
        timeout: float,
        retry_seconds: float,
        max_pages: int = DEFAULT_MAX_PAGES,
        base_url: str = "",
        verify: str | bool = True,
    ) -> None:
        self.base_url = base_url
        self.max_pages = max_pages
        self.timeout = timeout
        self.retry_seconds = retry_seconds
        self.verify = verify
        self.adapter = HawkAdapter(hawk_id, hawk_key, algorithm, pool_maxsize=MAX_CONNECTIONS)
        self._local = threading.local()

    @property
    def session(self) -> RetryingSession:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._make_session()
        return session

    def _make_session(self) -> RetryingSession:
        session = RetryingSession(self.timeout, self.retry_seconds, self.base_url)
        # The environment is read once here instead of on every request (requests scans
        # os.environ per request: ~1 ms a page): proxies now, and the CA bundle, which
        # `Settings.ca_bundle` already resolved from the same variables requests reads.
        session.proxies.update(get_environ_proxies(self.base_url))
        session.trust_env = False
        session.verify = self.verify
        session.mount("http://", self.adapter)
        session.mount("https://", self.adapter)
        return session


def _log_retry(state: RetryCallState) -> None:
    outcome = state.outcome
    if outcome is None:
        return
    if outcome.failed:
        reason = type(outcome.exception()).__name__
        url = getattr(getattr(outcome.exception(), "request", None), "url", None)
    else:
        response = outcome.result()
        reason = f"HTTP {response.status_code}"
        url = response.url
    where = (url or "?").split("?")[0]
    wait = state.next_action.sleep if state.next_action else 0
    log.warning(
        "retrying %s after %s (attempt %d, waiting %.1f s)", where, reason, state.attempt_number, wait
    )


class Page(msgspec.Struct):
    """A DRF page. Records stay raw JSON here: the Arrow conversion parses them in bulk."""

    next: str | None
    results: list[msgspec.Raw]


_decode_page = msgspec.json.Decoder(Page).decode


def parse_page(response: Response) -> Page:
    """Decode one page and check it is a DRF page: `results` a list, `next` a URL or null."""
    where = response_path(response)
    try:
        return _decode_page(response.content)
    except RecursionError:
        raise TooDeepError(f"response from {where} is nested deeper than the JSON parser allows",
                           json_scan.too_deep_record(response.content)) from None
    except msgspec.ValidationError as exc:
        raise PageFormatError(f"response from {where} has no 'results' and 'next' ({exc})") from None
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise PageFormatError(f"response from {where} is not valid JSON") from None


def iter_pages(session: RetryingSession, url: str, max_pages: int = DEFAULT_MAX_PAGES) -> Iterator[list[msgspec.Raw]]:
    """Yield each page's records (raw JSON), following `next` exactly until it is null.

    Each `next` must stay on DATAHUB_BASE_URL's server and differ from every URL before it;
    a page without records must be the last; and a dataset has at most `max_pages` pages.
    (A server that hands out new cursors over the same records is stopped sooner, by the
    repeated record keys: `extract.convert`.)"""
    seen: set[str] = set()
    while True:
        if url in seen:
            raise PageFormatError(f"pagination loops: 'next' repeats {url.split('?')[0]}")
        if len(seen) == max_pages:
            raise EndlessPagingError(f"{url.split('?')[0]} has more than {max_pages:,} pages (DATAHUB_MAX_PAGES); "
                                     "stopped, nothing of it was loaded")
        seen.add(url)
        response = session.get(url)
        page = parse_page(response)
        yield page.results
        if page.next is None:
            return
        where = response_path(response)
        if page.next == "":
            raise PageFormatError(f"response from {where} has an empty 'next' link; only null ends a dataset")
        if not page.results:
            raise EndlessPagingError(f"response from {where} has no records but a 'next' link: "
                                     "pagination that does not end")
        refuse_foreign(page.next, session.base_url, f"the 'next' link of {where}")
        url = page.next
