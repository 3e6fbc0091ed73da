"""Incremental refresh: after a full extract, a run asks Data Hub only for what changed
(`updated_since`, one day before the last extract began), merges it into raw by key and
publishes the merged state; deletions (never reported) stay until a full refresh, which
removes them. Expected tables are computed here from the stand-in's records."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import time
from collections import Counter
from urllib.parse import parse_qs

import expected
import psycopg2
import pytest
from conftest import ROOT, new_database
from runner import fetch, fingerprint, orchestrate_command, project_copy, run_orchestrate
from test_drift import environment, published_once
from test_end_to_end import assert_dataset, assert_views

from standin.data import ALL_PATHS

#: The 2019 tables (joined: rebuilt whole), the companies they name and the events (by key).
COUNTS = {"omis_dataset": 150, "investment_projects_dataset": 120, "contacts": 140, "data_hub__companies": 40,
          "data_hub__events": 60}
SEED = ("omis_dataset", "investment_projects_dataset", "contacts")
EDITED = {"omis_dataset": [0, 7, 149], "investment_projects_dataset": [3, 50], "contacts": [10, 11, 12, 139],
          "data_hub__companies": [1, 5], "data_hub__events": [2, 30]}
INSERTED = {"omis_dataset": 2, "investment_projects_dataset": 0, "contacts": 5, "data_hub__companies": 1,
            "data_hub__events": 2}
DELETED = {"omis_dataset": [20], "investment_projects_dataset": [60, 61], "contacts": [0],
           "data_hub__companies": [7], "data_hub__events": [10]}


def assert_table(url: str, dataset: str, source: list[dict], served: dict[str, list[dict]]) -> list[dict]:
    """`dataset` holds exactly what `source` (its raw records) makes of it; returns the 2019 rows."""
    if dataset in SEED:
        rows = expected.published_rows(dataset, source, served)
        assert_dataset(url, dataset, rows)
        return rows
    names = ", ".join(column for _, column, *_ in expected.LATER_DATASETS[dataset]["fields"])
    got = fetch(url, f"select {names} from public.{dataset}")[1]
    assert Counter(map(repr, got)) == Counter(map(repr, expected.later_rows(dataset, source))), dataset
    return []


def extracts(url: str, ds: dt.date) -> dict[str, dict]:
    _, rows = fetch(url, f"""select extracts from dataflow.run_history
                             where ds = '{ds}' and status = 'success' order by started_at""")
    return rows[-1][0]


def analyze_counts(url: str) -> dict[str, int]:
    """How often each published dataset was ANALYZEd by hand (autovacuum's count apart)."""
    _, rows = fetch(url, "select relname, analyze_count from pg_stat_user_tables where schemaname = 'public'")
    return {name: count for name, count in rows if name in COUNTS}


def test_an_incremental_run_publishes_the_changes_and_a_full_refresh_the_deletions(
    server_url, make_standin, hawk_key, tmp_path
):
    standin = make_standin(counts=COUNTS, page_size=25)
    with new_database(server_url) as url:
        env = environment(url, standin, hawk_key)
        first_started = dt.datetime.now(dt.UTC)
        done = run_orchestrate(["--ds", "2019-07-01"], env, tmp_path)
        first_ended = dt.datetime.now(dt.UTC)
        assert done.returncode == 0, done.stderr
        assert {d: e["mode"] for d, e in extracts(url, dt.date(2019, 7, 1)).items() if d in COUNTS} \
            == dict.fromkeys(COUNTS, "full")
        before = {d: {r["id"]: r for r in standin.current_records(d)} for d in COUNTS}

        for dataset in COUNTS:
            standin.edit(dataset, EDITED[dataset])
            standin.insert(dataset, INSERTED[dataset])
            standin.delete(dataset, DELETED[dataset])
        standin.clear_requests_log()
        analyzed = analyze_counts(url)
        done = run_orchestrate(["--ds", "2019-08-01"], env, tmp_path)
        assert done.returncode == 0, done.stderr
        # Statistics: refreshed where 10 % or more of the rows changed (or all were published).
        changed_share = {d: (len(EDITED[d]) + INSERTED[d]) / (COUNTS[d] + INSERTED[d]) for d in COUNTS}
        assert changed_share["data_hub__events"] < 0.1 and changed_share["data_hub__companies"] < 0.1
        assert {d: n - analyzed[d] for d, n in analyze_counts(url).items()} == {
            "omis_dataset": 1, "investment_projects_dataset": 1, "contacts": 1, "data_hub__companies": 0,
            "data_hub__events": 0}

        # What Data Hub was asked: the changes since the day before the first run began.
        asked = {tuple(parse_qs(e["query"]).get("updated_since", [])) for e in standin.requests_log
                 if e["dataset"] in COUNTS}  # (teams, advisers and one more are fetched whole)
        assert asked in ({((first_started - dt.timedelta(days=1)).date().isoformat(),)},
                         {((first_ended - dt.timedelta(days=1)).date().isoformat(),)})
        # Published: the upstream state now, plus the deleted records as they were.
        raw = {}
        for dataset in COUNTS:
            now = standin.current_records(dataset)
            kept = [before[dataset][key] for key in before[dataset] if key not in {r["id"] for r in now}]
            assert len(kept) == len(DELETED[dataset])
            raw[dataset] = now + kept
        merged = {d: assert_table(url, d, raw[d], raw) for d in COUNTS}
        assert_views(url, merged, dt.date(2019, 8, 1))
        assert_views(url, merged, dt.date(2019, 7, 1))  # earlier views read the merged tables
        report = extracts(url, dt.date(2019, 8, 1))
        for dataset in COUNTS:
            changed = len(EDITED[dataset]) + INSERTED[dataset]
            assert report[dataset] == {"mode": "incremental", "reason": "", "fetched": changed,
                                       "inserted": INSERTED[dataset], "updated": len(EDITED[dataset]),
                                       "updated_since": report[dataset]["updated_since"]}, dataset
        assert "incremental since" in done.stdout
        # Datasets whose model names a key publish only the changed rows; the joined ones all.
        published = next(line for line in done.stdout.splitlines() if line.startswith("  publish  "))
        for dataset in COUNTS:
            key_rows = dataset not in SEED
            rows = len(raw[dataset])
            changed = len(EDITED[dataset]) + INSERTED[dataset]
            assert (f"{dataset} ({rows:,}; {changed:,} by key)" if key_rows else f"{dataset} ({rows:,})") \
                in published, published
        changed = sum(len(EDITED[d]) + INSERTED[d] for d in COUNTS)
        history = run_orchestrate(["history"], env, tmp_path)
        assert (f"incremental ({changed:,} fetched, {sum(INSERTED.values()):,} new, "
                f"{sum(len(e) for e in EDITED.values()):,} changed)") in history.stdout

        # A full refresh fetches everything and so drops what Data Hub deleted.
        standin.clear_requests_log()
        done = run_orchestrate(["--ds", "2019-08-01", "--full-refresh"], env, tmp_path)
        assert done.returncode == 0, done.stderr
        assert all("updated_since" not in e["query"] for e in standin.requests_log)
        assert "by key" not in done.stdout  # a full extract is published whole
        served = {d: standin.current_records(d) for d in COUNTS}
        upstream = {d: assert_table(url, d, served[d], served) for d in COUNTS}
        assert_views(url, upstream, dt.date(2019, 8, 1))
        assert {d: (e["mode"], e["reason"]) for d, e in extracts(url, dt.date(2019, 8, 1)).items()} == {
            d: ("full", expected.full_reason(d, "asked for")) for d in ALL_PATHS}


@pytest.mark.parametrize("table", ["contacts", "data_hub__events"])  # published whole / by key
def test_kill_9_during_an_incremental_publish_leaves_the_published_tables_as_they_were(
    server_url, make_standin, hawk_key, tmp_path, table
):
    with published_once(server_url, make_standin, hawk_key, tmp_path, COUNTS) as (standin, url, env):
        before = fingerprint(url)
        for dataset in COUNTS:
            standin.edit(dataset, EDITED[dataset])

        blocker = psycopg2.connect(url)
        with blocker.cursor() as cursor:  # the audit may read it; the publish's delete waits
            cursor.execute(f"lock table public.{table} in share mode")
        # The table's own publish unit, after the units of the datasets it is joined from
        # (contacts names its companies), which may commit before the kill.
        first = {"contacts": {"data_hub__companies"}}.get(table, set())
        command, full_env = orchestrate_command(["--ds", "2019-08-01", "--datasets", table], env, tmp_path)
        process = subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        try:
            deadline = time.monotonic() + 300
            while fetch(url, f"""select count(*) from pg_stat_activity where wait_event_type = 'Lock'
                                and query ilike 'delete from%{table}%'""")[1] == [(0,)]:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the publish never reached the locked table"
                time.sleep(0.2)
            process.send_signal(signal.SIGKILL)
            process.wait()
        finally:
            blocker.rollback()
            blocker.close()
        after = fingerprint(url)
        assert {k: v for k, v in after.items() if k not in first} == {k: v for k, v in before.items() if k not in first}

        # The next run merges the same changes again and publishes them.
        done = run_orchestrate(["--ds", "2019-08-01"], env, tmp_path)
        assert done.returncode == 0, done.stderr
        assert extracts(url, dt.date(2019, 8, 1))["contacts"]["mode"] == "incremental"
        served = {d: standin.current_records(d) for d in COUNTS}
        for dataset in COUNTS:
            assert_table(url, dataset, served[dataset], served)


def test_changes_a_failed_run_merged_into_raw_are_published_by_the_next_run(
    server_url, make_standin, hawk_key, tmp_path
):
    """A run that fails after its extract has merged changes into raw; the next run publishes
    them even when it fetches nothing new: the audit takes every raw row loaded after the
    last publish, not only the last extract's."""
    joined = "+".join(sorted([*SEED, "data_hub__companies"]))
    with published_once(server_url, make_standin, hawk_key, tmp_path, COUNTS) as (standin, url, env):
        for dataset in ("data_hub__events", "data_hub__companies"):
            standin.edit(dataset, EDITED[dataset])
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:  # publishing will refuse
            cursor.execute("alter table public.data_hub__events add column blocker integer")
        failed = run_orchestrate(["--ds", "2019-08-01"], env, tmp_path)
        assert failed.returncode == 1 and "data_hub__events not published: " in failed.stderr, failed.stderr
        assert "no longer matches the published table" in failed.stderr, failed.stderr
        # Another publish unit, the companies' changes are published all the same.
        assert f"data_hub__companies ({COUNTS['data_hub__companies']:,}; " \
               f"{len(EDITED['data_hub__companies'])} by key)" in failed.stdout, failed.stdout
        assert joined not in failed.stderr
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:
            cursor.execute("alter table public.data_hub__events drop column blocker")
            # Days pass: the next extract asks for changes since after these edits, and gets none.
            cursor.execute("update dataflow.extract_state set last_started = last_started + interval '3 days'")

        done = run_orchestrate(["--ds", "2019-08-01"], env, tmp_path)
        assert done.returncode == 0, done.stderr
        assert {d: e["fetched"] for d, e in extracts(url, dt.date(2019, 8, 1)).items()} == dict.fromkeys(ALL_PATHS, 0)
        assert f"data_hub__events ({COUNTS['data_hub__events']:,}; {len(EDITED['data_hub__events'])} by key)" \
            in done.stdout
        assert f"data_hub__companies ({COUNTS['data_hub__companies']:,}; 0 by key)" in done.stdout
        served = {d: standin.current_records(d) for d in COUNTS}
        for dataset in COUNTS:
            assert_table(url, dataset, served[dataset], served)


def test_a_changed_model_converts_every_row_again(server_url, make_standin, hawk_key, tmp_path):
    """An incremental run whose dataset model changed since the last publish converts the whole
    raw table: a new conversion must reach the rows that did not change upstream too."""
    root = project_copy(tmp_path)
    with published_once(server_url, make_standin, hawk_key, tmp_path, COUNTS) as (standin, url, env):
        standin.edit("data_hub__events", EDITED["data_hub__events"])
        model = root / "dbt_project" / "models" / "datasets" / "data_hub__events.sql"
        text = model.read_text()
        assert "cast(name as varchar) as name" in text
        model.write_text(text.replace("cast(name as varchar) as name", "upper(name) as name"))
        done = run_orchestrate(["--ds", "2019-08-01"], env, tmp_path, root=root)
        assert done.returncode == 0, done.stderr
        assert extracts(url, dt.date(2019, 8, 1))["data_hub__events"]["mode"] == "incremental"
        assert f"data_hub__events ({COUNTS['data_hub__events']:,})" in done.stdout  # published whole, not by key
        records = standin.current_records("data_hub__events")
        unedited = [r for i, r in enumerate(records) if i not in EDITED["data_hub__events"]]
        assert any(r["name"] and r["name"] != r["name"].upper() for r in unedited)  # it shows
        want = Counter(r["name"] and r["name"].upper() for r in records)
        assert Counter(r[0] for r in fetch(url, "select name from public.data_hub__events")[1]) == want


JOINED = {"omis_dataset": 120, "investment_projects_dataset": 90, "contacts": 100, "data_hub__companies": 40,
          "data_hub__advisers": 30, "data_hub__teams": 6, "data_hub__interactions": 150}


def test_a_company_or_adviser_renamed_upstream_reaches_every_row_that_names_it_at_the_next_incremental_run(
    server_url, make_standin, hawk_key, tmp_path
):
    """The orders, contacts and projects did not change, so an incremental extract does not
    fetch them; the company and the adviser did, and every joined row shows their new names."""
    standin = make_standin(counts=JOINED, page_size=40)
    with new_database(server_url) as url:
        env = environment(url, standin, hawk_key)
        assert (done := run_orchestrate(["--ds", "2019-07-01"], env, tmp_path)).returncode == 0, done.stderr
        orders = standin.current_records("omis_dataset")
        company = Counter(o["company_id"] for o in orders).most_common(1)[0][0]
        companies = standin.current_records("data_hub__companies")
        company_index = next(i for i, c in enumerate(companies) if c["id"] == company)
        projects = standin.current_records("investment_projects_dataset")
        adviser = Counter(p["project_manager_id"] for p in projects if p["project_manager_id"]).most_common(1)[0][0]
        advisers = standin.current_records("data_hub__advisers")
        adviser_index = next(i for i, a in enumerate(advisers) if a["id"] == adviser)
        old_company, old_adviser = companies[company_index]["name"], advisers[adviser_index]
        standin.edit("data_hub__companies", [company_index])
        standin.edit("data_hub__advisers", [adviser_index])
        renamed = standin.current_records("data_hub__companies")[company_index]["name"]
        new_adviser = standin.current_records("data_hub__advisers")[adviser_index]
        assert renamed != old_company and (new_adviser["first_name"], new_adviser["last_name"]) != (
            old_adviser["first_name"], old_adviser["last_name"]), "the edit must rename them"

        done = run_orchestrate(["--ds", "2019-08-01"], env, tmp_path)
        assert done.returncode == 0, done.stderr
        report = extracts(url, dt.date(2019, 8, 1))
        for dataset in ("omis_dataset", "investment_projects_dataset", "contacts"):
            assert report[dataset]["mode"] == "incremental" and report[dataset]["fetched"] == 0, report[dataset]
        assert report["data_hub__companies"]["fetched"] == 1
        served = {d: standin.current_records(d) for d in JOINED}
        for dataset in ("omis_dataset", "investment_projects_dataset", "contacts"):
            assert_dataset(url, dataset, expected.published_rows(dataset, served[dataset], served))
        named = sum(o["company_id"] == company for o in orders)
        full = " ".join(p for p in (new_adviser["first_name"], new_adviser["last_name"]) if p)
        managed = sum(p["project_manager_id"] == adviser for p in projects)
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:
            cursor.execute("select count(*) from public.omis_dataset where company_name = %s", (renamed,))
            assert cursor.fetchone() == (named,) and named > 1
            cursor.execute("select count(*) from public.investment_projects_dataset where project_manager_name = %s",
                           (full,))
            assert cursor.fetchone() == (managed,) and managed > 1


def test_a_table_published_before_a_new_field_was_declared_gains_its_column_in_place(
    server_url, make_standin, hawk_key, tmp_path
):
    """A warehouse whose `data_hub__events` predates `related_programmes` (the column is not
    there): the next run adds it at the end, fills it, and keeps the table's OID and views."""
    with published_once(server_url, make_standin, hawk_key, tmp_path, COUNTS) as (standin, url, env):
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:
            cursor.execute("alter table public.data_hub__events drop column related_programmes")
            cursor.execute("create view public.event_names as select id, name from public.data_hub__events")
            cursor.execute("select 'public.data_hub__events'::regclass::oid")
            oid = cursor.fetchone()
            # As after an upgrade, the model SQL the last publish recorded is not today's: the
            # audit converts the whole table (by key it would read the published rows).
            cursor.execute("delete from dataflow.publish_state where dataset = 'data_hub__events'")
        done = run_orchestrate(["--ds", "2019-08-01"], env, tmp_path)
        assert done.returncode == 0, done.stderr
        assert f"data_hub__events ({COUNTS['data_hub__events']:,}; new columns related_programmes)" in done.stdout
        assert fetch(url, "select 'public.data_hub__events'::regclass::oid")[1] == [oid]
        assert fetch(url, "select count(*) from public.event_names")[1] == [(COUNTS["data_hub__events"],)]
        assert_table(url, "data_hub__events", standin.current_records("data_hub__events"), {})
        # A change that is not an addition at the end is still refused.
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:
            cursor.execute("alter table public.data_hub__events alter column event_type type text")
        refused = run_orchestrate(["--ds", "2019-08-01"], env, tmp_path)
        assert refused.returncode == 1 and "data_hub__events: the mapping no longer matches" in refused.stderr
