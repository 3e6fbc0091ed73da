"""A scheduler's run owns its audit until its publish, and one dataset is extracted by one
run at a time.

Under Airflow, audit and publish are separate tasks, and the run lock is held per task.
A run that audits in between (the CLI, another DAG) must not replace the certificate the
first run's publish is waiting for: it is refused (exit 3, nothing changed) until that
publish, or until DATAFLOW_AUDIT_HOLD_MINUTES have passed. The "DAG run" here calls the
same stage functions its tasks call (`dataflow.tasks`), each in its own process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import expected
import psycopg2
from conftest import HAWK_ID, ROOT, new_database
from runner import fetch, fingerprint, project_copy, run_orchestrate
from test_publish_units import COUNTS

from dataflow.lock import DATASET_LOCK_CLASS
from dataflow.stage_process import run_extract_process
from standin.server import StandIn

DATASET = "data_hub__events"
AUDIT_ID = "data_flow_monthly/manual__1/audit/{try_number}"
OWNER = "data_flow_monthly/manual__1"
#: One DAG task, as dataflow/dags.py calls it: audit or publish of DATASET for ds 2019-08-01.
TASK = """
import datetime as dt, json, sys
from dataflow import registry
from dataflow.plan import Period
from dataflow.report import Reporter
from dataflow.settings import from_environment
from dataflow.tasks import audit_datasets, publish_datasets

stage, dataset, audit_id, owner = sys.argv[1:]
settings = from_environment()
if stage == "audit":
    period = Period(dt.date(2019, 8, 1), dt.date(2019, 9, 1), ())
    done = audit_datasets(settings, period, [dataset], audit_id, Reporter(), owner=owner)
    print(json.dumps(done["passed"]))
else:
    contracts = {dataset: registry.load().contracts[dataset]}
    print(json.dumps(publish_datasets(settings, contracts, audit_id, Reporter())["rows"]))
