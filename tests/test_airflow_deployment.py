"""Airflow 3 deployed as docs/airflow.md says: `scheduler`, `dag-processor` and `api-server`
as separate processes, LocalExecutor with parallelism 4, a PostgreSQL metadata database,
the pool imported from dags/pools.json. And `make airflow` (`airflow standalone`) starting.

Every task runs in its own process. The warehouse starts empty, so the first run's twelve
extracts create `raw` and dlt's tables side by side; a later publish is killed with SIGKILL
while its transaction waits on a lock, and its retry publishes once; a run triggered through
the REST API publishes cell for cell what orchestrate.py publishes.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import uuid
from contextlib import ExitStack
from pathlib import Path

import expected
import psutil
import psycopg2
import requests
from airflow_runner import (
    BIN,
    airflow,
    base_environment,
    dag_folder,
    free_port,
    make_airflow_environment,
    started,
    wait_for,
)
from airflow_runner import metadata as sqlite_metadata
from conftest import HAWK_ID, ROOT, new_database
from runner import fetch, run_orchestrate
from test_airflow import ALL_COUNTS, COUNTS, PAGE_SIZE, VIEWS, relations_and_rows
from test_end_to_end import assert_dataset

POOL_SLOTS = 4  # with parallelism 4: four extracts at once


def metadata(url: str, sql: str) -> list[tuple]:
    """Rows of Airflow's metadata database (PostgreSQL here), dates in UTC."""
    return fetch(url, sql)[1]


def task_states(url: str, dag_id: str) -> dict[tuple[str, str], tuple[str, int]]:
    rows = metadata(url, f"""
        select r.logical_date::date::text, t.task_id, t.state, t.try_number
        from task_instance t join dag_run r on r.dag_id = t.dag_id and r.run_id = t.run_id
        where t.dag_id = '{dag_id}'""")
    return {(ds, task): (state, tries) for ds, task, state, tries in rows}


def sqlalchemy_url(url: str) -> str:
    """A libpq URL as SQLAlchemy's psycopg2 URL (Airflow derives its asyncpg one from it)."""
    return url.replace("postgresql://", "postgresql+psycopg2://", 1)


def month_starts_back(today: dt.date, months: int) -> list[dt.date]:
    """The first days of the `months` whole months before today's month, oldest first."""
    starts, day = [], today.replace(day=1)
    for _ in range(months):
        day = (day - dt.timedelta(days=1)).replace(day=1)
        starts.append(day)
    return sorted(starts)


def logs_tail(logs: list[Path]) -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in logs)


