"""Demo data never reaches a configured warehouse by accident.

The stand-in and its demo records are used only when nothing is configured or with an
explicit --demo. Half a configuration (a warehouse without a Data Hub, or the reverse)
is refused before anything is touched.
"""

from __future__ import annotations

import psycopg2
from conftest import HAWK_ID
from runner import fetch, run_orchestrate

# Every relation and schema outside PostgreSQL's own: what a refused run must not change.
OBJECTS_SQL = """
    select n.nspname, c.relname, c.relkind, c.oid::bigint
    from pg_namespace n left join pg_class c on c.relnamespace = n.oid
    where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and n.nspname not like 'pg_temp%'
      and n.nspname not like 'pg_toast_temp%'
    order by 1, 2"""


def objects_and_rows(url: str) -> tuple[list[tuple], list[tuple]]:
    return fetch(url, OBJECTS_SQL)[1], fetch(url, "select * from public.existing order by 1")[1]


def test_a_warehouse_without_a_data_hub_is_refused_and_nothing_is_touched(database, tmp_path):
    with psycopg2.connect(database) as connection, connection.cursor() as cursor:
        cursor.execute("create table public.existing as select n from generate_series(1, 3) n")
    before = objects_and_rows(database)
    result = run_orchestrate(["--ds", "2019-08-01"], {"DATABASE_URL": database}, tmp_path / "work")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: DATAHUB_BASE_URL is not set"), (
        result.stderr)
    assert result.stdout == ""
    assert objects_and_rows(database) == before


def test_a_data_hub_without_a_warehouse_is_refused_and_nothing_is_fetched(make_standin, hawk_key, tmp_path):
    standin = make_standin(counts={"omis_dataset": 5, "investment_projects_dataset": 5, "contacts": 5})
    env = {"DATAHUB_BASE_URL": standin.base_url, "HAWK_ID": HAWK_ID, "HAWK_KEY": hawk_key}
    result = run_orchestrate(["--ds", "2019-08-01"], env, tmp_path / "work")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: DATABASE_URL is not set"), (
        result.stderr)
    assert standin.requests_log == []


def test_an_explicit_demo_says_so_in_its_first_line_summary_and_history(database, tmp_path):
    """--demo loads the stand-in's demo data even with a warehouse configured, and says so."""
    result = run_orchestrate(["--demo", "--ds", "2019-08-01", "--datasets", "contacts"],
                             {"DATABASE_URL": database, "DATAHUB_BASE_URL": "https://datahub.invalid",
                              "HAWK_ID": "real-id", "HAWK_KEY": "real-key-never-used"}, tmp_path / "work")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "demo data from the local Data Hub stand-in" in lines[0], lines[0]
    assert lines[-1].startswith("done (demo data) in "), lines[-1]
    assert fetch(database, "select status, demo from dataflow.run_history")[1] == [("success", True)]
    assert fetch(database, "select count(*) > 0 from public.contacts")[1] == [(True,)]
    history = run_orchestrate(["history"], {"DATABASE_URL": database}, tmp_path / "work")
    assert history.returncode == 0 and "demo data" in history.stdout, history.stdout + history.stderr


def test_a_real_run_is_not_marked_demo(database, make_standin, hawk_key, tmp_path):
    standin = make_standin(counts={"omis_dataset": 5, "investment_projects_dataset": 5, "contacts": 5})
    env = {"DATABASE_URL": database, "DATAHUB_BASE_URL": standin.base_url, "HAWK_ID": HAWK_ID, "HAWK_KEY": hawk_key}
    result = run_orchestrate(["--ds", "2019-08-01", "--datasets", "contacts"], env, tmp_path / "work")
    assert result.returncode == 0, result.stderr
    assert "demo" not in result.stdout
    assert fetch(database, "select status, demo from dataflow.run_history")[1] == [("success", False)]