"""


def dag_task(stage: str, env: dict[str, str], try_number: int = 1) -> object:
    done = subprocess.run([sys.executable, "-c", TASK, stage, DATASET, AUDIT_ID.format(try_number=try_number), OWNER],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def published_events(url: str) -> Counter:
    names = ", ".join(column for _, column, *_ in expected.LATER_DATASETS[DATASET]["fields"])
    return Counter(map(repr, fetch(url, f"select {names} from public.{DATASET}")[1]))


def served_events(standin: StandIn) -> Counter:
    return Counter(map(repr, expected.later_rows(DATASET, standin.current_records(DATASET))))


def test_a_run_between_a_dag_runs_audit_and_publish_is_refused_and_the_publish_is_its_own(
    server_url, hawk_key, tmp_path
):
    with new_database(server_url) as url:
        def environment(standin: StandIn, **extra: str) -> dict[str, str]:
            return {"DATABASE_URL": url, "DATAHUB_BASE_URL": standin.base_url, "HAWK_ID": HAWK_ID,
                    "HAWK_KEY": hawk_key, "DATAFLOW_WORK_DIR": str(tmp_path / "dag"), **extra}

        def cli(seed: int, **extra: str) -> tuple[StandIn, subprocess.CompletedProcess[str]]:
            with StandIn(counts=COUNTS, page_size=25, seed=seed, hawk_id=HAWK_ID, hawk_key=hawk_key) as standin:
                return standin, run_orchestrate(["--ds", "2019-08-01", "--full-refresh"],
                                                environment(standin, **extra), tmp_path / "cli")

        assert cli(0)[1].returncode == 0

        # The DAG run: its extract and audit see upstream seed 1.
        with StandIn(counts=COUNTS, page_size=25, seed=1, hawk_id=HAWK_ID, hawk_key=hawk_key) as seed1:
            env = {**os.environ, **environment(seed1)}
            run_extract_process(DATASET, env, full_refresh=True)
            audited_events = served_events(seed1)
        assert dag_task("audit", env) == [DATASET]

        # A CLI run now (upstream seed 2) is refused before it changes anything.
        before = fingerprint(url)
        raw = f"select md5(string_agg(t::text, '' order by t::text)) from raw.{DATASET} t"
        raw_before = fetch(url, raw)[1]
        _, refused = cli(2)
        assert refused.returncode == 3, refused.stdout + refused.stderr
        (line,) = [line for line in refused.stderr.splitlines() if line.startswith("error: ")]
        assert line.startswith(f"error: the audit of another run ({OWNER}, certified ") and "awaits its publish" in line
        assert fingerprint(url) == before and fetch(url, raw)[1] == raw_before

        # A retry of the DAG run's own audit may replace it; its publish publishes what it certified.
        assert dag_task("audit", env, try_number=2) == [DATASET]
        published = dag_task("publish", env, try_number=2)
        assert published == {DATASET: sum(audited_events.values())}
        assert published_events(url) == audited_events

        # Published: the CLI runs again.
        seed2, again = cli(2)
        assert again.returncode == 0, again.stderr
        assert published_events(url) == served_events(seed2)

        # An audit whose publish never comes holds other runs only DATAFLOW_AUDIT_HOLD_MINUTES.
        assert dag_task("audit", env, try_number=3) == [DATASET]
        assert cli(2, DATAFLOW_AUDIT_HOLD_MINUTES="60")[1].returncode == 3
        time.sleep(2)
        assert cli(2, DATAFLOW_AUDIT_HOLD_MINUTES="0.02")[1].returncode == 0


def test_two_extracts_of_one_dataset_run_one_after_the_other(server_url, hawk_key, tmp_path, capfd):
    """Another run's extract of the dataset holds its lock (as this test does): the extract
    waits, fetching nothing, and runs once the lock is released."""
    with new_database(server_url) as url, \
            StandIn(counts=COUNTS, page_size=25, hawk_id=HAWK_ID, hawk_key=hawk_key) as standin:
        env = {**os.environ, "DATABASE_URL": url, "DATAHUB_BASE_URL": standin.base_url,
               "HAWK_ID": HAWK_ID, "HAWK_KEY": hawk_key, "DATAFLOW_WORK_DIR": str(tmp_path / "work")}
        other = psycopg2.connect(url)
        other.autocommit = True
        with other.cursor() as cursor:
            cursor.execute("select pg_advisory_lock(%s, hashtext(%s))", (DATASET_LOCK_CLASS, DATASET))
        results: list[dict[str, object]] = []
        extract = threading.Thread(target=lambda: results.append(run_extract_process(DATASET, env)))
        extract.start()
        deadline = time.monotonic() + 60
        while "waiting for another run's extract" not in capfd.readouterr().out:
            assert time.monotonic() < deadline and extract.is_alive(), "the extract did not wait"
            time.sleep(0.5)
        time.sleep(2)
        assert extract.is_alive() and standin.requests_log == []  # waiting, nothing fetched
        other.close()  # the other extract ends: its session's lock goes with it
        extract.join(120)
        assert not extract.is_alive() and results[0]["rows"] == COUNTS[DATASET]
        assert standin.requests_log  # fetched once the lock was free


def test_the_first_extracts_into_an_empty_warehouse_run_side_by_side(server_url, hawk_key, tmp_path):
    """A DAG's first run: every extract task starts at once on a warehouse with no `raw`
    schema and none of dlt's tables yet; each must load its dataset."""
    datasets = ["data_hub__events", "data_hub__teams", "data_hub__company_referrals", "contacts",
                "data_hub__advisers", "data_hub__companies"]
    with new_database(server_url) as url, \
            StandIn(counts=COUNTS, page_size=25, hawk_id=HAWK_ID, hawk_key=hawk_key) as standin:
        assert fetch(url, "select count(*) from pg_namespace where nspname like 'raw%'")[1] == [(0,)]
        env = {**os.environ, "DATABASE_URL": url, "DATAHUB_BASE_URL": standin.base_url,
               "HAWK_ID": HAWK_ID, "HAWK_KEY": hawk_key}
        results: dict[str, object] = {}

        def extract(dataset: str) -> None:
            try:
                results[dataset] = run_extract_process(dataset, {**env, "DATAFLOW_WORK_DIR": str(tmp_path / dataset)})
            except Exception as exc:  # noqa: BLE001 - reported below, per dataset
                results[dataset] = exc

        threads = [threading.Thread(target=extract, args=(d,)) for d in datasets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        assert {d: r["rows"] if isinstance(r, dict) else repr(r) for d, r in results.items()} == {
            d: COUNTS[d] for d in datasets}
        for dataset in datasets:
            assert fetch(url, f"select count(*) from raw.{dataset}")[1] == [(COUNTS[dataset],)]


SKIP_CHECK = """
import json, sys
from dataflow.settings import from_environment
from dataflow.tasks import published_since_extract

print(json.dumps(published_since_extract(from_environment(), sys.argv[1:])))
"""


def test_a_reused_extract_skips_the_audit_only_while_the_models_are_the_ones_that_published(
    server_url, hawk_key, tmp_path
):
    """A catch-up run that reused every extract skips its audit when everything was
    published since, but not after a model changed: the published tables must be rebuilt
    by the new models."""
    datasets = ["data_hub__events", "data_hub__teams"]
    copy = project_copy(tmp_path)
    with new_database(server_url) as url, \
            StandIn(counts=COUNTS, page_size=25, hawk_id=HAWK_ID, hawk_key=hawk_key) as standin:
        env = {"DATABASE_URL": url, "DATAHUB_BASE_URL": standin.base_url, "HAWK_ID": HAWK_ID, "HAWK_KEY": hawk_key}
        done = run_orchestrate(["--ds", "2019-08-01", "--datasets", ",".join(datasets)], env, tmp_path / "work")
        assert done.returncode == 0, done.stderr

        def skips(root: Path) -> bool:
            check = subprocess.run([sys.executable, "-c", SKIP_CHECK, *datasets], cwd=root, capture_output=True,
                                   text=True, timeout=120, check=False,
                                   env={**os.environ, **env, "PYTHONPATH": str(root)})
            assert check.returncode == 0, check.stderr
            return json.loads(check.stdout.strip().splitlines()[-1])

        assert skips(ROOT) and skips(copy)  # the same models, wherever the project lies
        model = copy / "dbt_project" / "models" / "datasets" / "data_hub__events.sql"
        model.write_text(model.read_text() + "\n-- a changed model\n")
        assert not skips(copy)
