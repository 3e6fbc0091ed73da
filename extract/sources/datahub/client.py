"""The Data Hub HTTP client: a retrying, Hawk-signing session and the page loop.

Data Hub's dataset endpoints use Django REST framework cursor pagination: each body
is `{"next", "previous", "results"}` and `next` is an absolute URL carrying an opaque,
percent-encoded cursor. We follow `next` exactly as given until it is null; anything
else in its place means the server and we disagree, so it stops the run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import msgspec
from dlt.sources.helpers.requests.retry import (
    DEFAULT_RETRY_EXCEPTIONS,
    DEFAULT_RETRY_STATUS,
    retry_if_status,
    wait_exponential_retry_after,
)
from dlt.sources.helpers.requests.session import Session as DltSession
from requests import Response, Session
from requests.utils import get_environ_proxies
from tenacity import (
    RetryCallState,
    Retrying,
    retry_any,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
)

from dataflow.errors import RunError
from dataflow.settings import Secret
from extract.sources.datahub.hawk import HawkAdapter, response_path
from extract.sources.datahub.settings import (
    MAX_ATTEMPTS,
    MAX_CONNECTIONS,
    MAX_RETRY_DELAY,
    RETRY_BACKOFF_FACTOR,
)

log = logging.getLogger("data_flow")


class PageFormatError(RunError):
    """A response body that is not a DRF page."""


class HawkClient:
    """Per-thread retrying sessions sharing one Hawk adapter.

    Transient faults (HTTP 429 and 5xx, connection errors, read timeouts) are retried
    with exponential backoff, honouring Retry-After, for at most `MAX_ATTEMPTS` attempts
    and `retry_seconds` in all. Everything else fails at once: 401/403/404, and (raised
    by the adapter and the page parser, which the retry does not catch) a bad response
    signature, a non-JSON body or a body that is not a page. Each attempt goes through
    the adapter, so each is signed afresh.
    """

    def __init__(
        self,
        hawk_id: str,
        hawk_key: Secret,
        algorithm: str,
        *,
        timeout: float,
        retry_seconds: float,
        base_url: str = "",
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.retry_seconds = retry_seconds
        self.adapter = HawkAdapter(hawk_id, hawk_key, algorithm, pool_maxsize=MAX_CONNECTIONS)
        self._local = threading.local()

    @property
    def session(self) -> Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._make_session()
        return session

    def _make_session(self) -> Session:
        session = DltSession(timeout=self.timeout, raise_for_status=True)
        # Proxies from the environment are read once here instead of on every request
        # (requests scans os.environ per request: ~1 ms a page, measured in issue 4).
        session.proxies.update(get_environ_proxies(self.base_url))
        session.trust_env = False
        session.mount("http://", self.adapter)
        session.mount("https://", self.adapter)
        retrying = Retrying(
            wait=wait_exponential_retry_after(multiplier=RETRY_BACKOFF_FACTOR, max=MAX_RETRY_DELAY),
            retry=retry_any(
                retry_if_status(DEFAULT_RETRY_STATUS), retry_if_exception_type(DEFAULT_RETRY_EXCEPTIONS)
            ),
            stop=stop_after_attempt(MAX_ATTEMPTS) | stop_after_delay(self.retry_seconds),
            reraise=True,
            # Out of attempts on an error status: hand back the response, raise_for_status names it.
            retry_error_callback=lambda state: state.outcome.result(),
            before_sleep=_log_retry,
        )
        session.send = retrying.wraps(session.send)  # type: ignore[method-assign]
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
    except msgspec.ValidationError as exc:
        raise PageFormatError(f"response from {where} has no 'results' and 'next' ({exc})") from None
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise PageFormatError(f"response from {where} is not valid JSON") from None


def iter_pages(session: Session, url: str) -> Iterator[list[msgspec.Raw]]:
    """Yield each page's records (raw JSON), following `next` exactly until it is null."""
    seen: set[str] = set()
    while url:
        if url in seen:
            raise PageFormatError(f"pagination loops: 'next' repeats {url.split('?')[0]}")
        seen.add(url)
        page = parse_page(session.get(url))
        yield page.results
        url = page.next
