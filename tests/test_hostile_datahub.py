"""A Data Hub that misbehaves as real servers and proxies do: each fault holds back only
the unit of the dataset it hits (and the units joined from it), with a one-line reason
naming the field and the record (a unit of several faulted datasets names each), and
every other unit of the same run is published exactly.

One warehouse goes through four runs: a clean one; two runs whose stand-in (another seed,
so every unit has something new to publish) carries a fault for each of eight and seven
datasets at once (every unit but two is held); and a clean one again, which publishes
everything (so no fault left the lock, the raw tables or the work directory in a state
that stops the next run). A second stand-in
plays "another server": it must never receive a request.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import HAWK_ID, new_database
from runner import fetch, run_orchestrate
from test_publish_units import COUNTS, READS, UNITS, assert_published, unit_state

from standin.faults import Fault
from standin.server import StandIn

DEEP = b"[" * 5000 + b"]" * 5000  # deeper than any JSON parser here allows (msgspec: about 1,000)


def key_of(standin: StandIn, dataset: str, index: int, key: str = "id") -> str:
    return standin.current_records(dataset)[index][key]


def first_faults(foreign: StandIn, seed_records: StandIn) -> dict[str, tuple[list[Fault], list[str]]]:
    """Run B: per faulted dataset, its faults and what its `held` line must say."""
    return {
        "data_hub__companies": (
            [Fault("data_hub__companies", "set_field", field="name", raw=b'"Acme\\u0000Ltd"', record=4)],
            ["data_hub__companies.name: Data Hub sent a NUL character",
             f"(the record with id '{key_of(seed_records, 'data_hub__companies', 4)}')"]),
        "data_hub__events": (
            [Fault("data_hub__events", "set_field", field="start_date", raw=b'"today"', record=2)],
            ["data_hub__events.start_date should be an ISO 8601 date (YYYY-MM-DD), Data Hub sent 'today'",
             f"(the record with id '{key_of(seed_records, 'data_hub__events', 2)}')"]),
        "data_hub__company_referrals": (
            [Fault("data_hub__company_referrals", "foreign_next", page=1,
                   target=foreign.url("data_hub__company_referrals") + "?cursor=bz0yNQ%3D%3D")],
            ["the 'next' link of /v4/dataset/company-referrals-dataset leads to "
             f"http://127.0.0.1:{foreign.port}, not to DATAHUB_BASE_URL", "nothing was sent there"]),
        "data_hub__interaction_export_countries": (
            [Fault("data_hub__interaction_export_countries", "redirect", page=1,
                   target=foreign.url("data_hub__interaction_export_countries"))],
            ["Data Hub's HTTP 302 redirect from /v4/dataset/interactions-export-country-dataset leads to "
             f"http://127.0.0.1:{foreign.port}"]),
        "data_hub__company_export_countries": (
            [Fault("data_hub__company_export_countries", "empty_next", page=1)],
            ["/v4/dataset/company-export-country-dataset has an empty 'next' link; only null ends a dataset"]),
        "omis_dataset": (
            [Fault("omis_dataset", "endless")],
            ["omis_dataset: Data Hub sent the same id twice in one fetch: "
             f"'{key_of(seed_records, 'omis_dataset', 0)}'"]),
        "investment_projects_dataset": (
            [Fault("investment_projects_dataset", "set_field", field="competing_countries", raw=b'"France"',
                   record=1)],
            ["investment_projects_dataset.competing_countries should be a list, Data Hub sent 'France'",
             f"(the record with id '{key_of(seed_records, 'investment_projects_dataset', 1)}')"]),
        # In the unit of contacts, which is joined from companies above: its line names its own fault.
        "data_hub__advisers": (
            [Fault("data_hub__advisers", "set_field", field="undeclared", raw=DEEP, record=3)],
            ["data_hub__advisers.undeclared is nested deeper than the JSON parser allows",
             f"(the record with id '{key_of(seed_records, 'data_hub__advisers', 3)}')"]),
    }


def second_faults(standin_url: str, seed_records: StandIn) -> dict[str, tuple[list[Fault], list[str]]]:
    """Run C (incremental): other faults of the same kinds."""
    https = standin_url.replace("http://", "https://", 1)
    return {
        "data_hub__companies": (
            [Fault("data_hub__companies", "set_field", field="new\x00field", raw=b'"x"', record=0)],
            ["data_hub__companies.new\\x00field: Data Hub sent a NUL character (\\u0000) in the field's name"]),
        "data_hub__events": (
            [Fault("data_hub__events", "set_field", field="end_date", raw=b"20190101", record=0)],
            ["data_hub__events.end_date should be an ISO 8601 date (YYYY-MM-DD), Data Hub sent '20190101'"]),
        "data_hub__company_referrals": (
            [Fault("data_hub__company_referrals", "set_field", field="subject", raw=b'{"text": "hello"}', record=0)],
            ["data_hub__company_referrals.subject should be text, Data Hub sent {'text': 'hello'}"]),
        "data_hub__interaction_export_countries": (
            [Fault("data_hub__interaction_export_countries", "foreign_next", page=1,
                   target=https + "/v4/dataset/interactions-export-country-dataset?cursor=bz0yNQ%3D%3D")],
            ["leads to https://127.0.0.1:", "not to DATAHUB_BASE_URL (http://127.0.0.1:"]),
        "data_hub__company_export_countries": (
            [Fault("data_hub__company_export_countries", "set_field", field="created_on",
                   raw=b'"2019-01-01 10:00:00"', record=0)],
            ["data_hub__company_export_countries.created_on should be an ISO 8601 timestamp with Z or an offset, "
             "Data Hub sent '2019-01-01 10:00:00'"]),
        "omis_dataset": (
            [Fault("omis_dataset", "set_field", field="id", raw=json.dumps(
                key_of(seed_records, "omis_dataset", 0)).encode(), record=1)],
            ["omis_dataset: Data Hub sent the same id twice in one fetch: "
             f"'{key_of(seed_records, 'omis_dataset', 0)}'"]),
        "investment_projects_dataset": (
            [Fault("investment_projects_dataset", "endless")],
            ["/v4/dataset/investment-projects-dataset has more than 6 pages (DATAHUB_MAX_PAGES)"]),
    }


def test_each_hostile_answer_holds_back_only_its_own_unit(server_url, hawk_key, tmp_path):
    with new_database(server_url) as url, StandIn(counts=COUNTS, page_size=25, hawk_id="someone-else",
                                                  hawk_key="another-key-entirely") as foreign:
        def run(seed: int, faults: list[Fault], *args: str, edit: bool = False, **env: str):
            with StandIn(counts=COUNTS, page_size=25, seed=seed, faults=faults, hawk_id=HAWK_ID,
                         hawk_key=hawk_key) as standin:
                if edit:  # records changed since the last extract: what an incremental run fetches
                    for dataset in COUNTS:
                        standin.edit(dataset, [0, 1, 2], at=dt.datetime.now(dt.UTC))
                environment = {"DATABASE_URL": url, "DATAHUB_BASE_URL": standin.base_url, "HAWK_ID": HAWK_ID,
                               "HAWK_KEY": hawk_key, "DATAHUB_RETRY_SECONDS": "2", **env}
                return standin, run_orchestrate(["--ds", "2019-08-01", *args], environment, tmp_path)

        _, first = run(0, [])
        assert first.returncode == 0, first.stderr

        with StandIn(counts=COUNTS, page_size=25, seed=1, hawk_id=HAWK_ID, hawk_key=hawk_key) as seed1:
            cases = first_faults(foreign, seed1)
            base_url = seed1.base_url
        # Run B: a full refresh. Teams also send a field whose name holds a newline: warned on one line.
        drift = Fault("data_hub__teams", "set_field", field="odd\nerror: a line of its own", raw=b"1", record=0)
        check_run(url, cases, lambda faults: run(1, [*faults, drift], "--full-refresh"))
        _, history = fetch(url, "select notes from dataflow.run_history order by started_at desc limit 1")
        assert any("odd\\nerror: a line of its own" in note for note in history[0][0])

        # Run C: incremental (the first runs extracted everything), with other faults.
        with StandIn(counts=COUNTS, page_size=25, seed=1, hawk_id=HAWK_ID, hawk_key=hawk_key) as seed1:
            seed1.edit("omis_dataset", [0, 1, 2], at=dt.datetime.now(dt.UTC))
            cases = second_faults(base_url, seed1)
        check_run(url, cases, lambda faults: run(1, faults, edit=True, DATAHUB_MAX_PAGES="6"))

        assert foreign.requests_log == []  # nothing was ever sent to another server

        # Run D: Data Hub behaves again; everything is published (the lock and raw are fine).
        standin, last = run(1, [], "--full-refresh")
        assert last.returncode == 0, last.stderr
        assert_published(url, standin, list(UNITS))


def check_run(url: str, cases: dict[str, tuple[list[Fault], list[str]]], run) -> None:
    """One run with every case's faults: each faulted unit held with its reason and exactly as
    before; every other unit published exactly as the stand-in serves it now."""
    unit_of = {dataset: unit for unit, members in UNITS.items() for dataset in members}
    held = {unit_of[dataset] for dataset in cases}
    while readers := {unit for unit, reads in READS.items() if reads & held} - held:
        held |= readers  # a unit joined from a held unit is held with it
    before = {unit: unit_state(url, unit) for unit in held}
    standin, result = run([fault for faults, _ in cases.values() for fault in faults])
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"error: {len(held)} units not published: "), errors[0]
    lines = {line.split(":", 1)[0].split()[-1]: line for line in result.stdout.splitlines()
             if line.startswith("  held     ")}
    assert set(lines) == held, result.stdout
    for dataset, (_, needles) in cases.items():  # a unit's line names each of its datasets' faults
        for needle in needles:
            assert needle in lines[unit_of[dataset]], (needle, lines[unit_of[dataset]])
    for unit in held:
        assert unit_state(url, unit) == before[unit], unit
    assert_published(url, standin, [unit for unit in UNITS if unit not in held])


@pytest.mark.parametrize("page", ["", "http://other.example/v4/dataset/contacts-dataset"])
def test_the_client_sends_nothing_off_data_hub(page):
    from extract.sources.datahub.client import ForeignURLError, refuse_foreign

    base = "https://datahub.example:8443"
    refuse_foreign(base + "/v4/dataset/contacts-dataset?cursor=x", base, "next")  # same server: fine
    refuse_foreign("HTTPS://DataHub.Example:8443/v4/x", base, "next")  # case does not matter
    for other in ("http://datahub.example:8443/x", "https://datahub.example/x", "https://datahub.example.evil/x",
                  page or "https://datahub.example:8444/x"):
        with pytest.raises(ForeignURLError, match="refused, nothing was sent there"):
            refuse_foreign(other, base, "next")
