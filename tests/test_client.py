"""The Data Hub client against the real stand-in over real HTTP: signing, verification,
pagination. The stand-in shares no Hawk or pagination code with the client.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import msgspec
import pytest
import requests
from conftest import HAWK_ID

from dataflow.settings import Secret
from extract.sources.datahub.client import HawkClient, PageFormatError, iter_pages
from extract.sources.datahub.hawk import ResponseSignatureError
from standin.data import records
from standin.faults import Fault


def client(key: str, timeout: float = 10.0, retry_seconds: float = 30.0) -> HawkClient:
    return HawkClient(HAWK_ID, Secret(key), "sha256", timeout=timeout, retry_seconds=retry_seconds)


def fetch_all(key: str, url: str) -> list[dict]:
    return [json.loads(bytes(raw)) for page in iter_pages(client(key).session, url) for raw in page]


def test_follows_next_to_the_end_and_gets_every_record_once(make_standin, hawk_key):
    standin = make_standin(counts={"omis_dataset": 95, "investment_projects_dataset": 1, "contacts": 1},
                           page_size=10)
    got = fetch_all(hawk_key, standin.url("omis_dataset"))
    assert got == list(records("omis_dataset", 95, universe=standin.universe))
    log = [e for e in standin.requests_log if "omis" in e["path"]]
    assert len(log) == 10 and all(e["status"] == 200 for e in log)
    # The cursor went on the wire percent-encoded, as the server wrote it in `next`.
    cursors = [e["query"] for e in log if e["query"]]
    assert cursors and all("%3D" in q for q in cursors)
    assert len({e["nonce"] for e in log}) == len(log), "every request carries its own nonce"


def test_empty_dataset_is_one_empty_page(make_standin, hawk_key):
    standin = make_standin(counts={"omis_dataset": 0, "investment_projects_dataset": 1, "contacts": 1})
    assert fetch_all(hawk_key, standin.url("omis_dataset")) == []


def test_wrong_key_is_refused_without_retrying(make_standin, hawk_key):
    standin = make_standin(records=30)
    with pytest.raises(requests.HTTPError) as raised:
        fetch_all("not-the-key", standin.url("contacts"))
    assert raised.value.response.status_code == 401
    assert len(standin.requests_log) == 1


def test_missing_page_fails_at_once(make_standin, hawk_key):
    standin = make_standin(records=30)
    with pytest.raises(requests.HTTPError) as raised:
        fetch_all(hawk_key, standin.base_url + "/v4/dataset/no-such-dataset")
    assert raised.value.response.status_code == 404
    assert len(standin.requests_log) == 1


def test_unreachable_server_is_retried_within_the_budget():
    from extract.sources.datahub.settings import MAX_ATTEMPTS

    unreachable = client("k" * 20, retry_seconds=2)
    attempts: list[float] = []
    send = unreachable.adapter.send

    def counted_send(*args, **kwargs):
        attempts.append(time.monotonic())
        return send(*args, **kwargs)

    unreachable.adapter.send = counted_send  # every attempt goes through the adapter
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        list(iter_pages(unreachable.session, "http://127.0.0.1:9/v4/dataset/contacts-dataset"))
    # Retried, with the backoff's 1 s wait before the second attempt (lower bounds only)...
    assert len(attempts) >= 2 and attempts[1] - attempts[0] >= 1
    # ...until the 2 s budget was spent (waits 1 then 2 s: two or three attempts), not the attempt cap.
    assert len(attempts) < MAX_ATTEMPTS
    assert time.monotonic() - started >= 2


def test_skewed_clock_is_corrected_from_a_verified_stale_timestamp_answer(make_standin, hawk_key):
    standin = make_standin(records=30)
    skewed = client(hawk_key)
    skewed.adapter.clock_offset = -3600.0  # our clock an hour slow
    rows = [raw for page in iter_pages(skewed.session, standin.url("contacts")) for raw in page]
    assert len(rows) == 12
    assert [e["status"] for e in standin.requests_log] == [401, 200]
    assert abs(skewed.adapter.clock_offset) < 5  # now on the server's time (same machine)


def test_clock_behind_the_servers_is_corrected_and_its_answers_verify(make_standin, hawk_key):
    """Our clock an hour behind Data Hub's for real (the server's runs ahead): the requests are
    signed on the server's time, and its signed answers, which carry that time, still verify."""
    standin = make_standin(records=60, page_size=5, clock_offset=3600.0)
    behind = client(hawk_key)
    rows = [raw for page in iter_pages(behind.session, standin.url("contacts")) for raw in page]
    assert len(rows) == 24
    assert [e["status"] for e in standin.requests_log][:2] == [401, 200]
    assert {e["status"] for e in standin.requests_log[1:]} == {200}
    assert abs(behind.adapter.clock_offset - 3600) < 5


