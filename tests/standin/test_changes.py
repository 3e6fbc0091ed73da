"""The stand-in's upstream changes and its `updated_since`, as Data Hub's dataset views do it:
a date (`YYYY-MM-DD` only), records with `modified_on` after that date's midnight (UTC),
deletions never reported. Expected records are computed here from `standin.data.record`
and the change times the test chose."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from test_standin import HAWK_ID, HAWK_KEY, as_json, follow, signed_get, utc, verify

from standin import StandIn
from standin import record as plain_record
from standin.related import Universe

COUNTS = {"omis_dataset": 130, "investment_projects_dataset": 120, "contacts": 99}
EDIT_AT = datetime(2026, 12, 4, 10, 30, tzinfo=UTC)
KEYS = {"omis_dataset": "id", "investment_projects_dataset": "id", "contacts": "id"}


def record(dataset: str, index: int, counts: dict[str, int] = COUNTS) -> dict[str, Any]:
    """Record `index` as a stand-in serving `counts` (seed 0) serves it unedited: the ids it
    names are those of the records served beside it."""
    key = tuple(sorted(counts.items()))
    universe = _UNIVERSES.get(key) or _UNIVERSES.setdefault(key, Universe(dict(counts)))
    return plain_record(dataset, index, universe=universe)


_UNIVERSES: dict[tuple[tuple[str, int], ...], Universe] = {}


@pytest.fixture
def server() -> Iterator[StandIn]:
    """A stand-in of its own: these tests change its data."""
    with StandIn(counts=COUNTS, page_size=25, hawk_id=HAWK_ID, hawk_key=HAWK_KEY) as running:
        yield running


def since_url(server, dataset: str, day: str) -> str:
    return f"{server.url(dataset)}?updated_since={day}"


def hidden_modified_on(dataset: str, index: int) -> datetime:
    """What the stand-in filters an unedited record on: modified_on, else created_on."""
    original = record(dataset, index)
    return utc(original.get("modified_on") or original["created_on"])


def test_updated_since_keeps_records_modified_after_that_dates_midnight(server):
    for dataset, count in COUNTS.items():
        moments = sorted(hidden_modified_on(dataset, i) for i in range(count))
        day = moments[count // 2].date()  # about half the records are later
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        expected = [as_json(record(dataset, i)) for i in range(count) if hidden_modified_on(dataset, i) > midnight]
        results, urls = follow(since_url(server, dataset, day.isoformat()))
        assert results == expected, dataset
        assert 0 < len(results) < count
        for url in urls[1:]:  # the filter travels in every next link
            assert parse_qs(urlsplit(url).query)["updated_since"] == [day.isoformat()]


@pytest.mark.parametrize("value", ["2026-12-04T00:00:00", "04/12/2026", "2026-13-01", "yesterday"])
def test_an_updated_since_that_is_not_a_date_is_a_signed_400(server, value):
    sender, response = signed_get(since_url(server, "contacts", value))
    assert response.status_code == 400
    verify(sender, response)
    assert "YYYY-MM-DD" in response.json()["updated_since"][0]


@pytest.mark.parametrize("value", ["", "null"])
def test_an_empty_updated_since_filters_nothing(server, value):
    results, _ = follow(since_url(server, "contacts", value))
    assert len(results) == COUNTS["contacts"]


def test_edits_inserts_and_deletes_show_in_full_and_in_updated_since(server):
    dataset = "investment_projects_dataset"
    server.edit(dataset, [3, 50], at=EDIT_AT)
    new = server.insert(dataset, 2, at=EDIT_AT + timedelta(hours=1))
    server.delete(dataset, [7, 50])
    assert new == [120, 121]

    full, _ = follow(server.url(dataset))
    kept = [i for i in range(122) if i not in (7, 50)]
    assert [r["id"] for r in full] == [record(dataset, i)["id"] for i in kept]
    edited = full[3]
    original = record(dataset, 3)
    assert edited["id"] == original["id"] and edited["created_on"] == original["created_on"]
    assert edited != as_json(original)  # new values
    assert utc(edited["modified_on"]) == EDIT_AT
    references = [name for name in original if name.endswith(("_id", "_ids")) and name != "id"
                  and not name.startswith("country_")]  # a country's id goes with its name, a value
    assert len(references) == 11 and {name: edited[name] for name in references} == {
        name: as_json(original[name]) for name in references}  # an edit names the same records
    assert utc(full[-1]["modified_on"]) == EDIT_AT + timedelta(hours=1)

    changed, _ = follow(since_url(server, dataset, "2026-12-04"))  # deleted 50 is never reported
    assert [r["id"] for r in changed] == [record(dataset, i)["id"] for i in (3, 120, 121)]
    assert changed[0] == edited
    assert follow(since_url(server, dataset, "2026-12-05"))[0] == []  # strictly after midnight of the 5th


def test_an_edit_keeps_every_reference_of_every_seed_dataset(server):
    for dataset in COUNTS:
        server.edit(dataset, range(0, 40), at=EDIT_AT)
        for index, edited in enumerate(server.current_records(dataset)[:40]):
            original = record(dataset, index)
            assert edited != original
            for name, value in original.items():
                if name.startswith("country_"):
                    continue  # metadata: the country's id goes with its name, a value
                if name.endswith(("_id", "_ids")) or name in ("client_contact_names", "client_contact_emails"):
                    assert edited[name] == value, (dataset, index, name)


def test_an_edit_at_midnight_is_not_after_that_date(server):
    server.edit("contacts", [0], at=datetime(2026, 12, 4, tzinfo=UTC))
    assert follow(since_url(server, "contacts", "2026-12-04"))[0] == []
    assert [r["id"] for r in follow(since_url(server, "contacts", "2026-12-03"))[0]] == [record("contacts", 0)["id"]]


def test_fields_added_and_dropped_change_every_record(server):
    server.add_field("omis_dataset", "net_promoter_score", 9)
    server.drop_field("omis_dataset", "sector_name")
    results, _ = follow(server.url("omis_dataset"))
    expected: list[dict[str, Any]] = []
    for i in range(COUNTS["omis_dataset"]):
        row = record("omis_dataset", i)
        del row["sector_name"]
        expected.append(as_json({**row, "net_promoter_score": 9}))
    assert results == expected
    assert server.current_records("omis_dataset") == [
        {**{k: v for k, v in record("omis_dataset", i).items() if k != "sector_name"}, "net_promoter_score": 9}
        for i in range(COUNTS["omis_dataset"])
    ]


def test_current_records_are_what_a_client_fetches(server):
    server.edit("contacts", range(0, 99, 10), at=EDIT_AT)
    server.delete("contacts", [1, 2])
    server.insert("contacts", 3, at=EDIT_AT)
    for day in (None, "2026-12-04"):
        url = server.url("contacts") if day is None else since_url(server, "contacts", day)
        assert follow(url)[0] == [as_json(r) for r in server.current_records("contacts", day)]
    assert len({r[KEYS["contacts"]] for r in server.current_records("contacts")}) == 99 - 2 + 3


def test_prerendered_pages_are_the_pages_and_follow_changes():
    with StandIn(counts=COUNTS, page_size=25, hawk_id=HAWK_ID, hawk_key=HAWK_KEY) as plain, \
            StandIn(counts=COUNTS, page_size=25, hawk_id=HAWK_ID, hawk_key=HAWK_KEY, prerender=True) as fast:
        pages = fast.prerender()
        assert pages == sum(-(-n // 25) for n in COUNTS.values())
        for dataset in COUNTS:
            assert follow(fast.url(dataset))[0] == follow(plain.url(dataset))[0], dataset
        assert fast.prerender() == pages  # every page a client asked for was one already rendered
        for server in (plain, fast):
            server.edit("contacts", [5], at=EDIT_AT)
        assert follow(fast.url("contacts"))[0] == follow(plain.url("contacts"))[0]
        assert follow(fast.url("contacts"))[0][5]["id"] == record("contacts", 5)["id"]


def test_activity_edits_adds_deletes_and_adds_a_field_differently_at_every_start():
    """`--activity` (the demo's day on Data Hub): every 100th record edited, 3 new, 2 deleted
    per dataset, an undeclared field on OMIS; the new records differ between two starts."""
    counts = {"omis_dataset": 250, "investment_projects_dataset": 0, "contacts": 120}
    keys_seen = []
    for moment in (EDIT_AT, EDIT_AT + timedelta(seconds=1)):
        with StandIn(counts=counts, page_size=40, hawk_id=HAWK_ID, hawk_key=HAWK_KEY) as server:
            server.activity(at=moment)
            new_keys = set()
            for dataset, count in counts.items():
                full, _ = follow(server.url(dataset))
                base_keys = {record(dataset, i)[KEYS[dataset]] for i in range(count)}
                served = [r[KEYS[dataset]] for r in full]
                assert len(full) == (count + 3 - 2 if count else 0), dataset
                assert len(set(served) - base_keys) == (3 if count else 0)
                assert len(base_keys - set(served)) == (2 if count else 0)
                new_keys |= set(served) - base_keys
                changed, _ = follow(since_url(server, dataset, (moment - timedelta(days=1)).date().isoformat()))
                edited = {record(dataset, i)[KEYS[dataset]] for i in range(0, count, 100)}
                # Edited records not deleted, and the new ones (unedited records are years older).
                assert {r[KEYS[dataset]] for r in changed} == (edited & set(served)) | (set(served) - base_keys)
                assert all(("priority" in r) == (dataset == "omis_dataset") for r in full)
            keys_seen.append(new_keys)
    assert keys_seen[0] and not keys_seen[0] & keys_seen[1]
