"""orchestrate.py against the stand-in and a real PostgreSQL: every cell, every view row.

Expected values come from tests/expected.py (plain Python over the stand-in's records
and the description of Data Hub today, datahub_today.json), never from the code under test.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import expected
import psycopg2
import pytest
from conftest import HAWK_ID
from runner import fetch, run_orchestrate

from standin.data import ALL_PATHS

SEED = ("omis_dataset", "investment_projects_dataset", "contacts")
#: The seed's three and the datasets their tables are joined from (companies, contacts,
#: advisers, teams, interactions), so the joined columns have records to name.
COUNTS = {"omis_dataset": 420, "investment_projects_dataset": 260, "contacts": 310, "data_hub__companies": 90,
          "data_hub__advisers": 45, "data_hub__teams": 9, "data_hub__interactions": 400}
PAGE_SIZE = 37  # not a divisor of any count: the last page is partial
VIEWS = ["completed_omis_orders", "cancelled_omis_orders", "omis_client_survey", "investment_projects"]


#: Ids the stand-in makes name no record (a record deleted upstream): the warnings count them.
DANGLING = [
    ("omis_dataset", "company_id", "/v4/dataset/companies-dataset"),
    ("contacts", "company_id", "/v4/dataset/companies-dataset"),
    ("investment_projects_dataset", "project_manager_id", "/v4/dataset/advisers-dataset"),
]


def table_types(url: str, table: str) -> list[tuple[str, str, bool]]:
    _, rows = fetch(url, f"""
        select column_name, format_type(atttypid, atttypmod), attnotnull
        from information_schema.columns c
        join pg_attribute a on a.attrelid = 'public.{table}'::regclass and a.attname = c.column_name
        where table_schema = 'public' and table_name = '{table}'
        order by ordinal_position""")
    return rows


FORMAT_TYPE = {
    "character varying(100)": "character varying(100)",
    "character varying(255)": "character varying(255)",
    "text": "text", "integer": "integer", "boolean": "boolean", "date": "date",
    "decimal": "numeric", "timestamp with time zone": "timestamp with time zone",
}


def assert_dataset(url: str, dataset: str, rows: list[dict]) -> None:
    """Columns, types and NOT NULLs as in 2019, and every cell equal to the expected value."""
    mapping = [(c["column"], c["type"]) for c in expected.SEED_TABLES[dataset]]
    types = table_types(url, dataset)
    assert [(c, t, nn) for c, t, nn in types] == [
        (column, FORMAT_TYPE[t.replace(" NOT NULL", "")], "NOT NULL" in t) for column, t in mapping
    ]
    names = [column for column, _ in mapping]
    _, actual = fetch(url, f"select {', '.join(names)} from public.{dataset}")
    expected_rows = [tuple(row[n] for n in names) for row in rows]
    assert len(actual) == len(expected_rows)
    key = names.index({"omis_dataset": "omis_order_reference",
                       "investment_projects_dataset": "dh_fdi_project_id"}.get(dataset, names[0]))
    if dataset == "contacts":  # no key column in the mapping: compare as multisets
        assert Counter(actual) == Counter(expected_rows)
        return
    by_key = {row[key]: row for row in actual}
    for row in expected_rows:
        got = by_key[row[key]]
        for name, want, have in zip(names, row, got, strict=True):
            assert have == want, f"{dataset}.{name} for {row[key]!r}: {have!r} != {want!r}"
            # Same value is not enough for numerics: the digits must be the ones sent (a float
            # Data Hub writes with an exponent, 1e+16, is kept by value: numeric has no exponent).
            if isinstance(want, type(have)) and type(want).__name__ == "Decimal" and "E" not in str(want):
                assert str(have) == str(want), f"{dataset}.{name}: {have} != {want}"
            if isinstance(want, bool):
                assert have is want


def assert_views(url: str, data: dict, ds: dt.date) -> None:
    suffix = expected.month_end(ds).strftime("%Y_%m_%d")
    for view in VIEWS:
        want = expected.view_rows(view, data, ds)
        for timezone in ("UTC", "Europe/London", "America/New_York"):
            names, got = fetch(url, f'select * from public."{view}_{suffix}"', timezone)
            if view in expected.VIEW_COLUMNS:
                assert names == expected.VIEW_COLUMNS[view]
            else:
                assert names == [c for c, _ in expected.columns("investment_projects_dataset")]
            assert Counter(got) == Counter(want), f"{view}_{suffix} as read in {timezone}"
        assert want, f"the demo data gives {view} no rows for {ds}: the test would prove little"


@pytest.mark.parametrize("ds", [dt.date(2019, 8, 1)])
def test_orchestrate_loads_every_cell_and_builds_exact_views(
    ds, database, make_standin, hawk_key, tmp_path
):
    standin = make_standin(counts=COUNTS, page_size=PAGE_SIZE)
    env = {"DATABASE_URL": database, "DATAHUB_BASE_URL": standin.base_url,
           "HAWK_ID": HAWK_ID, "HAWK_KEY": hawk_key}
    result = run_orchestrate(["--ds", ds.isoformat()], env, tmp_path)
    assert result.returncode == 0, result.stderr
    for dataset, count in COUNTS.items():
        assert f"{dataset}" in result.stdout and f"{count:,} rows" in result.stdout
    suffix = expected.month_end(ds).strftime("%Y_%m_%d")
    for view in VIEWS:
        assert f"{view}_{suffix}" in result.stdout
    assert hawk_key not in result.stdout + result.stderr

    data = {d: expected.dataset_rows(d, COUNTS) for d in SEED}
    for dataset, rows in data.items():
        assert_dataset(database, dataset, rows)
    assert_views(database, data, ds)
    # Not trivial: joins found names, and some ids named no record (a record deleted upstream).
    assert any(r["company_name"] for r in data["omis_dataset"]) and any(r["team_members"]
                                                                        for r in data["investment_projects_dataset"])
    served = expected.served_records(COUNTS)
    for dataset, field, endpoint in DANGLING:
        count = expected.dangling(dataset, field, served, endpoint)
        assert count > 0, f"the stand-in names no missing record in {dataset}.{field}: the test would prove little"
        line = next(line for line in result.stderr.splitlines() if f"warning  {dataset}: ids that name no" in line)
        assert f" {count:,} {field}" in line, line

    # Raw keeps list values in their row: no child tables.
    _, tables = fetch(database, "select table_name from information_schema.tables "
                                "where table_schema = 'raw' and table_name like '%\\_\\_%'")
    assert [t for t in tables if not t[0].startswith("_dlt") and t[0] not in ALL_PATHS] == []


def test_later_run_keeps_earlier_views_correct(database, make_standin, hawk_key, tmp_path):
    """A September run over refreshed data keeps August's views, which now show the new data."""
    first = make_standin(counts=COUNTS, page_size=100)
    env = {"DATABASE_URL": database, "DATAHUB_BASE_URL": first.base_url,
           "HAWK_ID": HAWK_ID, "HAWK_KEY": hawk_key}
    assert run_orchestrate(["--ds", "2019-08-01"], env, tmp_path).returncode == 0
    _, before = fetch(database, "select 'public.omis_dataset'::regclass::oid")
    with psycopg2.connect(database) as connection, connection.cursor() as cursor:
        cursor.execute("create role report_reader")
        cursor.execute("grant select on public.omis_dataset, public.completed_omis_orders_2019_08_31 to report_reader")

    grown = {d: n + 90 for d, n in COUNTS.items()}
    second = make_standin(counts=grown, page_size=100)
    env["DATAHUB_BASE_URL"] = second.base_url
    # Another upstream altogether (its records were not modified since the first run):
    # only a full refresh sees it.
    result = run_orchestrate(["--ds", "2019-09-01", "--full-refresh"], env, tmp_path)
    assert result.returncode == 0, result.stderr

    _, after = fetch(database, "select 'public.omis_dataset'::regclass::oid")
    assert before == after, "the dataset table must be refreshed in place, not recreated"
    _, grants = fetch(database, "select table_name from information_schema.role_table_grants "
                                "where grantee = 'report_reader' order by 1")
    assert grants == [("completed_omis_orders_2019_08_31",), ("omis_dataset",)]
    data = {d: expected.dataset_rows(d, grown) for d in SEED}
    assert_views(database, data, dt.date(2019, 8, 1))
    assert_views(database, data, dt.date(2019, 9, 1))
