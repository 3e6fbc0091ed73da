"""Operating it: backfill, schedules and catch-up, selection, history, progress, docs,
adding a dataset. Against the stand-in and a real PostgreSQL; expected values from
tests/expected.py and dates written out by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import pty
import subprocess
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs

import expected
import psycopg2
import pytest
from conftest import HAWK_ID
from runner import ROOT, fetch, fingerprint, orchestrate_command, project_copy, run_orchestrate

from standin.data import ALL_PATHS

COUNTS = {"omis_dataset": 300, "investment_projects_dataset": 200, "contacts": 150}
MONTHLY_VIEWS = ["cancelled_omis_orders", "completed_omis_orders", "investment_projects", "omis_client_survey"]


@pytest.fixture
def env(database, make_standin, hawk_key) -> dict[str, str]:
    standin = make_standin(counts=COUNTS, page_size=50)
    env = {"DATABASE_URL": database, "DATAHUB_BASE_URL": standin.base_url, "HAWK_ID": HAWK_ID, "HAWK_KEY": hawk_key}
    env["_standin"] = standin  # type: ignore[assignment]
    return env


def call(args: list[str], env: dict, work: Path, root: Path | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in env.items() if not k.startswith("_")}
    return run_orchestrate(args, clean, work, **({"root": root} if root else {}))


def first_pages(standin) -> Counter:
    return Counter(e["dataset"] for e in standin.requests_log if e["page"] == 1)


def relation_names(url: str) -> set[str]:
    return {row[0] for row in fetch(url, "select table_name from information_schema.views "
                                         "where table_schema = 'public'")[1]}


def test_backfill_extracts_once_and_builds_every_month_in_order(env, tmp_path):
    result = call(["--start", "2019-06-01", "--end", "2019-09-01"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert first_pages(env["_standin"]) == Counter(dict.fromkeys(ALL_PATHS, 1)), "extract once"
    data = {d: expected.dataset_rows(d, COUNTS) for d in ("omis_dataset", "investment_projects_dataset")}
    days = ["2019_06_30", "2019_07_31", "2019_08_31"]
    positions = [result.stdout.index(f"completed_omis_orders_{day}") for day in days]
    assert positions == sorted(positions), "periods reported in order"
    assert "2019_09_30" not in result.stdout, "the end is exclusive"
    for ds, day in zip([dt.date(2019, 6, 1), dt.date(2019, 7, 1), dt.date(2019, 8, 1)], days, strict=True):
        for view in MONTHLY_VIEWS:
            _, rows = fetch(env["DATABASE_URL"], f'select * from public."{view}_{day}"')
            assert Counter(rows) == Counter(expected.view_rows(view, data, ds)), f"{view}_{day}"
    history = call(["history"], env, tmp_path)
    assert history.returncode == 0
    assert sum(" success " in line for line in history.stdout.splitlines()) == 3
    for ds in ("2019-06-01", "2019-07-01", "2019-08-01"):
        assert ds in history.stdout


def test_without_ds_runs_the_latest_completed_month(env, tmp_path):
    result = call(["--log-format", "json"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]  # every line is JSON
    today = dt.datetime.now(dt.UTC).date()
    last_month_end = today.replace(day=1) - dt.timedelta(days=1)
    assert events[-1]["ds"] == [last_month_end.replace(day=1).isoformat()]
    assert f"completed_omis_orders_{last_month_end:%Y_%m_%d}" in relation_names(env["DATABASE_URL"])


def scheduled_copy(tmp_path: Path) -> Path:
    """The project with its views scheduled from 2019-06-01 to 2019-09-01 only."""
    copy = project_copy(tmp_path)
    views = copy / "dbt_project" / "models" / "views" / "_views.yml"
    views.write_text(views.read_text().replace(
        "start_date: '2017-11-01'", "start_date: '2019-06-01'\n        end_date: '2019-09-01'"))
    return copy


def test_catchup_builds_what_the_history_lacks(env, tmp_path):
    root = scheduled_copy(tmp_path)
    assert call(["--ds", "2019-07-01"], env, tmp_path, root).returncode == 0
    result = call(["--catchup"], env, tmp_path, root)
    assert result.returncode == 0, result.stderr
    built = [line.split()[-1] for line in result.stdout.splitlines() if line.startswith("  view ")]
    assert sorted(built) == sorted(f"{v}_{day}" for v in MONTHLY_VIEWS for day in ("2019_06_30", "2019_08_31"))
    again = call(["--catchup"], env, tmp_path, root)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    listing = call(["--list"], env, tmp_path, root)
    assert listing.returncode == 0, listing.stderr
    for name in COUNTS:
        assert name in listing.stdout
    for view in MONTHLY_VIEWS:
        line = next(row for row in listing.stdout.splitlines() if row.strip().startswith(view + " "))
        assert "@monthly" in line and "2019-06-01" in line and "last built ds: 2019-08-01" in line
    units = listing.stdout.split("publish units", 1)[1].splitlines()[1:]
    assert any(line.strip().startswith("contacts+data_hub__advisers+data_hub__interactions with ")
               and line.endswith(" (joined from data_hub__companies)") for line in units), units
    assert any(line.strip() == "data_hub__events" for line in units), units


def test_selection_and_skip_extract(env, tmp_path):
    standin = env["_standin"]
    assert call(["--ds", "2019-08-01"], env, tmp_path).returncode == 0
    standin.clear_requests_log()
    result = call(["--ds", "2019-08-01", "--views", "completed_omis_orders"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    # A view loads only the datasets it reads: its table and those that table is joined from.
    assert set(first_pages(standin)) == {"omis_dataset", "contacts", "data_hub__companies", "data_hub__teams"}
    assert [line.split()[-1] for line in result.stdout.splitlines() if line.startswith("  view ")] == [
        "completed_omis_orders_2019_08_31"]
    standin.clear_requests_log()
    result = call(["--ds", "2019-08-01", "--datasets", "contacts"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert set(first_pages(standin)) == {"contacts", "data_hub__companies"}  # contacts name their companies
    standin.clear_requests_log()
    result = call(["--ds", "2019-07-01", "--skip-extract"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert standin.requests_log == [], "--skip-extract fetches nothing"
    assert "completed_omis_orders_2019_07_31" in relation_names(env["DATABASE_URL"])


def test_a_repeat_run_plans_from_the_parse_cache_and_checks_it(env, tmp_path):
    """The models of the last parse let a repeat run start fetching at once; the worker's own
    parse is compared before anything is loaded, and any edit of the project misses the cache."""
    root, work = project_copy(tmp_path), tmp_path / "work"
    assert call(["--ds", "2019-08-01"], env, work, root).returncode == 0
    cache = work / "dbt" / "models.pickle"
    key, models = pickle.loads(cache.read_bytes())
    assert set(MONTHLY_VIEWS) <= set(models)

    # A cached entry whose models disagree with the project's: planned without one view.
    stale = {name: model for name, model in models.items() if name != "omis_client_survey"}
    cache.write_bytes(pickle.dumps((key, stale)))
    before = fingerprint(env["DATABASE_URL"])
    result = call(["--ds", "2019-08-01"], env, work, root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: the dbt project's models changed since the run was planned; nothing was loaded; run it again"]
    assert first_pages(env["_standin"])["omis_dataset"] == 2, "the stale plan was used: the fetch had started"
    assert fingerprint(env["DATABASE_URL"]) == before
    assert pickle.loads(cache.read_bytes()) == (key, models), "the cache holds the fresh parse again"

    # Any edit of a project file is a new key: the edited schedule refuses the ds before fetching.
    views = root / "dbt_project" / "models" / "views" / "_views.yml"
    views.write_text(views.read_text().replace("start_date: '2017-11-01'", "start_date: '2019-09-01'", 1))
    env["_standin"].clear_requests_log()
    result = call(["--ds", "2019-08-01"], env, work, root)
    assert result.returncode == 2 and "before view" in result.stderr and "start date 2019-09-01" in result.stderr
    assert env["_standin"].requests_log == []


def test_progress_is_live_on_a_terminal_and_plain_lines_elsewhere(env, tmp_path):
    command, full_env = orchestrate_command(["--ds", "2019-08-01"], {k: v for k, v in env.items()
                                                                     if not k.startswith("_")}, tmp_path)
    full_env["DATAFLOW_PROGRESS_SECONDS"] = "0.05"
    main, replica = pty.openpty()
    process = subprocess.Popen(command, env=full_env, stdout=replica, stderr=subprocess.PIPE)
    os.close(replica)
    output = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=300)
    assert process.returncode == 0
    assert b"\r\x1b[K  fetch    " in output and b"rows/s" in output
    result = run_orchestrate(["--ds", "2019-08-01"], {**{k: v for k, v in env.items() if not k.startswith("_")},
                                                      "DATAFLOW_PROGRESS_SECONDS": "0.05"}, tmp_path)
    assert result.returncode == 0
    assert "\r" not in result.stdout and "  fetch    " in result.stdout
    quiet = call(["--ds", "2019-08-01", "--quiet"], env, tmp_path)
    assert quiet.returncode == 0 and quiet.stdout == ""


def test_docs_include_raw_sources_and_column_descriptions(env, tmp_path):
    result = call(["docs"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    site = (tmp_path / "dbt" / "target" / "static_index.html").read_text()
    assert "source.data_flow.datahub.omis_dataset" in site
    assert "Source: `invoice__subtotal_cost`" in site


def test_adding_a_dataset_is_one_source_entry_and_one_model_file(env, tmp_path):
    """The README's recipe, followed to the letter, including the incremental parts."""
    root = project_copy(tmp_path)
    models = root / "dbt_project" / "models" / "datasets"
    sources = models / "_datahub__sources.yml"
    sources.write_text(sources.read_text() + """      - name: contact_emails
        description: Contacts' names and emails, from the contacts dataset API.
        meta:
          endpoint: /v4/dataset/contacts-dataset
          query: {page_size: 7}
          updated_since: true
          key: id
        columns:
          - name: id
            data_type: character varying
          - name: name
            data_type: character varying
          - name: email
            data_type: character varying
""")
    (models / "contact_emails.sql").write_text("""with

source as (

    select * from {{ rows_to_audit(source('datahub', 'contact_emails')) }}

),

renamed as (

    select
        {{ to_varchar('id', 100) }} as contact_id,
        cast(name as text) as contact_name,
        {{ to_varchar('email', 255) }} as email

    from source

)

select * from renamed
""")
    (models / "contact_emails.yml").write_text("""version: 2

models:
  - name: contact_emails
    description: One row per contact, with the contact's name and email.
    config:
      meta:
        key: contact_id
    columns:
      - name: contact_id
        description: The contact's id in Data Hub.
        data_type: character varying(100)
        data_tests:
          - not_null
          - unique
      - name: contact_name
        description: The contact's name.
        data_type: text
      - name: email
        description: The contact's email address.
        data_type: character varying(255)
""")
    standin = env["_standin"]
    for run in ("full", "incremental"):
        if run == "incremental":
            standin.edit("contacts", [1, 2])
        standin.clear_requests_log()
        result = call(["--ds", "2019-08-01", "--datasets", "contact_emails"], env, tmp_path, root)
        assert result.returncode == 0, result.stderr
        asked = [parse_qs(e["query"]) for e in standin.requests_log]
        assert asked and all(q["page_size"] == ["7"] for q in asked)  # the endpoint's query, kept in `next`
        assert len(asked) == (-(-COUNTS["contacts"] // 7) if run == "full" else 1)
        assert (f"contact_emails ({COUNTS['contacts']:,}; 2 by key)" if run == "incremental"
                else f"contact_emails ({COUNTS['contacts']:,})") in result.stdout, result.stdout
        _, rows = fetch(env["DATABASE_URL"], "select contact_id, contact_name, email from public.contact_emails")
        want = [(r["id"], r["name"], r["email"]) for r in standin.current_records("contacts")]
        assert Counter(rows) == Counter(want)


BAD = {
    "start after end": (["--start", "2019-09-01", "--end", "2019-06-01"], "is not before --end"),
    "ds before a view's start": (["--ds", "2017-10-01"], "before view cancelled_omis_orders's start date 2017-11-01"),
    "impossible date": (["--ds", "2019-02-30"], "--ds must be a date"),
    "start without end": (["--start", "2019-06-01"], "--start and --end go together"),
    "ds and catchup": (["--ds", "2019-06-01", "--catchup"], "use one of"),
    "unknown view": (["--views", "nope"], "unknown view 'nope'"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input(env, tmp_path, case):
    args, message = BAD[case]
    result = call(args, env, tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: ") and message in result.stderr and "Traceback" not in result.stderr
    assert env["_standin"].requests_log == []
    assert fetch(env["DATABASE_URL"], "select count(*) from information_schema.tables "
                                      "where table_schema = 'public'")[1] == [(0,)]


STATISTICS_COLUMNS = ["tablename", "attname", "null_frac", "avg_width", "n_distinct", "most_common_vals::text",
                      "most_common_freqs", "histogram_bounds::text", "correlation", "most_common_elems::text"]
STATISTICS_SQL = f"""
    select {", ".join(STATISTICS_COLUMNS)} from pg_stats
    where schemaname = 'public' and tablename in ({{tables}}) order by tablename, attname"""
TABLES_SQL = """
    select c.relname, c.relpages, c.reltuples from pg_class c
    where c.relnamespace = 'public'::regnamespace and c.relname in ({tables}) order by c.relname"""


def planner_statistics(url: str) -> tuple[list[tuple], list[tuple]]:
    tables = ", ".join(f"'{name}'" for name in COUNTS)
    return fetch(url, TABLES_SQL.format(tables=tables))[1], fetch(url, STATISTICS_SQL.format(tables=tables))[1]


def test_published_tables_get_the_statistics_analyze_would_give(env, tmp_path):
    """A run leaves the published tables with fresh planner statistics: those an ANALYZE
    gives. The tables are smaller than ANALYZE's sample, so it reads every row and its
    result is exact: compared before and after one, on a first run and on a refresh. The
    audit schema is gone once published."""
    url = env["DATABASE_URL"]
    for attempt in ("first run", "refresh"):
        result = call(["--ds", "2019-08-01"], env, tmp_path / "work")
        assert result.returncode == 0, result.stderr
        sizes, columns = planner_statistics(url)
        assert [(name, rows) for name, _, rows in sizes] == sorted(COUNTS.items()), attempt
        published_columns = sum(len(fetch(url, f'select * from public."{name}" limit 0')[0]) for name in COUNTS)
        assert len(columns) == published_columns, attempt
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:
            for name in COUNTS:
                cursor.execute(f'analyze public."{name}"')
        assert planner_statistics(url) == (sizes, columns), attempt
        assert not fetch(url, "select 1 from pg_namespace where nspname = 'public_audit'")[1], attempt


def test_refresh_statistics_analyzes_each_table_and_warns_for_a_failure(database):
    from dataflow.publish import refresh_statistics
    from dataflow.settings import Secret
    from dataflow.warehouse import resolve

    with psycopg2.connect(database) as connection, connection.cursor() as cursor:
        cursor.execute("create table public.facts as select n, n % 7 as bucket from generate_series(1, 500) n")
    assert fetch(database, "select count(*) from pg_stats where tablename = 'facts'")[1] == [(0,)]
    warnings = refresh_statistics(resolve(Secret(database)), ["facts", "missing"], "public")
    assert len(warnings) == 1 and warnings[0].startswith("missing: statistics not refreshed"), warnings
    assert fetch(database, "select attname, n_distinct from pg_stats where tablename = 'facts' order by 1")[1] == [
        ("bucket", 7.0), ("n", -1.0)]


def test_a_run_whose_reader_goes_away_still_finishes(env, tmp_path):
    """`orchestrate.py | head -1`: the reader closes the pipe after the first line; the run
    goes on, publishes and records success rather than dying of a broken pipe."""
    clean = {k: v for k, v in env.items() if not k.startswith("_")}
    command, full_env = orchestrate_command(["--ds", "2019-08-01"], clean, tmp_path)
    process = subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    assert process.stdout.readline().startswith("data-flow ds=2019-08-01")
    process.stdout.close()  # as `head -1` exits
    stderr = process.communicate(timeout=600)[1]
    assert process.returncode == 0, stderr
    assert "BrokenPipe" not in stderr and "Exception ignored" not in stderr, stderr
    assert fetch(env["DATABASE_URL"], "select status from dataflow.run_history")[1] == [("success",)]
    assert fetch(env["DATABASE_URL"], "select count(*) > 0 from public.contacts")[1] == [(True,)]
