"""The nine Data Hub datasets beyond the seed's three, published under the later data-flow's
table names with its columns and types, every cell as the stand-in served it.

Expected values come from tests/expected.py: the later system's field list (a copy in
tests/fixtures) and conversions written out by hand, over the stand-in's records."""

from __future__ import annotations

import secrets
from collections import Counter

import expected
import pytest
from conftest import HAWK_ID, new_database
from runner import fetch, run_orchestrate

from standin import StandIn

COUNTS = {"omis_dataset": 60, "investment_projects_dataset": 50, "contacts": 140,
          "data_hub__teams": 8, "data_hub__advisers": 40, "data_hub__companies": 60, "data_hub__events": 20,
          "data_hub__interactions": 300, "data_hub__interaction_export_countries": 90,
          "data_hub__company_export_countries": 70, "data_hub__company_export_country_histories": 80,
          "data_hub__company_referrals": 50}


@pytest.fixture(scope="module")
def published(server_url, tmp_path_factory):
    """One run, for the whole module, of every dataset from a stand-in serving all twelve."""
    hawk_key = secrets.token_urlsafe(24)
    with StandIn(counts=COUNTS, page_size=45, hawk_id=HAWK_ID, hawk_key=hawk_key) as standin, \
            new_database(server_url) as url:
        env = {"DATABASE_URL": url, "DATAHUB_BASE_URL": standin.base_url, "HAWK_ID": HAWK_ID, "HAWK_KEY": hawk_key}
        result = run_orchestrate(["--ds", "2019-08-01"], env, tmp_path_factory.mktemp("work"))
        assert result.returncode == 0, result.stderr
        yield standin, url, result


def test_every_dataset_is_in_the_run(published):
    _, _, result = published
    for dataset, count in COUNTS.items():
        assert f"{dataset} ({count:,})" in result.stdout, dataset


@pytest.mark.parametrize("dataset", list(expected.LATER_DATASETS))
def test_a_later_dataset_is_published_with_the_later_columns_types_and_every_cell(published, dataset):
    standin, url, _ = published
    fields = expected.LATER_DATASETS[dataset]["fields"]
    _, types = fetch(url, f"""select column_name, data_type from information_schema.columns
                              where table_schema = 'public' and table_name = '{dataset}' order by ordinal_position""")
    assert types == [(column, expected.LATER_TYPES[kind]) for _, column, kind, *_ in fields]
    names = ", ".join(column for _, column, _, *_ in fields)
    _, rows = fetch(url, f"select {names} from public.{dataset}")
    want = expected.later_rows(dataset, standin.current_records(dataset))
    assert len(rows) == COUNTS[dataset]
    assert Counter(map(hashable, rows)) == Counter(map(hashable, want))


def hashable(row: tuple) -> tuple:
    """The row with its lists (text[] columns) as tuples, to count rows."""
    return tuple(tuple(value) if isinstance(value, list) else value for value in row)


def test_keys_are_tested(published):
    """Every later dataset's and derived table's key is not_null and unique in the audit."""
    standin, _, result = published
    # 19 tests of the seed's three datasets and their views, two (not_null, unique) per new
    # key, one not_null on the export-country history's company_export_country_id; and each
    # check that ids name records passes where none dangles (else it warns, naming them).
    served = {d: standin.current_records(d) for d in COUNTS}
    found = [(d, f, expected.dangling(d, f, served, e)) for d, f, e in expected.CHECKED_IDS]
    clean = sum(count == 0 for _, _, count in found)
    assert f"; {19 + 2 * (len(expected.LATER_DATASETS) + 2) + 1 + clean} tests passed" in result.stdout
    for dataset, field, count in found:
        assert (f"{count:,} {field}" in result.stderr) == (count > 0), (dataset, field, count)


@pytest.mark.parametrize(("table", "people", "field"), [
    ("data_hub__contacts_latest_interactions", "contacts", "contact_ids"),
    ("data_hub__advisers_latest_interactions", "data_hub__advisers", "adviser_ids"),
])
def test_the_latest_interaction_of_every_contact_and_adviser(published, table, people, field):
    standin, url, result = published
    interactions = standin.current_records("data_hub__interactions")
    want = expected.latest_interactions([p["id"] for p in standin.current_records(people)], interactions, field)
    _, rows = fetch(url, f"select * from public.{table}")
    assert dict(rows) == want and len(rows) == len(want)
    assert f"{table} ({len(want):,})" in result.stdout  # published with the datasets
    # Not trivial: some have none, and some latest interactions won over one on the same day.
    assert None in want.values() and any(want.values())
    days: dict[tuple, int] = {}
    for interaction in interactions:
        for person in interaction[field]:
            if person and interaction["date"]:
                key = (person, interaction["date"][:10])
                days[key] = days.get(key, 0) + 1
    day_of = {i["id"]: i["date"][:10] for i in interactions if i["date"]}
    assert any(days.get((person, day_of.get(latest)), 0) > 1 for person, latest in want.items() if latest)
