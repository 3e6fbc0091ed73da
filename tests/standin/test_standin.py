"""Tests of the Data Hub stand-in itself, over real HTTP.

Requests are signed inline with mohawk.Sender (never with the project's client)
so these tests pin down the stand-in's behaviour independently of the code it
is meant to exercise.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import mohawk
import pytest
import requests
from mohawk.exc import MacMismatch

from standin import DATASET_PATHS, Fault, StandIn, record, records
from standin.cursor import decode_cursor, encode_cursor
from standin.data import SHARED_CREATED_ON, field_names, record_json
from standin.fields import FIELDS, LIST, TIMESTAMP
from standin.jsonenc import dumps
from standin.pools import AWKWARD_TEXT
from standin.server import page_size_of, split_records

REPO = Path(__file__).resolve().parents[2]
HAWK_ID = "standin-tests"
HAWK_KEY = "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn"
CREDENTIALS = {"id": HAWK_ID, "key": HAWK_KEY, "algorithm": "sha256"}
COUNTS = {"omis_dataset": 250, "investment_projects_dataset": 120, "contacts": 99}


# ----------------------------------------------------------------------------- helpers


def signed_get(
    url: str,
    *,
    credentials: dict[str, str] | None = None,
    timestamp: int | None = None,
    session: requests.Session | None = None,
    timeout: float = 10.0,
) -> tuple[mohawk.Sender, requests.Response]:
    """GET ``url`` with a Hawk header computed here, the way Data Hub clients do."""
    sender = mohawk.Sender(
        dict(credentials or CREDENTIALS),
        url,
        "GET",
        content="",
        content_type="",
        _timestamp=timestamp,
    )
    response = (session or requests).get(
        url, headers={"Authorization": sender.request_header}, timeout=timeout
    )
    return sender, response


def verify(sender: mohawk.Sender, response: requests.Response) -> None:
    """Check the Server-Authorization header against the body actually received."""
    sender.accept_response(
        response.headers["Server-Authorization"],
        # A stream, not bytes: mohawk pprints a bytes payload into a debug message.
        content=io.BytesIO(response.content),
        content_type=response.headers["Content-Type"],
    )


def follow(url: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Every result reachable from ``url`` by following ``next``, plus the URLs used."""
    results: list[dict[str, Any]] = []
    urls: list[str] = []
    session = requests.Session()
    next_url: str | None = url
    while next_url:
        urls.append(next_url)
        sender, response = signed_get(next_url, session=session)
        assert response.status_code == 200, response.text
        verify(sender, response)
        body = json.loads(response.content, parse_float=Decimal)
        results.extend(body["results"])
        next_url = body["next"]
    return results, urls


def as_json(value: Any) -> Any:
    """What a record looks like after a JSON round trip (Decimals kept exact)."""
    return json.loads(dumps(value), parse_float=Decimal)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.fixture(scope="module")
def server() -> Iterator[StandIn]:
    with StandIn(counts=COUNTS, hawk_id=HAWK_ID, hawk_key=HAWK_KEY) as running:
        yield running


@pytest.fixture
def make() -> Iterator:
    """Factory for throwaway servers (fault tests mutate state)."""
    started: list[StandIn] = []

    def start(**kwargs: Any) -> StandIn:
        kwargs.setdefault("counts", COUNTS)
        running = StandIn(hawk_id=HAWK_ID, hawk_key=HAWK_KEY, **kwargs).start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def page_url(server: StandIn, dataset: str, page: int) -> str:
    offset = (page - 1) * server.page_size
    url = server.url(dataset)
    return url if offset == 0 else f"{url}?cursor={encode_cursor(offset).replace('=', '%3D')}"


# ------------------------------------------------------------------------- Hawk


