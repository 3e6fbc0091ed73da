"""The pipeline under real Apache Airflow 3: DAGs generated from the dbt project, a DAG run
that publishes exactly what orchestrate.py publishes, a failing dataset (`airflow dags
test`). A deployment with a real scheduler is test_airflow_deployment.py.

Airflow runs in child processes only, each test with its own home and metadata database;
the warehouse is the session's PostgreSQL and Data Hub the stand-in.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import expected
import pytest
import yaml
from airflow_runner import airflow, base_environment, dag_folder, metadata, migrate, new_home, task_states
from conftest import HAWK_ID, ROOT, new_database
from runner import fetch, fingerprint, project_copy, run_orchestrate
from test_end_to_end import assert_dataset, assert_views

from standin.data import ALL_PATHS
from standin.faults import Fault

COUNTS = {"omis_dataset": 240, "investment_projects_dataset": 160, "contacts": 200}
# Every dataset runs (these have records), and the derived tables: one row per contact or adviser.
EXTRACTED = {**dict.fromkeys(ALL_PATHS, 0), **COUNTS}
ALL_COUNTS = {**EXTRACTED, "data_hub__advisers_latest_interactions": 0,
              "data_hub__contacts_latest_interactions": COUNTS["contacts"]}
PAGE_SIZE = 40
DB_PASSWORD = "airflow-db-password-3c9f"  # the embedded server trusts local connections and ignores it
VIEWS = ["cancelled_omis_orders", "completed_omis_orders", "investment_projects", "omis_client_survey"]

INSPECT = """
import json, sys
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(sys.argv[1])
out = {"errors": {path: error.strip().splitlines()[-1] for path, error in bag.import_errors.items()}, "dags": {}}
for dag_id, dag in bag.dags.items():
    dag.check_cycle()
    out["dags"][dag_id] = {
        "upstream": {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks},
        "pools": {t.task_id: t.pool for t in dag.tasks},
        "outlets": {t.task_id: sorted(a.name for a in t.outlets) for t in dag.tasks},
        "retries": sorted({t.retries for t in dag.tasks}),
        "task_timeouts": sorted({t.execution_timeout.total_seconds() for t in dag.tasks}),
        "run_timeout": dag.dagrun_timeout.total_seconds(),
        "cron": dag.timetable.expression, "catchup": dag.catchup, "max_active_runs": dag.max_active_runs,
        "start": dag.start_date.date().isoformat(),
    }