def test_backoff_is_exponential_and_honours_retry_after(make_standin, hawk_key, caplog):
    standin = make_standin(records=60, page_size=5, faults=[
        Fault("contacts", "500", page=2, times=2), Fault("contacts", "429", page=3, times=1, retry_after=3)])
    with caplog.at_level(logging.WARNING, logger="data_flow"):
        assert len(fetch_all(hawk_key, standin.url("contacts"))) == 24
    path = standin.url("contacts")
    assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying")] == [
        f"retrying {path} after HTTP 500 (attempt 1, waiting 1.0 s)",
        f"retrying {path} after HTTP 500 (attempt 2, waiting 2.0 s)",
        f"retrying {path} after HTTP 429 (attempt 1, waiting 3.0 s)",
    ]


def test_error_status_out_of_attempts_raises_http_error_for_it(make_standin, hawk_key):
    standin = make_standin(records=60, page_size=5, faults=[Fault("contacts", "500", page=2)])
    with pytest.raises(requests.HTTPError) as raised:
        list(iter_pages(client(hawk_key, retry_seconds=2).session, standin.url("contacts")))
    assert raised.value.response.status_code == 500
    assert len([e for e in standin.requests_log if e["page"] == 2]) >= 2, "5xx is retried"


def test_retried_request_is_signed_afresh(make_standin, hawk_key):
    standin = make_standin(records=60, page_size=5,
                           faults=[Fault("contacts", "500", page=2, times=1)])
    got = fetch_all(hawk_key, standin.url("contacts"))
    assert len(got) == 24
    page_two = [e for e in standin.requests_log if e["page"] == 2]
    assert [e["status"] for e in page_two] == [500, 200]
    assert page_two[0]["nonce"] != page_two[1]["nonce"]


@pytest.mark.parametrize(
    ("mode", "error"),
    [("forged_signature", ResponseSignatureError), ("no_results", PageFormatError),
     ("truncated_json", (PageFormatError, ResponseSignatureError))],
)
def test_bad_pages_fail(make_standin, hawk_key, mode, error):
    standin = make_standin(records=60, page_size=5, faults=[Fault("omis_dataset", mode, page=2)])
    with pytest.raises(error):
        fetch_all(hawk_key, standin.url("omis_dataset"))


# ---------------------------------------------------------------- tampering in transit

