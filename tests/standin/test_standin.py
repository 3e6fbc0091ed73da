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
from standin.data import ALL_PATHS, SHARED_CREATED_ON, record_json
from standin.fields import FIELDS, KEYS
from standin.jsonenc import dumps
from standin.pools import AWKWARD_TEXT
from standin.related import Universe
from standin.server import page_size_of, split_records

REPO = Path(__file__).resolve().parents[2]
HAWK_ID = "standin-tests"
HAWK_KEY = "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn"
CREDENTIALS = {"id": HAWK_ID, "key": HAWK_KEY, "algorithm": "sha256"}
COUNTS = {"omis_dataset": 250, "investment_projects_dataset": 120, "contacts": 99}
ALL_PATHS_BY_PATH = {path: name for name, path in ALL_PATHS.items()}


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
    assert results == [as_json(r) for r in records(dataset, count, universe=server.universe)]
    assert len({r["id"] for r in results}) == count
    assert server.universe == Universe({**dict.fromkeys(ALL_PATHS, 0), **COUNTS}, 0)
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
    assert results == [as_json(r) for r in records("contacts", COUNTS["contacts"], universe=server.universe)]
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


def test_duplicate_key_copies_the_key_data_hub_keys_on(make):
    """Every endpoint is keyed on `id` upstream (the export-country history on `history_id`)."""
    running = make(faults=[Fault("omis_dataset", "duplicate_key"), Fault("data_hub__teams", "duplicate_key"),
                           Fault("data_hub__teams", "null_not_null")],
                   counts={**COUNTS, "data_hub__teams": 5})
    first, second = signed_get(running.url("omis_dataset"))[1].json()["results"][:2]
    assert first["id"] == second["id"] and first["reference"] != second["reference"]
    first, second = signed_get(running.url("data_hub__teams"))[1].json()["results"][:2]
    assert first["id"] is None and second["id"] == record("data_hub__teams", 0, universe=running.universe)["id"]


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

#: What Data Hub's dataset API sends today: a copy of the spec the stand-in was written from
#: (tests may read it; the stand-in may not, it keeps its own copy in standin.fields).
TODAY = json.loads((REPO / "tests" / "fixtures" / "datahub_today.json").read_text())
SPEC = {ALL_PATHS_BY_PATH[e["endpoint"]]: e for e in TODAY["endpoints"]}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z")
#: A universe in which every dataset has records, as a stand-in serving all twelve.
FULL = Universe({"omis_dataset": 300, "investment_projects_dataset": 200, "contacts": 300,
                 "data_hub__teams": 10, "data_hub__advisers": 60, "data_hub__companies": 120,
                 "data_hub__events": 20, "data_hub__interactions": 400,
                 "data_hub__interaction_export_countries": 60, "data_hub__company_export_countries": 60,
                 "data_hub__company_export_country_histories": 60, "data_hub__company_referrals": 40})