print(json.dumps(out))
"""


@pytest.fixture(scope="session")
def airflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("airflow-template")
    migrate(home)
    return home


@pytest.fixture
def home(airflow_template: Path, tmp_path: Path) -> Path:
    return new_home(airflow_template, tmp_path / "airflow")


def declared(root: Path = ROOT) -> tuple[list[str], dict[str, tuple[str, str, set[str]]]]:
    """Datasets and views (schedule, start date, datasets read) as the dbt files declare them,
    read here with plain YAML and a regex, not through the code under test."""
    sources = yaml.safe_load((root / "dbt_project/models/datasets/_datahub__sources.yml").read_text())
    datasets = [table["name"] for table in sources["sources"][0]["tables"]]
    views = {}
    for path in sorted((root / "dbt_project/models/views").glob("*.yml")):
        for model in yaml.safe_load(path.read_text())["models"]:
            sql = (root / "dbt_project/models/views" / f"{model['name']}.sql").read_text()
            meta = model["config"]["meta"]
            refs = set(re.findall(r"ref\(\s*['\"](\w+)['\"]\s*\)", sql))
            views[model["name"]] = (meta["schedule"], meta["start_date"], refs)
    return datasets, views


def with_joins(datasets: set[str], root: Path = ROOT) -> list[str]:
    """`datasets` and those their models are joined from (refs and sources in each dataset
    model's SQL, read here with a regex), transitively, sorted."""
    wanted, todo = set(), list(datasets)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            sql = (root / "dbt_project/models/datasets" / f"{name}.sql").read_text()
            todo += re.findall(r"(?:ref\(|source\('datahub',)\s*'(\w+)'\)", sql)
    return sorted(wanted)


def inspect(dags: Path, home: Path, root: Path = ROOT, **extra: str) -> dict:
    env = base_environment(home, dags, home / "work", PYTHONPATH=str(root), **extra)
    done = subprocess.run([sys.executable, "-c", INSPECT, str(dags)], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def expected_tasks(datasets: list[str]) -> dict[str, list[str]]:
    extracts = [f"extract_{d}" for d in datasets]
    return {**{e: [] for e in extracts}, "audit": sorted(extracts), "publish": ["audit"], "views": ["publish"]}


def test_the_dag_folder_matches_the_dbt_project(home: Path):
    datasets, views = declared()
    found = inspect(ROOT / "dags", home)
    assert found["errors"] == {}
    schedules = {schedule for schedule, _, _ in views.values()}
    assert schedules == {"@monthly"}, "the expectations below are written for the project's one schedule"
    assert set(found["dags"]) == {"data_flow_monthly"}
    dag = found["dags"]["data_flow_monthly"]
    read = sorted({d for _, _, refs in views.values() for d in refs})
    assert set(read) <= set(datasets)
    assert dag["upstream"] == expected_tasks(datasets)  # every dataset; the monthly DAG also loads unread ones
    assert {dag["pools"][f"extract_{d}"] for d in datasets} == {"datahub_api"}
    derived = [path.stem for path in (ROOT / "dbt_project/models/derived").glob("*.sql")]
    assert derived  # published by the same task: an asset each
    # One alias: the publish task announces only the tables it published (a unit held back, none).
    assert dag["outlets"]["publish"] == ["data_flow_monthly.published"]
    assert (dag["cron"], dag["catchup"], dag["max_active_runs"]) == ("0 0 1 * *", True, 1)
    assert dag["start"] == min(start for _, start, _ in views.values())
    assert dag["retries"] == [2]
    assert (dag["task_timeouts"], dag["run_timeout"]) == ([120 * 60], 12 * 3600)  # the defaults


def test_the_shipped_pool_file_creates_the_pool_the_extracts_run_in(home: Path):
    """`airflow pools import dags/pools.json`, as docs/airflow.md says: no `make airflow` needed."""
    env = base_environment(home, ROOT / "dags", home / "work")
    imported = airflow(env, "pools", "import", str(ROOT / "dags" / "pools.json"))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    listed = airflow(env, "pools", "list", "-o", "json")
    pools = {pool["pool"]: pool for pool in json.loads(listed.stdout.strip().splitlines()[-1])}
    extract_pools = {pool for task, pool in inspect(ROOT / "dags", home)["dags"]["data_flow_monthly"]["pools"].items()
                     if task.startswith("extract_")}
    assert extract_pools == {"datahub_api"} and int(pools["datahub_api"]["slots"]) == 2


def test_timeouts_are_configurable_and_checked(home: Path):
    env = {"DATAFLOW_AIRFLOW_TASK_TIMEOUT_MINUTES": "30", "DATAFLOW_AIRFLOW_RUN_TIMEOUT_HOURS": "1.5"}
    dag = inspect(ROOT / "dags", home, **env)["dags"]["data_flow_monthly"]
    assert (dag["task_timeouts"], dag["run_timeout"]) == ([30 * 60], 1.5 * 3600)
    found = inspect(ROOT / "dags", home, DATAFLOW_AIRFLOW_TASK_TIMEOUT_MINUTES="0")
    assert found["dags"] == {}
    assert list(found["errors"].values()) == [
        "dataflow.errors.UsageError: DATAFLOW_AIRFLOW_TASK_TIMEOUT_MINUTES must be a number greater than 0, got '0'"]


def test_a_task_with_nothing_configured_fails_instead_of_running_the_demo(home: Path, tmp_path: Path):
    """No warehouse and no Data Hub: the extracts fail with one clear line, nothing starts an
    embedded PostgreSQL or a stand-in, and nothing is announced as published."""
    work = tmp_path / "work"
    env = base_environment(home, dag_folder(tmp_path / "dags", "retries=0"), work)
    result = airflow(env, "dags", "test", "data_flow_monthly", "2019-08-01")
    logs = result.stdout + result.stderr + "".join(path.read_text() for path in home.rglob("*.log"))
    assert "no warehouse or Data Hub configured: set the Airflow connections datasets_db and datahub_api" in logs
    states = task_states(home, "data_flow_monthly")
    assert {state for (_, task), (state, _) in states.items() if task.startswith("extract_")} == {"failed"}
    assert states[("2019-08-01", "audit")][0] == "failed", states
    assert "embedded PostgreSQL" not in logs and "demo data" not in logs
    assert metadata(home, "select count(*) from asset_event") == [(0,)]


def test_a_new_view_with_its_own_schedule_gets_its_own_dag(home: Path, tmp_path: Path):
    """Adding a view in dbt adds a DAG (and its tasks) once `make registry` rewrote
    dags/registry.json, with no edit to any DAG file."""
    copy = project_copy(tmp_path)
    views = copy / "dbt_project/models/views"
    (views / "weekly_investment_projects.sql").write_text(
        "{{ config(alias='weekly_investment_projects_' ~ period_suffix()) }}\n\n"
        "select * from {{ ref('investment_projects_dataset') }}\n")
    (views / "_weekly.yml").write_text(yaml.safe_dump({"version": 2, "models": [{
        "name": "weekly_investment_projects",
        "config": {"meta": {"schedule": "@weekly", "start_date": "2019-08-04"}}}]}))
    datasets, declared_views = declared(copy)
    assert declared_views["weekly_investment_projects"][2] == {"investment_projects_dataset"}
    # The DAGs come from dags/registry.json, written ahead: until it is rewritten, they refuse.
    stale = inspect(copy / "dags", home, root=copy)
    assert stale["dags"] == {} and [e.split(": ", 1)[0] for e in stale["errors"].values()] == [
        "dataflow.registry.RegistryStale"], stale["errors"]
    assert "run `make registry` (python -m dataflow.registry)" in next(iter(stale["errors"].values()))
    written = subprocess.run([sys.executable, "-m", "dataflow.registry"], cwd=copy, capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(copy), "DATAFLOW_WORK_DIR": str(tmp_path / "w")},
                             timeout=300, check=False)
    assert written.returncode == 0, written.stderr
    found = inspect(copy / "dags", home, root=copy)
    assert found["errors"] == {}
    assert set(found["dags"]) == {"data_flow_monthly", "data_flow_weekly"}
    weekly = found["dags"]["data_flow_weekly"]
    read = with_joins({"investment_projects_dataset"}, copy)
    assert len(read) == 5  # the projects, and the advisers, teams, companies and interactions they name
    assert weekly["upstream"] == expected_tasks(read)
    assert (weekly["cron"], weekly["start"]) == ("0 0 * * 0", "2019-08-04")
    assert found["dags"]["data_flow_monthly"]["upstream"] == expected_tasks(datasets)


def airflow_connection(url: str) -> str:
    """The warehouse as an Airflow connection (JSON form), with a password."""
    parts = urlsplit(url)
    host = parse_qs(parts.query).get("host", [parts.hostname or "localhost"])[0]
    return json.dumps({"conn_type": "postgres", "host": host, "port": parts.port or 5432,
                       "login": parts.username or "postgres", "password": parts.password or DB_PASSWORD,
                       "schema": parts.path.lstrip("/")})


def relations_and_rows(url: str) -> dict[str, list[tuple]]:
    _, relations = fetch(url, """
        select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'v') order by 1""")
    return {name: fetch(url, f'select * from public."{name}" t order by t::text')[1] for (name,) in relations}


def test_a_dag_run_publishes_exactly_what_orchestrate_publishes(
    server_url: str, home: Path, tmp_path: Path, make_standin, hawk_key: str
):
    standin = make_standin(counts=COUNTS, page_size=PAGE_SIZE)
    with new_database(server_url) as cli, new_database(server_url) as dag_db:
        env = {"DATABASE_URL": cli, "DATAHUB_BASE_URL": standin.base_url, "HAWK_ID": HAWK_ID, "HAWK_KEY": hawk_key}
        assert run_orchestrate(["--ds", "2019-08-01"], env, tmp_path / "cli").returncode == 0

        # Warehouse and Data Hub from Airflow connections, as a deployment sets them.
        datahub = {"conn_type": "http", "host": standin.base_url, "login": HAWK_ID, "password": hawk_key}
        airflow_env = base_environment(home, ROOT / "dags", tmp_path / "work",
                                       AIRFLOW_CONN_DATASETS_DB=airflow_connection(dag_db),
                                       AIRFLOW_CONN_DATAHUB_API=json.dumps(datahub))
        # Triggered with the full-refresh parameter (a first extract would be full anyway; the reason shows it).
        result = airflow(airflow_env, "dags", "test", "data_flow_monthly", "2019-08-01",
                         "--conf", json.dumps({"full_refresh": True}))
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        states = task_states(home, "data_flow_monthly")
        assert {state for state, _ in states.values()} == {"success"}, states
        assert len(states) == len(ALL_PATHS) + 3  # an extract task per dataset, then audit, publish, views

        # Cell for cell what the CLI published, and both what the stand-in holds.
        assert relations_and_rows(dag_db) == relations_and_rows(cli)
        data = {d: expected.dataset_rows(d, COUNTS) for d in COUNTS if d in expected.SEED_TABLES}
        for dataset, rows in data.items():
            assert_dataset(dag_db, dataset, rows)
        assert_views(dag_db, data, dt.date(2019, 8, 1))

        # What Airflow shows: the CLI's progress lines in the task logs (`dags test` prints
        # them), row counts as task metadata and on one asset event per published table; no
        # secret anywhere.
        logs = result.stdout + result.stderr + "".join(path.read_text() for path in home.rglob("*.log"))
        for dataset, count in COUNTS.items():
            assert re.search(rf"extract  {dataset} +{count:,} rows", logs), dataset
        published = re.search(r"publish  (.*)", logs)
        assert published and all(f"{d} ({n:,})" in published[1] for d, n in ALL_COUNTS.items()), published
        events = metadata(home, "select a.name, e.extra from asset_event e join asset a on a.id = e.asset_id")
        assert {name: json.loads(extra)["rows"] for name, extra in events} == {f"public.{d}": n
                                                                              for d, n in ALL_COUNTS.items()}
        for secret in (hawk_key, DB_PASSWORD):
            assert secret not in logs
        _, history = fetch(dag_db, "select ds, status, rows, extracts from dataflow.run_history")
        assert [row[:3] for row in history] == [(dt.date(2019, 8, 1), "success", ALL_COUNTS)]
        assert {d: (e["mode"], e["reason"], e["fetched"]) for d, e in history[0][3].items()} \
            == {d: ("full", expected.full_reason(d, "asked for"), n) for d, n in EXTRACTED.items()}

        # The next period's run, as a catch-up makes it right after: every dataset was
        # extracted minutes ago (DATAFLOW_AIRFLOW_EXTRACT_REUSE_MINUTES) and published since,
        # so nothing is fetched, audited or published; the period's views are built.
        standin.clear_requests_log()
        published_before = fetch(dag_db, "select count(*) from dataflow.publish_log")[1]
        again = airflow(airflow_env, "dags", "test", "data_flow_monthly", "2019-09-01")
        assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
        assert {state for (day, _), (state, _) in task_states(home, "data_flow_monthly").items()
                if day == "2019-09-01"} == {"success"}
        assert standin.requests_log == []
        assert "audit    skipped: every extract reused" in again.stdout + again.stderr
        assert fetch(dag_db, "select count(*) from dataflow.publish_log")[1] == published_before
        views = {name for (name,) in fetch(dag_db, "select viewname from pg_views where schemaname = 'public'")[1]}
        assert {f"{v}_2019_09_30" for v in VIEWS} <= views
        _, history = fetch(dag_db, "select status, extracts from dataflow.run_history where ds = '2019-09-01'")
        assert history[0][0] == "success" and {e["mode"] for e in history[0][1].values()} == {"reused"}


def test_a_dataset_that_keeps_failing_holds_back_its_unit_and_the_others_publish(
    server_url: str, home: Path, tmp_path: Path, make_standin, hawk_key: str
):
    """The contacts extract fails after its retries: the audit and publish go on with the
    other publish units, the views task builds their views and then fails naming the unit
    held back, whose tables and views stay exactly as they were."""
    with new_database(server_url) as url:
        good = make_standin(counts=COUNTS, page_size=PAGE_SIZE, seed=0)
        env = {"DATABASE_URL": url, "DATAHUB_BASE_URL": good.base_url, "HAWK_ID": HAWK_ID, "HAWK_KEY": hawk_key}
        assert run_orchestrate(["--ds", "2019-07-01"], env, tmp_path / "cli").returncode == 0
        before = fingerprint(url)

        failing = make_standin(counts=COUNTS, page_size=PAGE_SIZE, seed=1, faults=[Fault("contacts", "500", page=2)])
        dags = dag_folder(tmp_path / "dags", "retries=1, retry_delay=dt.timedelta(seconds=1)")
        airflow_env = base_environment(home, dags, tmp_path / "work", DATABASE_URL=url, HAWK_ID=HAWK_ID,
                                       HAWK_KEY=hawk_key, DATAHUB_BASE_URL=failing.base_url,
                                       DATAHUB_REQUEST_TIMEOUT="2", DATAHUB_RETRY_SECONDS="2")
        # A full refresh: another upstream (seed 1) whose contacts fail on their second page.
        result = airflow(airflow_env, "dags", "test", "data_flow_monthly", "2019-08-01",
                         "--conf", json.dumps({"full_refresh": True}))
        states = task_states(home, "data_flow_monthly")
        assert states[("2019-08-01", "extract_contacts")] == ("failed", 2), states  # tried, retried, failed
        assert {states[("2019-08-01", f"extract_{d}")][0] for d in ("omis_dataset", "investment_projects_dataset")} \
            == {"success"}
        assert {states[("2019-08-01", task)][0] for task in ("audit", "publish")} == {"success"}, states
        assert states[("2019-08-01", "views")][0] == "failed", states
        # Contacts' unit (with advisers, interactions and the latest-interaction tables) is
        # held, and so are the two 2019 tables joined from it, with every view; companies
        # and teams, which those are joined from too, publish.
        held = "contacts+data_hub__advisers+data_hub__interactions"
        unit = {*held.split("+"), "data_hub__advisers_latest_interactions", "data_hub__contacts_latest_interactions",
                "omis_dataset", "investment_projects_dataset"}
        logs = result.stdout + result.stderr + "".join(path.read_text() for path in home.rglob("*.log"))
        assert f"3 units not published: {held}: extract_contacts failed" in logs
        assert f"omis_dataset: joined from {held}" in logs

        after = fingerprint(url)
        assert {name: after[name] for name in unit} == {name: before[name] for name in unit}
        views = {name for name, kind, *_ in after["relations"] if kind == "v"}
        assert not any(v.endswith("_2019_08_31") for v in views)  # every view reads the held unit
        events = metadata(home, "select a.name from asset_event e join asset a on a.id = e.asset_id")
        assert {name for (name,) in events} == {f"public.{d}" for d in ALL_COUNTS if d not in unit}
        assert len(events) == 7  # the five later datasets that nothing joins, companies and teams
        _, history = fetch(url, "select status, error from dataflow.run_history where ds = '2019-08-01'")
        assert history[0][0] == "failed" and held in history[0][1]
        page_two = [entry for entry in failing.requests_log
                    if entry.get("dataset") == "contacts" and entry.get("page") == 2]
        assert len(page_two) >= 2, "each try asked for the failing page"
        assert hawk_key not in result.stdout + result.stderr