class _Tamper(BaseHTTPRequestHandler):
    """A man in the middle: forwards to the stand-in, then alters the answer."""

    upstream = ""
    mode = "body"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        answer = requests.get(self.upstream + self.path,
                              headers={"Authorization": self.headers["Authorization"],
                                       "Host": self.headers["Host"]}, timeout=10)
        body = answer.content
        headers = {k: v for k, v in answer.headers.items()
                   if k.lower() in ("content-type", "server-authorization", "www-authenticate")}
        if self.mode == "body":
            body = body.replace(b'"results": [', b'"results": [ ', 1) if b'"results": [' in body \
                else body.replace(b'"results":[', b'"results": [', 1)
        elif self.mode == "strip":
            headers.pop("Server-Authorization", None)
        elif self.mode == "tsm":
            stale = answer.headers.get("WWW-Authenticate", "")
            headers["WWW-Authenticate"] = stale.replace('ts="', 'ts="1', 1)  # a moved server time

        self.send_response(answer.status_code)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def tamper(make_standin) -> Iterator:
    servers = []

    def start(mode: str) -> tuple[str, object]:
        standin = make_standin(records=30)
        handler = type("Handler", (_Tamper,), {"upstream": standin.base_url, "mode": mode})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        host, port = server.server_address
        # The Host header is what both sides sign: keep the stand-in's.
        return f"http://{host}:{port}" + standin.url("contacts")[len(standin.base_url):], standin

    yield start
    for server in servers:
        server.shutdown()


@pytest.mark.parametrize("mode", ["body", "strip"])
def test_altered_response_fails_verification(tamper, hawk_key, mode):
    url, standin = tamper(mode)
    with pytest.raises((ResponseSignatureError, requests.HTTPError)) as raised:
        fetch_all(hawk_key, url)
    assert isinstance(raised.value, ResponseSignatureError), raised.value
    assert hawk_key not in str(raised.value)


def test_stale_timestamp_answer_with_a_bad_tsm_is_refused(tamper, hawk_key):
    url, standin = tamper("tsm")
    skewed = client(hawk_key)
    skewed.adapter.clock_offset = -3600.0
    with pytest.raises(ResponseSignatureError, match="tsm"):
        list(iter_pages(skewed.session, url))
    assert skewed.adapter.clock_offset == -3600.0


def test_a_page_larger_than_a_batch_is_split_into_batches():
    """Interactions come 10,000 a page: batches stay at their size whatever the page size."""
    from extract.sources.datahub import record_batches

    pages = [[msgspec.Raw(b'{"n": %d}' % n) for n in range(5)], [msgspec.Raw(b"{}")] * 3]
    batches = list(record_batches(pages, 2))
    assert [len(batch) for batch in batches] == [2, 2, 2, 2]
    assert batches[0] == [b'{"n": 0}', b'{"n": 1}'] and batches[2][0] == b'{"n": 4}'
    assert list(record_batches([], 2)) == [[]]  # an empty dataset still replaces its raw table


def test_the_retry_budget_bounds_the_waits_too(make_standin, hawk_key, caplog):
    """DATAHUB_RETRY_SECONDS is a real bound: a Retry-After of 30 s is cut to what is left of
    a 3 s budget, so giving up takes about 3 s, not 30."""
    standin = make_standin(records=60, page_size=5, faults=[Fault("contacts", "429", page=1, retry_after=30)])
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="data_flow"), pytest.raises(requests.HTTPError):
        list(iter_pages(client(hawk_key, retry_seconds=3).session, standin.url("contacts")))
    assert time.monotonic() - started < 3 + 2  # the budget, and the last attempt's own answer
    waits = [float(r.getMessage().split("waiting ")[1].split(" s")[0]) for r in caplog.records
             if r.getMessage().startswith("retrying")]
    assert waits and all(wait <= 3 for wait in waits) and sum(waits) <= 3


def test_runs_sharing_a_work_directory_keep_their_own_dlt_files(tmp_path):
    """Two runs with one DATAFLOW_WORK_DIR each work in a directory of their own; a directory
    left by a killed run (its lock held by nobody) is removed by the next run, a live one is not."""
    from extract.workdir import LOCK_FILE, own_directory

    abandoned = tmp_path / "datahub-killed"
    abandoned.mkdir()
    (abandoned / LOCK_FILE).touch()
    with own_directory(tmp_path, "datahub-") as first:
        (first / "package").write_text("first run's load package")
        assert not abandoned.exists()
        with own_directory(tmp_path, "datahub-") as second:
            assert second != first
            assert (first / "package").read_text() == "first run's load package"
        assert not second.exists()
        assert (first / "package").exists()
    assert not first.exists()