def test_signed_request_succeeds_and_response_signature_verifies(server):
    sender, response = signed_get(server.url("omis_dataset"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert int(response.headers["Content-Length"]) == len(response.content)
    # Verify with plain bytes once too: that is what the signature covers.
    sender.accept_response(
        response.headers["Server-Authorization"],
        content=response.content,
        content_type=response.headers["Content-Type"],
    )
    body = response.json()
    assert list(body) == ["next", "previous", "results"]
    assert len(body["results"]) == 100 and body["previous"] is None


def test_url_is_verified_as_the_client_addressed_it(server):
    """Hawk signs the host the client used; 'localhost' must work as well as 127.0.0.1."""
    url = server.url("contacts").replace("127.0.0.1", "localhost")
    sender, response = signed_get(url)
    assert response.status_code == 200
    verify(sender, response)


@pytest.mark.parametrize(
    "credentials",
    [
        {"id": HAWK_ID, "key": "not-the-key", "algorithm": "sha256"},
        {"id": "someone-else", "key": HAWK_KEY, "algorithm": "sha256"},
        {"id": HAWK_ID, "key": HAWK_KEY, "algorithm": "sha1"},
    ],
    ids=["wrong-key", "unknown-id", "wrong-algorithm"],
)
def test_bad_credentials_are_refused(server, credentials):
    _, response = signed_get(server.url("contacts"), credentials=credentials)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Hawk")
    assert "Server-Authorization" not in response.headers


@pytest.mark.parametrize("header", [None, "", "Bearer abc", "Hawk", 'Hawk id="x", mac="y"', "Hawk nonsense"])
def test_missing_or_malformed_authorization_is_refused(server, header):
    headers = {} if header is None else {"Authorization": header}
    response = requests.get(server.url("contacts"), headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect authentication credentials."}


def test_signature_for_another_url_is_refused(server):
    sender = mohawk.Sender(dict(CREDENTIALS), server.url("contacts"), "GET", content="", content_type="")
    response = requests.get(
        server.url("omis_dataset"), headers={"Authorization": sender.request_header}, timeout=10
    )
    assert response.status_code == 401


def test_replayed_authorization_header_is_refused(server):
    url = server.url("contacts")
    sender = mohawk.Sender(dict(CREDENTIALS), url, "GET", content="", content_type="")
    headers = {"Authorization": sender.request_header}
    assert requests.get(url, headers=headers, timeout=10).status_code == 200
    replay = requests.get(url, headers=headers, timeout=10)
    assert replay.status_code == 401


def test_stale_timestamp_is_refused_with_a_signed_server_time(server):
    stale = int(time.time()) - 3600
    before = int(time.time())
    _, response = signed_get(server.url("contacts"), timestamp=stale)
    after = int(time.time())
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    assert challenge.startswith("Hawk ") and {"ts", "tsm"} <= set(fields)
    assert before <= int(fields["ts"]) <= after  # the server's time while answering, not the stale one
    # tsm lets a client trust the server time before adjusting its clock.
    expected = hmac.new(HAWK_KEY.encode(), f"hawk.1.ts\n{fields['ts']}\n".encode(), hashlib.sha256)
    assert fields["tsm"] == base64.b64encode(expected.digest()).decode()


def test_requests_are_logged_with_their_hawk_details(make):
    running = make()
    sender, response = signed_get(running.url("contacts"))
    entry = running.requests_log[-1]
    assert response.status_code == 200
    assert entry["hawk_id"] == HAWK_ID and entry["status"] == 200 and entry["page"] == 1
    assert entry["nonce"] == sender.req_resource.nonce.decode()
    assert entry["ts"] == sender.req_resource.timestamp
    assert entry["path"] == DATASET_PATHS["contacts"] and entry["query"] == ""
    running.clear_requests_log()
    assert running.requests_log == []


# ------------------------------------------------------------------- pagination


@pytest.mark.parametrize("dataset", sorted(DATASET_PATHS))
def test_following_next_yields_every_record_once_in_order(server, dataset):
    results, urls = follow(server.url(dataset))
    count = COUNTS[dataset]
    assert len(results) == count
    assert results == [as_json(r) for r in records(dataset, count)]
    key = "reference" if dataset == "omis_dataset" else "id"
    assert len({r[key] for r in results}) == count
    assert len(urls) == -(-count // 100)
    for url in urls[1:]:
        assert url.startswith(server.base_url + DATASET_PATHS[dataset] + "?cursor=")
        cursor = url.split("cursor=", 1)[1]
        assert cursor.endswith("%3D") and "=" not in cursor  # padded base64, percent-encoded


@pytest.mark.parametrize(("asked", "size"), [("7", 7), ("0", 100), ("-3", 100), ("many", 100)])
def test_page_size_is_the_clients_when_it_is_a_positive_number(server, asked, size):
    """Data Hub's dataset pagination takes `page_size` (the later data-flow asked 10000 for
    interactions); like DRF, anything but a positive whole number gets the default."""
    results, urls = follow(f"{server.url('contacts')}?page_size={asked}")
    assert results == [as_json(r) for r in records("contacts", COUNTS["contacts"])]
    assert len(urls) == -(-COUNTS["contacts"] // size)
    assert all(parse_qs(urlsplit(url).query)["page_size"] == [asked] for url in urls)  # kept in next


def test_page_size_is_at_most_ten_thousand_as_on_data_hub():
    assert page_size_of("page_size=20000", 100) == 10_000
    assert page_size_of("page_size=10000&updated_since=2019-01-01", 100) == 10_000
    assert page_size_of("updated_since=2019-01-01", 100) == 100


def test_previous_links_back_and_the_first_page_has_no_cursor(server):
    sender, response = signed_get(page_url(server, "omis_dataset", 3))
    body = response.json()
    assert body["next"] is None and len(body["results"]) == 50
    assert body["previous"] == page_url(server, "omis_dataset", 2)
    _, response = signed_get(body["previous"])
    assert response.json()["previous"] == server.url("omis_dataset")


def test_cursor_is_standard_padded_base64_of_an_offset():
    assert encode_cursor(300) == "bz0zMDA="
    assert decode_cursor("bz0zMDA=") == 300


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!!",
        "",
        base64.b64encode(b"x=1").decode(),
        base64.b64encode(b"o=-1").decode(),
        base64.b64encode(b"o=1&p=2").decode(),
        "bz0zMDA",  # missing padding
    ],
)
def test_bad_cursor_is_404_like_drf(server, cursor):
    url = f"{server.url('omis_dataset')}?cursor={requests.utils.quote(cursor, safe='')}"
    sender, response = signed_get(url)
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor"}
    verify(sender, response)


def test_unknown_path_is_404(server):
    _, response = signed_get(server.base_url + "/v4/dataset/no-such-dataset")
    assert response.status_code == 404


def test_health_needs_no_auth(server):
    response = requests.get(server.base_url + "/_standin/health", timeout=10)
    assert (response.status_code, response.text) == (200, "ok")


def test_connections_are_kept_alive(server):
    session = requests.Session()
    for _ in range(3):
        _, response = signed_get(server.url("contacts"), session=session)
        assert response.raw.version == 11 and "close" not in response.headers.get("Connection", "")
    assert len(session.get_adapter(server.base_url).poolmanager.pools) == 1


def test_records_split_30_30_40():
    assert split_records(1001) == {"omis_dataset": 300, "investment_projects_dataset": 300, "contacts": 401}
    assert sum(split_records(7).values()) == 7
    with pytest.raises(ValueError):
        StandIn(counts=COUNTS, records=10, hawk_id=HAWK_ID, hawk_key=HAWK_KEY)
    with pytest.raises(ValueError):
        StandIn(counts={"nope": 1}, hawk_id=HAWK_ID, hawk_key=HAWK_KEY)


# ------------------------------------------------------------------------ faults


def test_500_fails_only_the_requested_page_and_times(make):
    running = make(faults=[Fault("contacts", "500", page=2, times=2)])
    assert signed_get(page_url(running, "contacts", 1))[1].status_code == 200
    statuses = [signed_get(page_url(running, "contacts", 2))[1].status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert [e["fault"] for e in running.requests_log] == [None, "500", "500", None]


def test_429_carries_retry_after(make):
    running = make(faults=[Fault("omis_dataset", "429", page=1, times=1, retry_after=3)])
    sender, response = signed_get(running.url("omis_dataset"))
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"
    verify(sender, response)
    assert signed_get(running.url("omis_dataset"))[1].status_code == 200


def logged(running: StandIn, sender: mohawk.Sender) -> dict[str, Any]:
    """The server's log entry of the request ``sender`` signed (found by its nonce)."""
    nonce = sender.req_resource.nonce.decode()
    [entry] = [e for e in running.requests_log if e["nonce"] == nonce]
    return entry


def test_stall_delays_the_answer(make):
    # A stall far longer than the client's timeout (stop() ends it when the test is over).
    running = make(faults=[Fault("contacts", "stall", page=1, times=1, stall_seconds=600)])
    with pytest.raises(requests.Timeout):
        signed_get(running.url("contacts"), timeout=1)
    sender, response = signed_get(running.url("contacts"))
    assert response.status_code == 200
    assert logged(running, sender)["fault"] is None  # times=1: the fault is used up, no stall
    running.set_faults([Fault("contacts", "stall", stall_seconds=0.4)])
    started = time.monotonic()
    sender, response = signed_get(running.url("contacts"))
    # A lower bound only: the answer came after the deliberate 0.4 s wait, however slow the machine.
    assert response.status_code == 200 and time.monotonic() - started >= 0.4
    assert logged(running, sender)["fault"] == "stall"
    verify(sender, response)


def test_stop_does_not_wait_for_a_stall():
    """stop() lets a stalled request go at once, unanswered, instead of serving it after the stall."""
    running = StandIn(
        counts=COUNTS,
        hawk_id=HAWK_ID,
        hawk_key=HAWK_KEY,
        faults=[Fault("contacts", "stall", stall_seconds=3600)],
    ).start()
    stalling = threading.Event()
    take = running.faults.take

    def take_and_tell(dataset: str, page: int) -> Fault | None:
        fault = take(dataset, page)
        if fault is not None:
            stalling.set()  # the handler goes on to stall on this fault
        return fault

    running.faults.take = take_and_tell  # type: ignore[method-assign]
    outcome: list[Any] = []

    def stalled_request() -> None:
        try:
            outcome.append(signed_get(running.url("contacts"), timeout=3600)[1])
        except requests.RequestException as error:
            outcome.append(error)

    client = threading.Thread(target=stalled_request, daemon=True)
    client.start()
    try:
        assert stalling.wait(timeout=60), "the request never reached the stall"
    finally:
        running.stop()
    # Neither the stall nor the client gives up within the hour: only stop() can end the request.
    client.join(timeout=60)  # a hang guard, not a speed claim
    assert not client.is_alive(), "stop() left the stalled request waiting"
    [ended] = outcome
    assert isinstance(ended, requests.ConnectionError) and not isinstance(ended, requests.Timeout), ended


def test_forged_signature_fails_verification(make):
    running = make(faults=[Fault("omis_dataset", "forged_signature")])
    sender, response = signed_get(running.url("omis_dataset"))
    assert response.status_code == 200
    assert re.fullmatch(r'Hawk mac="[^"]{44}", hash="[^"]{44}"', response.headers["Server-Authorization"])
    with pytest.raises(MacMismatch):
        verify(sender, response)


def test_truncated_json_is_signed_but_unparseable(make):
    running = make(faults=[Fault("investment_projects_dataset", "truncated_json")])
    sender, response = signed_get(running.url("investment_projects_dataset"))
    verify(sender, response)
    assert response.status_code == 200
    response.content.decode("utf-8")  # cut on a character boundary
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_no_results_is_signed_and_lacks_results(make):
    running = make(faults=[Fault("omis_dataset", "no_results", page=1)])
    sender, response = signed_get(running.url("omis_dataset"))
    verify(sender, response)
    body = response.json()
    assert "results" not in body and body["next"]


def test_shrink_serves_half_the_records(make):
    running = make(faults=[Fault("omis_dataset", "shrink")])
    results, _ = follow(running.url("omis_dataset"))
    assert len(results) == COUNTS["omis_dataset"] // 2


@pytest.mark.parametrize(
    ("dataset", "blanked"),
    [
        ("investment_projects_dataset", ("name", "stage__name")),
        ("omis_dataset", ("reference",)),
        ("contacts", ("name",)),
    ],
)
def test_null_not_null_blanks_record_zero(make, dataset, blanked):
    running = make(faults=[Fault(dataset, "null_not_null")])
    sender, response = signed_get(running.url(dataset))
    verify(sender, response)
    first, second = response.json()["results"][:2]
    assert all(first[name] is None for name in blanked)
    assert all(second[name] is not None for name in blanked)


def test_faults_are_validated_and_replaceable(make):
    with pytest.raises(ValueError):
        Fault("contacts", "explode")
    with pytest.raises(ValueError):
        Fault("no_such_dataset", "500")
    running = make(faults=[Fault("contacts", "500")])
    assert signed_get(running.url("contacts"))[1].status_code == 500
    running.set_faults([])
    assert signed_get(running.url("contacts"))[1].status_code == 200


# -------------------------------------------------------------------------- data


def test_records_are_deterministic_and_seeded():
    for dataset in DATASET_PATHS:
        assert record(dataset, 123) == record(dataset, 123)
        assert record(dataset, 123) != record(dataset, 124)
        assert record(dataset, 123, seed=1) != record(dataset, 123)
        assert record_json(dataset, 123) == dumps(record(dataset, 123))
    with pytest.raises(ValueError):
        record("nope", 0)


def test_records_are_independent_copies():
    first = record("investment_projects_dataset", 7)
    for value in first.values():
        if isinstance(value, list):
            value.append("mutated")
    assert record("investment_projects_dataset", 7) != first


@pytest.mark.parametrize("dataset", sorted(DATASET_PATHS))
def test_every_record_has_every_field_of_the_right_kind(dataset):
    rows = list(records(dataset, 1500))
    kinds = {f.name: f for f in FIELDS[dataset]}
    for row in rows:
        assert sorted(row) == sorted(field_names(dataset))
        for name, field in kinds.items():
            value = row[name]
            if value is None:
                continue
            if field.kind == LIST:
                assert isinstance(value, list) and all(isinstance(v, str | None) for v in value)
            elif field.kind == "int":
                assert type(value) is int and -(2**31) <= value < 2**31
            elif field.kind == "bool":
                assert type(value) is bool
            elif field.kind == "decimal":
                assert isinstance(value, Decimal)
            elif field.kind == "date":
                assert re.fullmatch(r"\d{4}-\d\d-\d\d", value), (name, value)
            elif field.kind == TIMESTAMP:
                assert utc(value).year in (2018, 2019, 2020), (name, value)
            else:
                assert isinstance(value, str)
                assert field.max_length is None or len(value) <= field.max_length, (name, value)
    if dataset != "investment_projects_dataset":
        assert len({row["id"] for row in rows}) == len(rows)  # unmapped extra field


def test_investment_projects_are_realistic():
    rows = list(records("investment_projects_dataset", 2000))
    assert len({r["id"] for r in rows}) == len(rows)
    assert all(r["name"] is not None and r["stage__name"] is not None for r in rows)
    months = Counter(utc(r["created_on"]).strftime("%Y-%m") for r in rows)
    assert months["2019-07"] + months["2019-08"] + months["2019-09"] > len(rows) / 2
    assert sum(r["created_on"] == SHARED_CREATED_ON for r in rows) >= 24
    booleans = Counter(r["export_revenue"] for r in rows)
    assert booleans[False] > 300 and booleans[None] > 100 and booleans[True] > 300
    values = [r["total_investment"] for r in rows if r["total_investment"] is not None]
    assert Decimal("0") in values and any(len(str(v).replace(".", "")) > 20 for v in values)
    lists = [v for r in rows for k, v in r.items() if k.endswith(("_names", "countries"))]
    assert [] in lists and None in lists
    items = {item for v in lists if v for item in v}
    assert {
        "North West",
        "Korea, Republic of",
        'say "hello"',
        "back\\slash",
        "{braces}",
        "NULL",
        None,
    } <= items


def test_decimals_are_exact_json_number_literals():
    body = dumps(
        {"a": Decimal("12345678901234567.123456789"), "b": Decimal("0.00"), "c": [Decimal("1500000.50")]}
    )
    assert body == b'{"a":12345678901234567.123456789,"b":0.00,"c":[1500000.50]}'
    for index in range(300):
        row = record("investment_projects_dataset", index)
        text = json.loads(record_json("investment_projects_dataset", index), parse_float=str)
        for name in ("foreign_equity_investment", "gross_value_added", "total_investment"):
            if isinstance(row[name], Decimal):
                assert text[name] == f"{row[name]:f}" or row[name] == int(text[name])


def test_omis_orders_are_realistic():
    rows = list(records("omis_dataset", 3000))
    assert len({r["reference"] for r in rows}) == len(rows)
    assert all(re.fullmatch(r"[A-Z]{3}\d{3}/\d\d", r["reference"]) for r in rows)
    statuses = Counter(r["status"] for r in rows)
    assert set(statuses) == {
        "draft",
        "quote_awaiting_acceptance",
        "quote_accepted",
        "paid",
        "complete",
        "cancelled",
    }
    for r in rows:
        assert (r["completed_on"] is not None) == (r["status"] == "complete")
        assert (r["cancelled_on"] is not None) == (r["status"] == "cancelled")
        assert (r["cancellation_reason__name"] is not None) == (r["status"] == "cancelled")
        assert (r["paid_on"] is not None) == (r["status"] in ("paid", "complete"))
        for later in ("completed_on", "cancelled_on", "paid_on"):
            assert r[later] is None or utc(r[later]) >= utc(r["created_on"])
    completed = Counter(utc(r["completed_on"]).strftime("%Y-%m") for r in rows if r["completed_on"])
    assert completed.most_common(1)[0][0] == "2019-08" and completed["2019-08"] > 200
    cancelled = Counter(utc(r["cancelled_on"]).strftime("%m-%d") for r in rows if r["cancelled_on"])
    assert cancelled["03-31"] + cancelled["04-01"] > 50 and cancelled["04-25"] + cancelled["04-24"] > 20
    assert sum(r["subtotal_cost"] == 0 for r in rows) > 100
    assert any(r["services"] and ", " in r["services"] for r in rows)


def test_timestamps_include_month_boundaries_in_other_time_zones():
    stamps = [
        v
        for dataset in ("omis_dataset", "investment_projects_dataset")
        for r in records(dataset, 2000)
        for k, v in r.items()
        if k.endswith("_on") and isinstance(v, str)
    ]
    offsets = [s for s in stamps if not s.endswith(("Z", "+00:00"))]
    crossing = [s for s in offsets if utc(s).month != int(s[5:7])]
    assert len(crossing) > 50
    assert {"+01:00", "-05:00", "+05:30"} <= {s[-6:] for s in offsets}
    assert any(s.endswith("Z") for s in stamps) and any(s.endswith("+00:00") for s in stamps)
    assert any("." in s for s in stamps) and any(s.startswith("2020-02-29T") for s in stamps)


def test_contacts_are_realistic():
    rows = list(records("contacts", 1000))
    assert all(r["name"] is not None and r["created_on"] for r in rows)
    assert sum(r["created_on"] == SHARED_CREATED_ON for r in rows) >= 24
    # timestamps, some whose written date differs from the UTC date
    assert all(len(r["created_on"]) > 10 for r in rows)
    assert any(utc(r["created_on"]).date().isoformat() != r["created_on"][:10] for r in rows)
    assert any(r["company__company_number"] and r["company__company_number"].startswith("0") for r in rows)


def test_awkward_text_turns_up_regularly():
    seen = Counter(
        v
        for dataset in DATASET_PATHS
        for r in records(dataset, 2000)
        for v in r.values()
        if isinstance(v, str)
    )
    for awkward in AWKWARD_TEXT:
        assert seen[awkward] >= 3, awkward
    assert any(len(v) == 255 for v in seen)


# ---------------------------------------------------------------------------- CLI


def run_cli(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "standin", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_cli_prints_its_url_serves_and_stops_on_sigterm():
    env = {**os.environ, "HAWK_ID": HAWK_ID, "HAWK_KEY": HAWK_KEY}
    process = run_cli("--port", "0", "--records", "30", "--fault", "contacts:500:1:1", env=env)
    try:
        line = process.stdout.readline()
        match = re.fullmatch(r"standin listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert match, line
        base = match.group(1)
        assert requests.get(base + "/_standin/health", timeout=10).text == "ok"
        url = base + DATASET_PATHS["contacts"]
        assert signed_get(url)[1].status_code == 500
        sender, response = signed_get(url)
        verify(sender, response)
        assert len(response.json()["results"]) == 12
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)  # a hang guard
    assert process.returncode == 0
    assert out == "" and HAWK_KEY not in err


def test_cli_requires_credentials():
    env = {k: v for k, v in os.environ.items() if k not in ("HAWK_ID", "HAWK_KEY")}
    process = run_cli("--port", "0", env={**env, "HAWK_ID": HAWK_ID})
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "HAWK_KEY" in err
