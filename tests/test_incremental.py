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

COUNTS = {"omis_dataset": 150, "investment_projects_dataset": 120, "contacts": 140}
EDITED = {"omis_dataset": [0, 7, 149], "investment_projects_dataset": [3, 50], "contacts": [10, 11, 12, 139]}
INSERTED = {"omis_dataset": 2, "investment_projects_dataset": 0, "contacts": 5}
DELETED = {"omis_dataset": [20], "investment_projects_dataset": [60, 61], "contacts": [0]}


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
        assert changed_share["investment_projects_dataset"] < 0.1  # so left to autovacuum
        assert {d: n - analyzed[d] for d, n in analyze_counts(url).items()} == {
            "omis_dataset": 0, "investment_projects_dataset": 0, "contacts": 1}

        # What Data Hub was asked: the changes since the day before the first run began.
        asked = {tuple(parse_qs(e["query"]).get("updated_since", [])) for e in standin.requests_log
                 if e["dataset"] in COUNTS}  # (teams, advisers and one more are fetched whole)
        assert asked in ({((first_started - dt.timedelta(days=1)).date().isoformat(),)},
                         {((first_ended - dt.timedelta(days=1)).date().isoformat(),)})
        # Published: the upstream state now, plus the deleted records as they were.
        merged = {}
        for dataset in COUNTS:
            now = standin.current_records(dataset)
            kept = [before[dataset][key] for key in before[dataset] if key not in {r["id"] for r in now}]
            assert len(kept) == len(DELETED[dataset])
            merged[dataset] = expected.published_rows(dataset, now + kept)
            assert_dataset(url, dataset, merged[dataset])
        assert_views(url, merged, dt.date(2019, 8, 1))
        assert_views(url, merged, dt.date(2019, 7, 1))  # earlier views read the merged tables
        report = extracts(url, dt.date(2019, 8, 1))
        for dataset in COUNTS:
            changed = len(EDITED[dataset]) + INSERTED[dataset]
            assert report[dataset] == {"mode": "incremental", "reason": "", "fetched": changed,
                                       "inserted": INSERTED[dataset], "updated": len(EDITED[dataset]),
                                       "updated_since": report[dataset]["updated_since"]}, dataset
        assert "incremental since" in done.stdout
        # Datasets whose model names a key publish only the changed rows; contacts (no key) all.
        published = next(line for line in done.stdout.splitlines() if line.startswith("  publish  "))
        for dataset, key_rows in (("omis_dataset", True), ("investment_projects_dataset", True), ("contacts", False)):
            rows = len(merged[dataset])
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
        upstream = {d: expected.published_rows(d, standin.current_records(d)) for d in COUNTS}
        for dataset in COUNTS:
            assert_dataset(url, dataset, upstream[dataset])
        assert_views(url, upstream, dt.date(2019, 8, 1))
        assert {d: (e["mode"], e["reason"]) for d, e in extracts(url, dt.date(2019, 8, 1)).items()} == {
            d: ("full", expected.full_reason(d, "asked for")) for d in ALL_PATHS}


@pytest.mark.parametrize("table", ["contacts", "omis_dataset"])  # published whole / by key
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
        # The table's own publish unit alone: a unit published before it would change the fingerprint.
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
        assert fingerprint(url) == before

        # The next run merges the same changes again and publishes them.
        done = run_orchestrate(["--ds", "2019-08-01"], env, tmp_path)
        assert done.returncode == 0, done.stderr
        assert extracts(url, dt.date(2019, 8, 1))["contacts"]["mode"] == "incremental"
        for dataset in COUNTS:
            assert_dataset(url, dataset, expected.published_rows(dataset, standin.current_records(dataset)))


def test_changes_a_failed_run_merged_into_raw_are_published_by_the_next_run(
    server_url, make_standin, hawk_key, tmp_path
):
    """A run that fails after its extract has merged changes into raw; the next run publishes
    them even when it fetches nothing new: the audit takes every raw row loaded after the
    last publish, not only the last extract's."""
    with published_once(server_url, make_standin, hawk_key, tmp_path, COUNTS) as (standin, url, env):
        for dataset in ("omis_dataset", "investment_projects_dataset"):
            standin.edit(dataset, EDITED[dataset])
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:  # publishing will refuse
            cursor.execute("alter table public.omis_dataset add column blocker integer")
        failed = run_orchestrate(["--ds", "2019-08-01"], env, tmp_path)
        assert failed.returncode == 1 and "omis_dataset not published: " in failed.stderr, failed.stderr
        assert "no longer matches the published table" in failed.stderr, failed.stderr
        # Its own publish unit, the investment projects' changes are published all the same.
        assert f"investment_projects_dataset ({COUNTS['investment_projects_dataset']:,}; " \
               f"{len(EDITED['investment_projects_dataset'])} by key)" in failed.stdout, failed.stdout
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:
            cursor.execute("alter table public.omis_dataset drop column blocker")
            # Days pass: the next extract asks for changes since after these edits, and gets none.
            cursor.execute("update dataflow.extract_state set last_started = last_started + interval '3 days'")

        done = run_orchestrate(["--ds", "2019-08-01"], env, tmp_path)
        assert done.returncode == 0, done.stderr
        assert {d: e["fetched"] for d, e in extracts(url, dt.date(2019, 8, 1)).items()} == dict.fromkeys(ALL_PATHS, 0)
        assert f"omis_dataset ({COUNTS['omis_dataset']:,}; {len(EDITED['omis_dataset'])} by key)" in done.stdout
        assert f"investment_projects_dataset ({COUNTS['investment_projects_dataset']:,}; 0 by key)" in done.stdout
        for dataset in COUNTS:
            assert_dataset(url, dataset, expected.published_rows(dataset, standin.current_records(dataset)))


def test_a_changed_model_converts_every_row_again(server_url, make_standin, hawk_key, tmp_path):
    """An incremental run whose dataset model changed since the last publish converts the whole
    raw table: a new conversion must reach the rows that did not change upstream too."""
    root = project_copy(tmp_path)
    with published_once(server_url, make_standin, hawk_key, tmp_path, COUNTS) as (standin, url, env):
        standin.edit("omis_dataset", EDITED["omis_dataset"])
        model = root / "dbt_project" / "models" / "datasets" / "omis_dataset.sql"
        text = model.read_text()
        assert "cast(services as text) as services" in text
        model.write_text(text.replace("cast(services as text) as services", "upper(services) as services"))
        done = run_orchestrate(["--ds", "2019-08-01"], env, tmp_path, root=root)
        assert done.returncode == 0, done.stderr
        assert extracts(url, dt.date(2019, 8, 1))["omis_dataset"]["mode"] == "incremental"
        assert f"omis_dataset ({COUNTS['omis_dataset']:,})" in done.stdout  # published whole, not by key
        records = standin.current_records("omis_dataset")
        unedited = [r for i, r in enumerate(records) if i not in EDITED["omis_dataset"]]
        assert any(r["services"] and r["services"] != r["services"].upper() for r in unedited)  # it shows
        want = Counter(r["services"] and r["services"].upper()
                       for r in expected.published_rows("omis_dataset", records))
        assert Counter(r[0] for r in fetch(url, "select services from public.omis_dataset")[1]) == want