def test_a_deployment_catches_up_recovers_a_killed_publish_and_runs_what_the_api_triggers(
    server_url: str, tmp_path: Path, make_standin, hawk_key: str
):
    months = month_starts_back(dt.datetime.now(dt.UTC).date(), 2)
    standin = make_standin(counts=COUNTS, page_size=PAGE_SIZE)
    with new_database(server_url) as url, new_database(server_url) as meta, new_database(server_url) as cli:
        env = {"DATABASE_URL": url, "DATAHUB_BASE_URL": standin.base_url, "HAWK_ID": HAWK_ID, "HAWK_KEY": hawk_key}
        start = months[0]
        dags = dag_folder(tmp_path / "dags", f"prefix='catchup', start_date=dt.date({start.year}, {start.month}, 1), "
                                             "catchup=True, retries=2, retry_delay=dt.timedelta(seconds=2)")
        port = free_port()
        home = tmp_path / "airflow"
        airflow_env = base_environment(
            home, dags, tmp_path / "work", **env,
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlalchemy_url(meta),
            AIRFLOW__CORE__EXECUTOR="LocalExecutor", AIRFLOW__CORE__PARALLELISM="4",
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
            AIRFLOW__API__PORT=str(port),
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://localhost:{port}/execution/",
            AIRFLOW__API_AUTH__JWT_SECRET=uuid.uuid4().hex,
            # Every run fetches (no reuse of an earlier run's extract): each one publishes.
            DATAFLOW_AIRFLOW_EXTRACT_REUSE_MINUTES="0")
        home.mkdir()
        for command in (["db", "migrate"], ["pools", "import", str(ROOT / "dags" / "pools.json")],
                        ["pools", "set", "datahub_api", str(POOL_SLOTS), "four at once"]):
            done = airflow(airflow_env, *command, timeout=300)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

        logs = [tmp_path / f"{part}.log" for part in ("scheduler", "dag-processor", "api-server")]
        blocker = psycopg2.connect(url)

        def no_failed_run() -> None:
            if ("failed",) in metadata(meta, "select state from dag_run"):
                raise AssertionError(f"a DAG run failed: {task_states(meta, 'catchup_monthly')}\n"
                                     + logs_tail(logs))

        def successes() -> int:
            no_failed_run()
            return metadata(meta, "select count(*) from dag_run where state = 'success'")[0][0]

        with ExitStack() as stack:
            scheduler, *_ = [stack.enter_context(started([str(BIN / "airflow"), part], airflow_env, log))
                             for part, log in zip(("scheduler", "dag-processor", "api-server"), logs, strict=True)]
            # The first catch-up run, on an empty warehouse: its extracts run four at once.
            wait_for(lambda: successes() == 1, 500, "the first run", logs[0])
            extracts = metadata(meta, """select start_date, end_date from task_instance
                                         where task_id like 'extract_%' and state = 'success'""")
            most = max(sum(1 for s, e in extracts if s <= start < e) for start, _ in extracts)
            assert most >= 3, f"at most {most} extracts ran at once"

            # The second run's publish waits on a lock; its task process is killed.
            with blocker.cursor() as cursor:  # lets the audit read, stops the publish's delete
                cursor.execute("lock table public.contacts in share mode")

            def publish_waits() -> bool:
                no_failed_run()
                return fetch(url, """select count(*) from pg_stat_activity where wait_event_type = 'Lock'
                                     and query like 'delete from "public"."contacts"%'""")[1] != [(0,)]

            wait_for(publish_waits, 400, "the second run's publish to wait on the lock", logs[0])
            # The task's own process (titled with its task instance id), not its supervisor.
            (publish_id,) = metadata(meta, "select id from task_instance where task_id = 'publish' "
                                           "and state = 'running'")[0]
            workers = [p for p in psutil.Process(scheduler.pid).children(recursive=True)
                       if p.cmdline()[:1] == [f"airflow worker -- {uuid.UUID(str(publish_id))}"]]
            assert len(workers) == 1, [p.cmdline()[:1] for p in psutil.Process(scheduler.pid).children(recursive=True)]
            workers[0].kill()
            blocker.rollback()
            blocker.close()
            wait_for(lambda: successes() == 2, 400, "the second run", logs[0])

            # A run triggered through the REST API, as a user of the deployment would, with no
            # logical date: it builds the latest period ended (last month's, again).
            api = f"http://localhost:{port}"
            assert requests.get(f"{api}/api/v2/dags", timeout=30).status_code == 401
            password = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())["admin"]
            token = requests.post(f"{api}/auth/token", json={"username": "admin", "password": password},
                                  timeout=30).json()["access_token"]
            triggered = requests.post(f"{api}/api/v2/dags/catchup_monthly/dagRuns",
                                      headers={"Authorization": f"Bearer {token}"}, timeout=30,
                                      json={"logical_date": None, "conf": {}})
            assert triggered.status_code == 200, triggered.text
            wait_for(lambda: successes() == 3, 400, "the triggered run", logs[0])

        runs = metadata(meta, "select logical_date::date, state, run_type from dag_run order by run_after")
        assert runs == [*[(month, "success", "scheduled") for month in months], (None, "success", "manual")]
        states = task_states(meta, "catchup_monthly")
        assert states[(months[1].isoformat(), "publish")] == ("success", 2)  # killed, then retried
        assert {state for state, _ in states.values()} == {"success"}

        # The triggered run published cell for cell what orchestrate.py publishes for its period;
        # the first catch-up run added its period's views.
        cli_run = run_orchestrate(["--ds", months[1].isoformat()], {**env, "DATABASE_URL": cli}, tmp_path / "cli")
        assert cli_run.returncode == 0, cli_run.stderr
        mine, theirs = relations_and_rows(url), relations_and_rows(cli)
        assert {name: mine[name] for name in theirs} == theirs
        suffix = expected.month_end(months[0]).strftime("%Y_%m_%d")
        assert set(mine) - set(theirs) == {f"{view}_{suffix}" for view in VIEWS}
        data = {d: expected.dataset_rows(d, COUNTS) for d in COUNTS if d in expected.SEED_TABLES}
        for dataset, rows in data.items():
            assert_dataset(url, dataset, rows)

        # Published once per run: each publish unit logged once per run, with the stand-in's rows.
        _, logged = fetch(url, "select audit_id, unit, rows from dataflow.publish_log")
        per_run: dict[str, dict[str, int]] = {}
        for audit_id, _, rows in logged:
            assert not set(rows) & set(per_run.setdefault(audit_id, {})), "a table logged twice in one run"
            per_run[audit_id].update(rows)
        assert len(per_run) == 3 and all(rows == ALL_COUNTS for rows in per_run.values())
        _, history = fetch(url, "select ds, extracts from dataflow.run_history where status = 'success' "
                                "order by started_at")
        assert [ds for ds, _ in history] == [*months, months[1]]
        # The first run fetched everything; the ones after it only what changed (nothing).
        modes = [{d: (e["mode"], e["fetched"]) for d, e in extracts.items() if d in COUNTS} for _, extracts in history]
        assert modes == [{d: ("full", n) for d, n in COUNTS.items()}] + [dict.fromkeys(COUNTS, ("incremental", 0))] * 2
        for log in logs:
            assert hawk_key not in log.read_text()


def test_make_airflow_starts_every_part_with_the_pool(tmp_path: Path):
    """`python -m dataflow.airflow_local` (what `make airflow` runs): `airflow standalone`
    with SQLite, its UI healthy, the pool sized by INGEST_TASK_CONCURRENCY, the project's
    DAG parsed without errors."""
    port = free_port()
    env = make_airflow_environment(tmp_path / "work", port, INGEST_TASK_CONCURRENCY="3")
    log = tmp_path / "standalone.log"
    with started([sys.executable, "-m", "dataflow.airflow_local"], env, log) as process:
        def healthy() -> bool:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                health = requests.get(f"http://localhost:{port}/api/v2/monitor/health", timeout=5).json()
            except (requests.RequestException, ValueError):  # not up yet, or too busy starting to answer
                return False
            return all(part.get("status") == "healthy" for part in health.values()
                       if part and part.get("status") is not None) and "dag_processor" in health

        wait_for(healthy, 180, "airflow standalone to be healthy", log)
        home = tmp_path / "work" / "airflow"  # its SQLite metadata database
        assert sqlite_metadata(home, "select slots from slot_pool where pool = 'datahub_api'") == [(3,)]
        wait_for(lambda: sqlite_metadata(home, "select dag_id from dag") == [("data_flow_monthly",)], 120,
                 "the DAG to be parsed", log)
        assert sqlite_metadata(home, "select filename, stacktrace from import_error") == []
