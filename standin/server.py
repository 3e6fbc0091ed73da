"""A local HTTP stand-in for Data Hub's Hawk-authenticated dataset API.

It behaves like the real service where the extractor depends on it: Hawk
request verification (bad MAC, unknown id, stale timestamp and replayed
nonces are refused), signed responses, DRF-style cursor pagination with
absolute percent-encoded ``next`` links, and DRF-shaped error bodies. Pages
are generated per request from ``standin.data``, so memory stays flat however
many records are configured. Records carry the fields Data Hub's twelve dataset
views send today (``standin.fields``), and the ids they name are those of records
this server serves, bar a documented few that dangle on purpose (``standin.data``,
``standin.related``; ``StandIn.universe`` is what they are computed in). Faults can
be injected to exercise the client's retry and validation paths.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import socket
import socketserver
import ssl
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import mohawk
from mohawk.exc import TokenExpired

from standin import related
from standin.changes import BadFilter, Changes, parse_updated_since
from standin.cursor import InvalidCursor, decode_cursor, page_url
from standin.data import ALL_PATHS, DATASET_PATHS, record
from standin.faults import Fault, FaultBook
from standin.fields import KEYS
from standin.hawk import CONTENT_TYPE, HawkGate, describe, sign
from standin.jsonenc import dumps

HEALTH_PATH = "/_standin/health"

#: Percentage of ``records`` given to each dataset; contacts take the remainder (~40%).
PERCENTAGES = {"omis_dataset": 30, "investment_projects_dataset": 30}
DEFAULT_RECORDS = 1000
#: ``requests_log`` keeps only the newest entries so long benchmarks stay flat in memory.
LOG_LIMIT = 100_000

_DATASET_BY_PATH = {path: name for name, path in ALL_PATHS.items()}
_DATASET_BY_PATH.update({path + "/": name for name, path in ALL_PATHS.items()})
_UNAUTHORISED = {"detail": "Incorrect authentication credentials."}
_SERVER_ERROR_HTML = b"<!doctype html>\n<title>Server Error (500)</title>\n<h1>Server Error (500)</h1>"


def split_records(total: int) -> dict[str, int]:
    """Split ``total`` records over the datasets in fixed proportions (30/30/40).

    Rounds down for OMIS and investment projects; contacts get the remainder,
    so the counts always add up to ``total``.
    """
    if total < 0:
        raise ValueError("records must be >= 0")
    counts = {name: total * percent // 100 for name, percent in PERCENTAGES.items()}
    counts["contacts"] = total - sum(counts.values())
    return counts


def _resolve_counts(counts: Mapping[str, int] | None, records: int | None, related_records: int = 0,
                    ) -> dict[str, int]:
    if counts is not None and (records is not None or related_records):
        raise ValueError("give either counts or records, not both")
    if counts is None:
        return {**split_records(DEFAULT_RECORDS if records is None else records),
                **related.split_related(related_records)}
    unknown = set(counts) - set(ALL_PATHS)
    if unknown:
        raise ValueError(f"unknown dataset(s) in counts: {sorted(unknown)}")
    resolved = {name: int(counts.get(name, 0)) for name in ALL_PATHS}
    if any(n < 0 for n in resolved.values()):
        raise ValueError("counts must be >= 0")
    return resolved


class StandIn:
    """The stand-in server, run in a background thread.

    Use as a context manager (``with StandIn(...) as server:``) or call
    ``start()``/``stop()``. ``counts`` sets records per dataset explicitly
    (missing datasets get 0); ``records`` splits a total 30/30/40 over OMIS,
    investment projects and contacts; with neither, 1000 records are split.
    With ``ssl_context`` it serves HTTPS (see ``server_context``); ``clock_offset``
    puts its clock that many seconds ahead of the machine's, to play a client
    whose clock is behind. With ``prerender`` it keeps every page body it renders
    (``prerender()`` renders them all at once), for benchmarks. ``recorded`` serves
    the given records of some datasets as they are (pages of the real application,
    say), paginated and signed like the others.
    """

    def __init__(
        self,
        *,
        counts: Mapping[str, int] | None = None,
        records: int | None = None,
        related_records: int = 0,
        page_size: int = 100,
        hawk_id: str,
        hawk_key: str,
        algorithm: str = "sha256",
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        faults: Iterable[Fault] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        clock_offset: float = 0.0,
        prerender: bool = False,
        recorded: Mapping[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be >= 1")
        self.counts: dict[str, int] = _resolve_counts(counts, records, related_records)
        self.counts.update({dataset: len(rows) for dataset, rows in (recorded or {}).items()})
        self.page_size = page_size
        self.seed = seed
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.gate = HawkGate(hawk_id, hawk_key, algorithm, clock_offset=clock_offset)
        self.faults = FaultBook(faults or ())
        self.changes = Changes(self.counts, seed, {d: list(rows) for d, rows in (recorded or {}).items()})
        #: Page bodies by (path, query, changes.version), with `prerender` (see `prerender()`).
        self._pages: dict[tuple[str, str, int], bytes] | None = {} if prerender else None
        self.stopping = threading.Event()
        self._log: deque[dict[str, Any]] = deque(maxlen=LOG_LIMIT)
        self._log_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> StandIn:
        """Bind, start serving in a daemon thread, and return self."""
        if self._httpd is not None:
            raise RuntimeError("StandIn already started")
        self.stopping.clear()
        for dataset, count in self.counts.items():
            if count and dataset in DATASET_PATHS and dataset not in self.changes.recorded:
                # Build the data pools before serving (a project's client contacts: the contacts' too).
                record(dataset, 0, seed=self.seed, universe=self.changes.universe)
        httpd = _Server((self.host, self.port), self)
        self._httpd = httpd
        bound_host, bound_port = httpd.server_address[:2]
        self.port = bound_port
        shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
        self._base_url = f"{self.scheme}://{shown}:{bound_port}"
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"standin:{bound_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut open keep-alive connections and end any stalls."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- public helpers ----------------------------------------------------

    @property
    def scheme(self) -> str:
        """``https`` when serving TLS (an ``ssl_context`` was given), else ``http``."""
        return "https" if self.ssl_context is not None else "http"

    @property
    def base_url(self) -> str:
        """``http(s)://host:port`` once started (the real port when port=0)."""
        if self._base_url is None:
            raise RuntimeError("StandIn not started")
        return self._base_url

    @property
    def universe(self) -> related.Universe:
        """What the served records name each other in (every dataset's count and the seed):
        ``standin.data.record(..., seed=self.seed, universe=self.universe)`` is a served record."""
        return self.changes.universe

    def url(self, dataset: str) -> str:
        """Absolute URL of a dataset's first page."""
        return self.base_url + ALL_PATHS[dataset]

    # -- upstream changes (see standin.changes) --------------------------------

    def edit(self, dataset: str, indices: Iterable[int], at: dt.datetime | None = None) -> None:
        """Give records new values and `modified_on` = `at` (default now); keys stay."""
        self.changes.edit(dataset, indices, at or dt.datetime.now(dt.UTC))

    def insert(self, dataset: str, how_many: int, at: dt.datetime | None = None, first: int = 0) -> list[int]:
        """Add records with new keys at the end (from index `first` if further on), modified at
        `at` (default now); their indices."""
        return self.changes.insert(dataset, how_many, at or dt.datetime.now(dt.UTC), first)

    def delete(self, dataset: str, indices: Iterable[int]) -> None:
        """Remove records (Data Hub never reports a deletion)."""
        self.changes.delete(dataset, indices)

    def add_field(self, dataset: str, name: str, value: Any) -> None:
        """Every record of `dataset` gains the field `name` with `value`."""
        self.changes.add_field(dataset, name, value)

    def drop_field(self, dataset: str, name: str) -> None:
        """Every record of `dataset` loses the field `name`."""
        self.changes.drop_field(dataset, name)

    def activity(self, at: dt.datetime | None = None) -> None:
        """A day of Data Hub's activity, as of `at` (default now), for the demo to show.

        Of each dataset, every 100th record is edited, 3 new records are added and 2 deleted
        (not of teams and advisers: Data Hub disables those, it does not delete them); the
        new and deleted ones differ from one second's start to the next (so every demo run
        has some), and every OMIS order gains a field no model declares (`priority`)."""
        at = at or dt.datetime.now(dt.UTC)
        turn = int(at.timestamp()) % 1_000_000
        for dataset, count in self.counts.items():
            if count == 0:
                continue
            self.edit(dataset, range(0, count, 100), at)
            self.insert(dataset, 3, at, first=count + turn * 3)
            if dataset not in ("data_hub__teams", "data_hub__advisers"):
                self.delete(dataset, {(turn * 7 + k) % count for k in (1, 2)})
        self.add_field("omis_dataset", "priority", "normal")

    def current_records(self, dataset: str, updated_since: str | None = None) -> list[dict[str, Any]]:
        """The records a client fetching every page would get now, in order."""
        since = parse_updated_since([updated_since] if updated_since is not None else None)
        return [self.changes.current(dataset, i) for i in self.changes.listing(dataset, since)]

    def set_faults(self, faults: Iterable[Fault]) -> None:
        """Replace the active faults at runtime (resets their ``times`` counters)."""
        self.faults.replace(faults)

    @property
    def requests_log(self) -> list[dict[str, Any]]:
        """Snapshot of the requests answered so far, oldest first (newest LOG_LIMIT kept).

        Each entry has method, path, query, hawk_id, nonce, ts, status,
        dataset, page, fault and time (epoch seconds when answered).
        """
        with self._log_lock:
            return list(self._log)

    def clear_requests_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    # -- used by the handler -----------------------------------------------

    def render_page(
        self, dataset: str, path: str, query: str, offset: int, listing: Sequence[int], *, drop_results: bool = False,
        base: str | None = None, replace_next: bool = False, next_url: str | None = None,
    ) -> bytes:
        """The page body, joined from pre-encoded records (see ``record_json``). Links are on
        ``base``, the scheme and host the client asked (as DRF's ``build_absolute_uri``);
        with ``replace_next``, the next link is ``next_url`` instead (a fault)."""
        size, seed = page_size_of(query, self.page_size), self.seed
        base = base or self.base_url
        endless = self.faults.has(dataset, "endless")
        count = len(listing)
        start = offset % max(count, 1) // size * size if endless else offset  # endless: the same records again
        if not replace_next:
            next_url = page_url(base, path, query, offset + size) if endless or offset + size < count else None
        previous_url = page_url(base, path, query, max(offset - size, 0)) if offset > 0 else None
        # DRF's key order: next, previous, results.
        parts = [b'{"next":', dumps(next_url), b',"previous":', dumps(previous_url)]
        if not drop_results:
            end = min(start + size, count)
            results = [self.changes.encoded(dataset, i) for i in listing[start:end]]
            for fault in self.faults.all(dataset, "set_field"):
                if start <= fault.record < end:
                    position = fault.record - start
                    changed = json.loads(results[position])
                    changed.pop(fault.field, None)
                    results[position] = dumps(changed)[:-1] + b"," + dumps(fault.field) + b":" + fault.raw + b"}"
            universe = self.changes.universe
            if offset == 0 and results and self.faults.has(dataset, "null_not_null"):
                first = record(dataset, 0, seed=seed, universe=universe)
                first.update(dict.fromkeys(_NOT_NULL_FIELDS[dataset]))
                results[0] = dumps(first)
            if offset == 0 and len(results) > 2 and self.faults.has(dataset, "wrong_type") and dataset in _WRONG_TYPE:
                third = record(dataset, 2, seed=seed, universe=universe)
                name, value = _WRONG_TYPE[dataset]
                third[name] = value
                results[2] = dumps(third)
            if offset == 0 and len(results) > 3 and self.faults.has(dataset, "unfit_value") and dataset in _UNFIT_VALUE:
                fourth = record(dataset, 3, seed=seed, universe=universe)
                name, value = _UNFIT_VALUE[dataset]
                fourth[name] = value
                results[3] = dumps(fourth)
            if offset == 0 and len(results) > 1 and self.faults.has(dataset, "duplicate_key"):
                second = record(dataset, 1, seed=seed, universe=universe)
                key = _KEY_FIELDS[dataset]
                second[key] = record(dataset, 0, seed=seed, universe=universe)[key]
                results[1] = dumps(second)
            parts += [b',"results":[', b",".join(results), b"]"]
        parts.append(b"}")
        return b"".join(parts)

    def page(
        self, dataset: str, path: str, query: str, offset: int, listing: Sequence[int], base: str | None = None
    ) -> bytes:
        """`render_page`, from the pre-rendered pages when there are (and no fault may change them)."""
        if self._pages is None or not self.faults.empty:
            return self.render_page(dataset, path, query, offset, listing, base=base)
        key = (path, query, self.changes.version, base)
        body = self._pages.get(key)
        if body is None:
            body = self._pages[key] = self.render_page(dataset, path, query, offset, listing, base=base)
        return body

    def prerender(self) -> int:
        """Render every page of every dataset now, as a client following `next` asks for them;
        the number of pages. A fast server for the benchmark: it then serves bytes it holds."""
        if self._pages is None:
            raise RuntimeError("StandIn(prerender=True) keeps pages; this one does not")
        for dataset, path in DATASET_PATHS.items():
            listing = self.changes.listing(dataset, None)
            for offset in range(0, max(len(listing), 1), self.page_size):
                split = urlsplit(page_url(self.base_url, path, "", offset))
                self.page(dataset, split.path, split.query, offset, listing, self.base_url)
        return len(self._pages)

    def _note(self, entry: dict[str, Any]) -> None:
        entry["time"] = time.time()
        with self._log_lock:
            self._log.append(entry)

    def _track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: StandIn) -> None:
        self.app = app
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would call socket.getfqdn(), a reverse DNS
        # lookup that can take seconds in sandboxes; the name is never used.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), port

    def get_request(self) -> tuple[socket.socket, Any]:
        """Accept a connection, wrapped in TLS when serving HTTPS.

        The handshake is left to the handler's thread (on its first read), so a
        client that never completes one cannot hold up the accept loop.
        """
        connection, address = super().get_request()
        context = self.app.ssl_context
        if context is not None:
            connection = context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        return connection, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line on stderr, not a traceback per failure.

        Parents often pipe stderr without draining it; a flood of tracebacks
        could fill the pipe and block the server. Clients hanging up
        mid-response (timeouts, stalls) are expected and not reported, nor
        are TLS handshakes a client broke off (e.g. it does not trust the
        certificate: that is the client's error to report).
        """
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError | ssl.SSLError):
            return
        print(f"standin: error serving {client_address}: {error!r}", file=sys.stderr, flush=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DataHubStandIn/1.0"
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are dropped after this
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.app._track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.app._track(self.connection, open_=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request stderr logging; ``requests_log`` records requests."""

    # -- request handling ----------------------------------------------------

    def do_GET(self) -> None:
        split = urlsplit(self.path)
        path, query = split.path, split.query
        authorization = self.headers.get("Authorization")
        entry: dict[str, Any] = {
            "method": "GET",
            "path": path,
            "query": query,
            "hawk_id": None,
            "nonce": None,
            "ts": None,
            "status": None,
            "dataset": None,
            "page": None,
            "fault": None,
        }
        self._discard_body()
        if path == HEALTH_PATH:
            self._send(entry, 200, b"ok", "text/plain; charset=utf-8")
            return
        dataset = _DATASET_BY_PATH.get(path)
        if dataset is None:
            self._send(entry, 404, dumps({"detail": "Not found."}), CONTENT_TYPE)
            return
        entry["dataset"] = dataset
        receiver = self._authenticate(entry, authorization)
        if receiver is not None:
            self._serve_page(entry, receiver, dataset, path, query)

    def _authenticate(self, entry: dict[str, Any], authorization: str | None) -> mohawk.Receiver | None:
        """The verified request, or None after answering 401 (as DRF would)."""
        try:
            receiver = self.server.app.gate.receive(authorization, self._request_url())
        except Exception as exc:  # any failure to verify is a 401
            entry.update(describe(authorization))
            challenge = exc.www_authenticate if isinstance(exc, TokenExpired) else None
            headers = {"WWW-Authenticate": challenge or "Hawk"}
            self._send(entry, 401, dumps(_UNAUTHORISED), CONTENT_TYPE, headers)
            return None
        parsed = receiver.parsed_header
        entry.update(hawk_id=parsed.get("id"), nonce=parsed.get("nonce"), ts=parsed.get("ts"))
        return receiver

    def _serve_page(
        self, entry: dict[str, Any], receiver: mohawk.Receiver, dataset: str, path: str, query: str
    ) -> None:
        """Answer an authenticated page request, applying any fault for that page."""
        app = self.server.app

        def send_signed(status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
            signature = sign(receiver, body)
            if entry["fault"] == "forged_signature":
                signature = app.gate.forged_header(signature)
            self._send(
                entry, status, body, CONTENT_TYPE, {"Server-Authorization": signature, **(headers or {})}
            )

        try:
            offset = self._offset(query)
        except InvalidCursor:
            send_signed(404, dumps({"detail": "Invalid cursor"}))
            return
        try:
            since = (None if dataset in related.PATHS and dataset not in related.UPDATED_SINCE  # ignored there
                     else parse_updated_since(parse_qs(query, keep_blank_values=True).get("updated_since")))
        except BadFilter:
            send_signed(400, dumps({"updated_since": [
                "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}))
            return

        listing = app.changes.listing(dataset, since)
        count = len(listing)
        if app.faults.has(dataset, "shrink"):
            count //= 2
        page = offset // page_size_of(query, app.page_size) + 1
        fault = app.faults.take(dataset, page)
        mode = fault.mode if fault else None
        entry.update(page=page, fault=mode)

        if fault is not None and mode == "500":
            self._send(entry, 500, _SERVER_ERROR_HTML, "text/html; charset=utf-8")
            return
        if fault is not None and mode == "429":
            wait = fault.retry_after
            detail = f"Request was throttled. Expected available in {wait} second{'s' * (wait != 1)}."
            send_signed(429, dumps({"detail": detail}), {"Retry-After": str(wait)})
            return
        if fault is not None and mode == "stall" and app.stopping.wait(fault.stall_seconds):
            self.close_connection = True  # shutting down mid-stall: answer nothing
            return

        base = self._request_url().split(path, 1)[0]  # the scheme and host the client asked
        if mode == "redirect":
            self._send(entry, 302, b"", "text/html; charset=utf-8", {"Location": fault.target})
            return
        if mode == "no_results":
            body = app.render_page(dataset, path, query, offset, listing[:count], drop_results=True, base=base)
        elif mode in ("foreign_next", "empty_next"):
            body = app.render_page(dataset, path, query, offset, listing[:count], base=base, replace_next=True,
                                   next_url=fault.target if mode == "foreign_next" else "")
        else:
            body = app.page(dataset, path, query, offset, listing[:count], base)
        send_signed(200, _cut_in_half(body) if mode == "truncated_json" else body)

    def _discard_body(self) -> None:
        """Read past any request body so it is not parsed as the next keep-alive request."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > 0:
            if length > 1 << 20:
                self.close_connection = True
                return
            self.rfile.read(length)

    def _request_url(self) -> str:
        """The URL as the client addressed it, which is what Hawk signed."""
        if self.path.startswith(("http://", "https://")):
            return self.path  # absolute-form request target
        app = self.server.app
        host = self.headers.get("Host") or f"{app.host}:{app.port}"
        return f"{app.scheme}://{host}{self.path}"

    @staticmethod
    def _offset(query: str) -> int:
        cursors = parse_qs(query, keep_blank_values=True).get("cursor")
        if cursors is None:
            return 0
        if len(cursors) != 1:
            raise InvalidCursor("repeated cursor parameter")
        return decode_cursor(cursors[0])

    def _send(
        self,
        entry: dict[str, Any],
        status: int,
        body: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        entry["status"] = status
        self.server.app._note(entry)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True  # client went away (e.g. gave up on a stall)


#: Fields the ``null_not_null`` fault blanks in record 0 (fields Data Hub never sends null:
#: the OMIS reference, a project's name and stage, a contact's name); other datasets: the key.
_NOT_NULL_FIELDS = {
    "omis_dataset": ("reference",),
    "investment_projects_dataset": ("name", "stage__name"),
    "contacts": ("name",),
} | {name: (KEYS[name],) for name in related.PATHS}


#: The field and the value of another type the ``wrong_type`` fault gives record 2 (the seed's
#: three datasets; it changes nothing elsewhere, nor does ``unfit_value``).
_WRONG_TYPE = {
    "omis_dataset": ("subtotal_cost", "twelve"),
    "investment_projects_dataset": ("number_new_jobs", "many"),
    "contacts": ("archived", "yes"),
}


#: The field and the value the ``unfit_value`` fault gives record 3: text, as the raw
#: table declares it, that does not fit the published column's type.
_UNFIT_VALUE = {
    "omis_dataset": ("delivery_date", "31/08/2019"),
    "investment_projects_dataset": ("created_on", "last Tuesday"),
    "contacts": ("email", "a" * 250 + "@example.com"),
}


#: The field the ``duplicate_key`` fault copies from record 0 into record 1: each dataset's key
#: as Data Hub keys it (`id`, the export-country history's `history_id`).
_KEY_FIELDS = KEYS


#: Data Hub's dataset pagination: `max_page_size` (datahub/dataset/core/pagination.py).
MAX_PAGE_SIZE = 10_000


def page_size_of(query: str, default: int) -> int:
    """The page size a request asks for (`page_size`, as Data Hub's dataset pagination allows,
    at most MAX_PAGE_SIZE), else `default`; like DRF, a value that is not a positive whole
    number is ignored."""
    values = parse_qs(query, keep_blank_values=True).get("page_size")
    if values:
        text = values[-1]
        if text.isascii() and text.isdigit() and int(text) > 0:
            return min(int(text), MAX_PAGE_SIZE)
    return default


def server_context(cert_file: str, key_file: str) -> ssl.SSLContext:
    """A TLS server context serving ``cert_file`` (PEM, chain included) with ``key_file``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


def _cut_in_half(body: bytes) -> bytes:
    """First half of ``body``, cut on a UTF-8 character boundary.

    Cutting mid-character would turn "invalid JSON" into "invalid UTF-8", a
    different failure than the fault promises.
    """
    cut = len(body) // 2
    while 0 < cut < len(body) and body[cut] & 0xC0 == 0x80:
        cut -= 1
    return body[:cut]