def of_type(base: str, value: Any, name: str) -> bool:
    """Whether ``value`` has the wire type ``base`` (its empty forms are checked by the caller)."""
    if base.startswith("array<"):
        inner = base[len("array<"):-1]
        # An interaction's participant may have no adviser; a company's trading_names may be [].
        return isinstance(value, list) and (bool(value) or name == "trading_names") and all(
            (v is None and name == "adviser_ids") or of_type(inner, v, name) for v in value)
    return {
        "uuid": lambda v: isinstance(v, str) and UUID.fullmatch(v) is not None,
        "string": lambda v: isinstance(v, str),
        "text": lambda v: isinstance(v, str),
        "datetime": lambda v: isinstance(v, str) and STAMP.fullmatch(v) is not None,
        "date": lambda v: isinstance(v, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", v) is not None,
        "integer": lambda v: type(v) is int,
        "float": lambda v: type(v) is float,
        "boolean": lambda v: type(v) is bool,
    }[base](value)


@pytest.mark.parametrize("dataset", sorted(ALL_PATHS))
def test_every_record_sends_exactly_todays_fields_with_their_wire_types(dataset):
    """The field set of each of the twelve endpoints is the spec's, every value of the spec's
    type, null or an empty list only where the spec says, and the empty forms turn up."""
    fields = [tuple(f) for f in SPEC[dataset]["fields"]]
    assert [(f.name, f.wire) for f in FIELDS[dataset]] == fields  # the stand-in's own copy
    count = 1200 if dataset in DATASET_PATHS else FULL.count(dataset)
    rows = list(records(dataset, count, universe=FULL))
    empties: Counter[str] = Counter()
    for row in rows:
        assert sorted(row) == sorted(name for name, _ in fields)
        if dataset not in DATASET_PATHS:  # composed datasets emit keys grouped (JSON order is no contract)
            assert list(row) == [name for name, _ in fields]
        for name, wire in fields:
            base, _, empty = wire.partition("|")
            value = row[name]
            if (empty, value) in (("null", None), ("[null]", [None]), ('[" "]', [" "])):
                empties[name] += 1
            else:
                assert of_type(base, value, name), (name, wire, value)
    for name, wire in fields:
        if "|[" in wire:  # an aggregated list's empty form turns up, and not only that
            assert 0 < empties[name] < count, f"{name}: {empties[name]} of {count} empty ({wire})"
    if dataset in DATASET_PATHS:
        assert sum(empties.values()) > count  # nulls turn up
    keys = [row[KEYS[dataset]] for row in rows]
    assert len(set(keys)) == len(keys) and KEYS[dataset] == SPEC[dataset]["key"]


def test_blank_text_is_an_empty_string_and_decimals_are_floats():
    projects = list(records("investment_projects_dataset", 1500, universe=FULL))
    assert any(r["anonymous_description"] == "" for r in projects)
    assert any(r["level_of_involvement_name"] == "" for r in projects)
    contacts = list(records("contacts", 1500, universe=FULL))
    assert any(r["full_telephone_number"] == "" for r in contacts) and any(r["email"] == "" for r in contacts)
    for name in ("foreign_equity_investment", "gross_value_added", "total_investment"):
        values = [r[name] for r in projects if r[name] is not None]
        assert all(type(v) is float and v == int(v) for v in values)  # Decimal(19, 0) as DRF renders it
    body = b"".join(record_json("investment_projects_dataset", i, universe=FULL) for i in range(1500))
    assert b"e+16" in body and b"e+18" in body and b".0," in body  # as Python (and DRF) writes floats


def test_decimals_added_by_a_test_keep_their_digits():
    body = dumps(
        {"a": Decimal("12345678901234567.123456789"), "b": Decimal("0.00"), "c": [Decimal("1500000.50")]}
    )
    assert body == b'{"a":12345678901234567.123456789,"b":0.00,"c":[1500000.50]}'


def test_records_are_deterministic_and_seeded():
    for dataset in DATASET_PATHS:
        for universe in (None, FULL):
            assert record(dataset, 123, universe=universe) == record(dataset, 123, universe=universe)
            assert record(dataset, 123, universe=universe) != record(dataset, 124, universe=universe)
            assert record(dataset, 123, seed=1, universe=universe) != record(dataset, 123, universe=universe)
            for index in (0, 3, 123, 52, 58, 60, 1000):
                assert record_json(dataset, index, universe=universe) == dumps(
                    record(dataset, index, universe=universe))
        assert record(dataset, 5, universe=FULL)["id"] == record(dataset, 5)["id"] == FULL.id_of(dataset, 5)
    with pytest.raises(ValueError):
        record("nope", 0)


def test_records_are_independent_copies():
    first = record("investment_projects_dataset", 7, universe=FULL)
    for value in first.values():
        if isinstance(value, list):
            value.append("mutated")
    assert record("investment_projects_dataset", 7, universe=FULL) != first


def served_ids(universe: Universe) -> dict[str, set[str]]:
    return {dataset: {r[KEYS[dataset]] for r in records(dataset, universe.count(dataset), universe=universe)}
            for dataset in ALL_PATHS}


#: Every reference of the seed datasets: field -> the dataset whose record it names.
SEED_REFERENCES = {
    "omis_dataset": {"company_id": "data_hub__companies", "contact_id": "contacts",
                     "created_by_id": "data_hub__advisers", "created_by__dit_team_id": "data_hub__teams"},
    "contacts": {"company_id": "data_hub__companies", "created_by_id": "data_hub__advisers"},
    "investment_projects_dataset": {
        **dict.fromkeys(("client_relationship_manager_id", "created_by_id", "modified_by_id",
                         "project_assurance_adviser_id", "project_manager_id", "team_member_ids"),
                        "data_hub__advisers"),
        "investor_company_id": "data_hub__companies", "uk_company_id": "data_hub__companies",
        "client_contact_ids": "contacts", "associated_non_fdi_r_and_d_project_id": "investment_projects_dataset"},
}
#: The documented dangling references (standin.related.DANGLING_EVERY): record index N - 1 modulo N.
DANGLING = {("omis_dataset", "company_id"): 53, ("contacts", "company_id"): 61,
            ("investment_projects_dataset", "project_manager_id"): 59}


def test_every_reference_names_a_served_record_except_the_documented_dangling_ones():
    ids = served_ids(FULL)
    for dataset, references in SEED_REFERENCES.items():
        rows = list(records(dataset, FULL.count(dataset), universe=FULL))
        for index, row in enumerate(rows):
            for name, target in references.items():
                value = row[name]
                named = set(value) - {None} if isinstance(value, list) else {value} - {None}
                every = DANGLING.get((dataset, name))
                if every and index % every == every - 1:
                    assert len(named) == 1 and not named & ids[target], (dataset, index, name)
                else:
                    assert named <= ids[target], (dataset, index, name, value)
        for name, target in references.items():  # references are used, and spread out
            named = Counter(v for row in rows for v in (row[name] if isinstance(row[name], list) else [row[name]])
                            if v is not None and v in ids[target])
            assert len(named) > min(len(ids[target]), named.total()) // 4, (dataset, name)
    by_adviser = {a["id"]: a for a in records("data_hub__advisers", FULL.count("data_hub__advisers"), universe=FULL)}
    for order in records("omis_dataset", 300, universe=FULL):  # the team is the creator's
        creator = by_adviser.get(order["created_by_id"])
        assert order["created_by__dit_team_id"] == (creator["dit_team_id"] if creator else None)


def test_lists_of_references_have_data_hubs_empty_forms_and_orders():
    contacts = {c["id"]: c for c in records("contacts", FULL.count("contacts"), universe=FULL)}
    projects = list(records("investment_projects_dataset", 200, universe=FULL))
    for project in projects:
        ids, names, emails = (project[f"client_contact_{k}"] for k in ("ids", "names", "emails"))
        if ids == [None]:
            assert names == [" "] and emails == [None]
            continue
        people = [contacts[i] for i in ids]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert names == [f"{c['first_name']} {c['last_name']}"
                         for c in sorted(people, key=lambda c: (c["first_name"], c["last_name"]))]
        assert emails == sorted(c["email"] for c in people)
        members = project["team_member_ids"]
        assert members == [None] or (None not in members and len(set(members)) == len(members))
        assert project["associated_non_fdi_r_and_d_project_id"] != project["id"]
    assert any(p["client_contact_ids"] == [None] for p in projects)
    assert any(len(p["client_contact_ids"]) > 1 for p in projects)
    assert any(p["team_member_ids"] == [None] for p in projects) and any(
        len(p["team_member_ids"]) > 1 for p in projects)
    assert any(p["eyb_lead_ids"] for p in projects)


def test_without_a_universe_references_name_no_record_but_keep_their_shape():
    ids = served_ids(FULL)
    everything = set().union(*ids.values())
    for dataset, references in SEED_REFERENCES.items():
        for index in range(150):
            alone, served = record(dataset, index), record(dataset, index, universe=FULL)
            for name in references:
                if name in ("associated_non_fdi_r_and_d_project_id", "created_by__dit_team_id"):
                    continue  # null without other projects; the team of an adviser not served
                value = alone[name]
                assert (value is None) == (served[name] is None), (dataset, index, name)
                named = set(value) - {None} if isinstance(value, list) else {value} - {None}
                assert not named & everything
                assert isinstance(value, list) is isinstance(served[name], list)


def test_investment_projects_are_realistic():
    rows = list(records("investment_projects_dataset", 2000, universe=FULL))
    assert all(r["name"] and r["stage__name"] for r in rows)
    months = Counter(utc(r["created_on"]).strftime("%Y-%m") for r in rows)
    assert months["2019-07"] + months["2019-08"] + months["2019-09"] > len(rows) / 2
    assert sum(r["created_on"] == SHARED_CREATED_ON for r in rows) >= 24
    booleans = Counter(r["export_revenue"] for r in rows)
    assert booleans[False] > 300 and booleans[None] > 100 and booleans[True] > 300
    values = [r["total_investment"] for r in rows if r["total_investment"] is not None]
    assert 0.0 in values and 1e16 in values
    for name in ("actual_uk_region_names", "business_activity_names", "delivery_partner_names",
                 "strategic_driver_names", "specific_programme_names", "uk_region_location_names"):
        lists = [r[name] for r in rows]  # get_array_agg_subquery: null, never [], ordered by name
        assert None in lists and [] not in lists and all(v is None or v == sorted(v) for v in lists), name
    countries = [r["competing_countries"] for r in rows]
    assert [None] in countries and all(v == [None] or (None not in v and v == sorted(v)) for v in countries)
    items = {item for r in rows for k, v in r.items() if k.endswith("_names") and v for item in v}
    assert {"North West", "Korea, Republic of", 'say "hello"', "back\\slash", "{braces}", "NULL"} <= items
    for r in rows:
        assert (r["project_first_moved_to_won"] is not None) == (r["stage__name"] == "Won")
        assert (r["country_investment_originates_from_id"] is None) == (
            r["country_investment_originates_from__name"] is None)
        assert r["project_reference"].startswith("DHP-")
        if r["stage__name"] == "Prospect" and rows.index(r) % 59 != 58:
            assert r["project_manager_id"] is None  # no manager is assigned to a prospect


def test_omis_orders_are_realistic():
    rows = list(records("omis_dataset", 3000, universe=FULL))
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
        assert r["cancellation_reason__name"] is None or r["status"] == "cancelled"
        assert (r["paid_on"] is not None) == (r["status"] in ("paid", "complete"))
        for later in ("completed_on", "cancelled_on", "paid_on", "quote__created_on", "quote__accepted_on"):
            assert r[later] is None or utc(r[later]) >= utc(r["created_on"])
        if r["quote__accepted_on"] is not None:
            assert utc(r["quote__accepted_on"]) >= utc(r["quote__created_on"])
            assert r["paid_on"] is None or utc(r["paid_on"]) >= utc(r["quote__accepted_on"])
        assert r["total_cost"] == r["subtotal_cost"] + r["vat_cost"]  # pence
        assert (r["refund_created"] is None) == (r["refund_total_amount"] is None)
        assert r["refund_created"] is None or r["status"] == "cancelled"
    assert any(r["refund_total_amount"] for r in rows) and any(r["quote__created_on"] is None for r in rows)
    completed = Counter(utc(r["completed_on"]).strftime("%Y-%m") for r in rows if r["completed_on"])
    assert completed.most_common(1)[0][0] == "2019-08" and completed["2019-08"] > 200
    cancelled = Counter(utc(r["cancelled_on"]).strftime("%m-%d") for r in rows if r["cancelled_on"])
    assert cancelled["03-31"] + cancelled["04-01"] > 50 and cancelled["04-25"] + cancelled["04-24"] > 20
    assert sum(r["subtotal_cost"] == 0 for r in rows) > 100
    assert any(r["services"] and ", " in r["services"] for r in rows)


def test_timestamps_are_utc_with_z_and_include_month_and_leap_day_edges():
    stamps = [
        v
        for dataset in DATASET_PATHS
        for r in records(dataset, 2000)
        for k, v in r.items()
        if ["datetime" in wire for name, wire in SPEC[dataset]["fields"] if name == k] == [True] and v is not None
    ]
    assert len(stamps) > 10_000
    assert all(STAMP.fullmatch(s) for s in stamps)
    assert any("." in s for s in stamps) and any("." not in s for s in stamps)  # a fraction only when not zero
    edges = {"2019-08-31T23:30:00Z", "2019-07-31T21:30:00Z", "2019-09-01T01:30:00Z", "2020-02-29T23:10:00Z"}
    assert edges <= set(stamps)  # instants whose month differs in UK time or where they happened
    assert any(s.startswith("2020-02-29T") for s in stamps)


def test_contacts_are_realistic():
    rows = list(records("contacts", 1000, universe=FULL))
    assert all(r["created_on"] for r in rows)
    assert sum(r["created_on"] == SHARED_CREATED_ON for r in rows) >= 24
    for r in rows:  # Data Hub's name: first and last name, blank parts skipped
        assert r["name"] == " ".join(part for part in (r["first_name"], r["last_name"]) if part)
        assert utc(r["modified_on"]) >= utc(r["created_on"])
        assert (r["archived_on"] is not None) == r["archived"]
        if r["address_same_as_company"]:
            assert r["address_1"] is None and r["address_country__name"] is None
    assert any(r["first_name"] == "" for r in rows) and any(r["last_name"] == "" for r in rows)
    assert any(r["company_id"] is None for r in rows) and any(r["full_telephone_number"].startswith("+")
                                                              for r in rows)


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
