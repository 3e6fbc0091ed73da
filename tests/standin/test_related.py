"""The stand-in's datasets whose records name each other (teams, advisers, companies,
interactions): served as a pure function of their universe, every id they name served too,
and the awkward cases the "latest interaction" tables need (people and projects without
interactions, ties on the date). Expected facts are computed here from the served records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from test_standin import HAWK_ID, HAWK_KEY, as_json, follow

from standin import StandIn
from standin.related import (
    ADVISER_BLANK_NAME_EVERY,
    ADVISER_WITHOUT_INTERACTIONS_EVERY,
    CONTACT_WITHOUT_INTERACTIONS_EVERY,
    PATHS,
    PROJECT_WITHOUT_INTERACTIONS_EVERY,
    UPDATED_SINCE,
    Universe,
    record,
)

COUNTS = {"contacts": 140, "investment_projects_dataset": 50, "data_hub__teams": 8, "data_hub__advisers": 40,
          "data_hub__companies": 60, "data_hub__events": 20, "data_hub__interactions": 400,
          "data_hub__interaction_export_countries": 90, "data_hub__company_export_countries": 70,
          "data_hub__company_export_country_histories": 80, "data_hub__company_referrals": 50}
RELATED = list(PATHS)
KEYS = {"data_hub__company_export_country_histories": "history_id"}  # the others' key is `id`


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, list[dict]]]:
    with StandIn(counts=COUNTS, page_size=70, seed=3, hawk_id=HAWK_ID, hawk_key=HAWK_KEY) as server:
        yield {dataset: follow(server.url(dataset))[0] for dataset in [*RELATED, "contacts",
                                                                        "investment_projects_dataset"]}


def ids(rows: list[dict], key: str = "id") -> set[str]:
    return {row[key] for row in rows}


def test_records_are_a_pure_function_of_their_universe(served):
    universe = Universe(COUNTS, seed=3)
    for dataset in RELATED:
        assert served[dataset] == [as_json(record(dataset, i, universe)) for i in range(COUNTS[dataset])]
        assert len(ids(served[dataset], KEYS.get(dataset, "id"))) == COUNTS[dataset]  # unique keys


def test_every_id_a_record_names_is_served(served):
    teams, advisers, companies, events, interactions = (ids(served[f"data_hub__{d}"]) for d in (
        "teams", "advisers", "companies", "events", "interactions"))
    contacts, projects = ids(served["contacts"]), ids(served["investment_projects_dataset"])
    for event in served["data_hub__events"]:
        assert {event["lead_team_id"], *event["team_ids"]} <= teams | {None}
        assert {event["organiser_id"], event["created_by_id"]} <= advisers | {None}
    by_id = {i["id"]: i for i in served["data_hub__interactions"]}
    for country in served["data_hub__interaction_export_countries"]:
        assert country["interaction__company_id"] == by_id[country["interaction__id"]]["company_id"]
    for dataset in ("data_hub__company_export_countries", "data_hub__company_export_country_histories"):
        assert {c["company_id"] for c in served[dataset]} <= companies
    export_countries = {c["id"]: c for c in served["data_hub__company_export_countries"]}
    for history in served["data_hub__company_export_country_histories"]:
        if history["history_type"] == "delete":  # the export country is gone
            assert history["id"] not in export_countries
        else:  # the export country the row is about, and its company and country
            about = export_countries[history["id"]]
            assert (about["company_id"], about["country__name"]) == (history["company_id"], history["country__name"])
    for referral in served["data_hub__company_referrals"]:
        assert referral["company_id"] in companies and referral["contact_id"] in contacts | {None}
        assert referral["interaction_id"] in interactions | {None}
        assert {referral[f"{who}_id"] for who in ("created_by", "recipient", "completed_by")} <= advisers | {None}
    assert {i["event_id"] for i in served["data_hub__interactions"]} - {None} <= events
    assert any(i["event_id"] for i in served["data_hub__interactions"])
    assert {a["dit_team_id"] for a in served["data_hub__advisers"]} <= teams | {None}
    for company in served["data_hub__companies"]:
        assert {company["one_list_account_owner_id"], company["created_by_id"]} <= advisers | {None}
        core = company["one_list_core_team_advisers"]
        assert core == [None] or (set(core) <= advisers and len(set(core)) == len(core))
        assert company["global_headquarters_id"] in companies | {None}
    for interaction in served["data_hub__interactions"]:
        assert interaction["company_id"] in companies | {None}
        assert set(interaction["contact_ids"]) <= contacts | {None}
        assert set(interaction["adviser_ids"]) <= advisers | {None}
        assert interaction["created_by_id"] in advisers | {None}
        assert interaction["investment_project_id"] in projects | {None}
    named = Counter(name for i in served["data_hub__interactions"] for name in ("company_id", "investment_project_id")
                    if i[name] is not None)
    assert named["company_id"] > 300 and named["investment_project_id"] > 10  # relations, not all nulls
    assert any(c["one_list_account_owner_id"] for c in served["data_hub__companies"])
    assert any(c["one_list_core_team_advisers"] != [None] for c in served["data_hub__companies"])


def test_most_investment_projects_have_interactions_and_some_none(served):
    projects = [p["id"] for p in served["investment_projects_dataset"]]
    named = {i["investment_project_id"] for i in served["data_hub__interactions"]}
    without = {projects[j] for j in range(0, len(projects), PROJECT_WITHOUT_INTERACTIONS_EVERY)}
    assert without.isdisjoint(named)
    assert len(named & set(projects)) > 0.75 * (len(projects) - len(without))


def test_some_advisers_have_a_blank_first_or_last_name(served):
    advisers = served["data_hub__advisers"]
    for j, adviser in enumerate(advisers):
        assert (adviser["first_name"] == "") == (j % ADVISER_BLANK_NAME_EVERY == 3)
        assert (adviser["last_name"] == "") == (j % ADVISER_BLANK_NAME_EVERY == 6)
    assert any(a["first_name"] == "" for a in advisers) and any(a["last_name"] == "" for a in advisers)


def test_lists_are_shaped_as_data_hub_builds_them(served):
    interactions = served["data_hub__interactions"]
    for interaction in interactions:
        contacts = interaction["contact_ids"]
        assert contacts == [None] or (None not in contacts and contacts == sorted(contacts))
        assert interaction["adviser_ids"] == [None] or interaction["adviser_ids"][0] is not None
    assert any(i["contact_ids"] == [None] for i in interactions)  # no contacts: [null], as ArrayAgg gives
    assert any(i["adviser_ids"] == [None] for i in interactions)
    assert any(len(i["adviser_ids"]) > 1 and i["adviser_ids"] != sorted(i["adviser_ids"], key=str)
               for i in interactions)  # the order participants were added, not sorted


def test_some_people_have_no_interactions_and_others_share_a_date(served):
    interactions = served["data_hub__interactions"]
    contacts = [c["id"] for c in served["contacts"]]
    advisers = [a["id"] for a in served["data_hub__advisers"]]
    with_contact = {c for i in interactions for c in i["contact_ids"] if c}
    with_adviser = {a for i in interactions for a in i["adviser_ids"] if a}
    assert {contacts[j] for j in range(0, len(contacts), CONTACT_WITHOUT_INTERACTIONS_EVERY)}.isdisjoint(with_contact)
    assert {advisers[j] for j in range(0, len(advisers), ADVISER_WITHOUT_INTERACTIONS_EVERY)}.isdisjoint(with_adviser)
    assert len(with_contact) > len(contacts) // 2 and len(with_adviser) > len(advisers) // 2

    days = Counter((c, i["date"][:10]) for i in interactions if i["date"] for c in i["contact_ids"] if c)
    assert max(days.values()) >= 2  # a contact with two interactions on one day
    assert all(i["date"] for i in interactions)  # a DateTimeField Data Hub never leaves null


def test_three_endpoints_ignore_updated_since_and_the_others_filter_on_it():
    with StandIn(counts=COUNTS, page_size=70, seed=3, hawk_id=HAWK_ID, hawk_key=HAWK_KEY) as server:
        for dataset in sorted(set(PATHS) - UPDATED_SINCE):
            assert dataset in ("data_hub__teams", "data_hub__advisers", "data_hub__company_export_country_histories")
            for value in ("2019-06-01", "yesterday"):  # ignored, not even checked
                results, _ = follow(f"{server.url(dataset)}?updated_since={value}")
                assert len(results) == COUNTS[dataset]
        for dataset in sorted(UPDATED_SINCE):
            results, _ = follow(f"{server.url(dataset)}?updated_since=2019-06-01")
            midnight = datetime(2019, 6, 1, tzinfo=UTC)
            want = [r for r in follow(server.url(dataset))[0]  # created_on where modified_on is not sent
                    if datetime.fromisoformat(r.get("modified_on", r["created_on"])) > midnight]
            assert results == want and 0 < len(results) < COUNTS[dataset]


def test_an_edit_changes_values_but_not_the_ids_named():
    universe = Universe(COUNTS, seed=3)
    with StandIn(counts=COUNTS, seed=3, hawk_id=HAWK_ID, hawk_key=HAWK_KEY) as server:
        server.edit("data_hub__interactions", [5])
        edited = server.current_records("data_hub__interactions")[5]
    original = record("data_hub__interactions", 5, universe)
    assert edited["id"] == original["id"] and edited["created_on"] == original["created_on"]
    assert edited != original
    named = [name for name in original if name.endswith(("_id", "_ids")) and name != "id"]
    assert len(named) == 7 and {name: edited[name] for name in named} == {name: original[name] for name in named}

    def references(row: dict) -> dict:
        return {k: v for k, v in row.items()
                if k.endswith(("_id", "_ids", "team_advisers")) and k != "sso_email_user_id"}

    for dataset in RELATED:  # no edit changes what a record names
        for index in range(10):
            assert references(record(dataset, index, universe, seed=9)) == references(
                record(dataset, index, universe)), dataset
