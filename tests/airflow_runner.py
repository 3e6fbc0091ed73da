"""Running real Airflow 3 for the tests: its home, its CLI, and reading what it recorded.

Airflow is only ever run in child processes (its configuration is read at import, from
AIRFLOW_HOME), each test with its own home: a copy of one metadata database migrated
once per session.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from runner import CONFIG_VARIABLES, ROOT

BIN = Path(sys.executable).parent
#: A DAG file for the tests: the project's DAG factory with test settings (Airflow reads a
#: file as a DAG file only if it names both "airflow" and "dag").
DAG_FILE = '''"""Airflow DAGs of data-flow for a test."""
import datetime as dt

from dataflow.dags import build

globals().update(build({arguments}))
'''


def base_environment(home: Path, dags: Path, work: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in CONFIG_VARIABLES and not key.startswith("AIRFLOW")}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "PROVIDERS__ENABLE_AIRFLOW_SECRETS": "false",
        "DATAFLOW_WORK_DIR": str(work),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def migrate(home: Path) -> None:
    """A fresh Airflow metadata database (SQLite) in `home`."""
    env = base_environment(home, ROOT / "dags", home / "work")
    done = subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def new_home(template: Path, home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(template / "airflow.db", home / "airflow.db")
    return home


def dag_folder(path: Path, arguments: str = "") -> Path:
    """A DAG folder holding one DAG file that calls build(arguments)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "data_flow_test.py").write_text(DAG_FILE.format(arguments=arguments))
    return path


def airflow(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "airflow"), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def metadata(home: Path, sql: str, parameters: tuple = ()) -> list[tuple]:
    """Rows of Airflow's own metadata database (what its UI shows)."""
    connection = sqlite3.connect(home / "airflow.db", timeout=30)
    try:
        return connection.execute(sql, parameters).fetchall()
    finally:
        connection.close()


def task_states(home: Path, dag_id: str) -> dict[tuple[str, str], tuple[str, int]]:
    """(logical date, task id) -> (state, try number) of every task instance of a DAG."""
    rows = metadata(home, """
        select substr(r.logical_date, 1, 10), t.task_id, t.state, t.try_number
        from task_instance t join dag_run r on r.dag_id = t.dag_id and r.run_id = t.run_id
        where t.dag_id = ?""", (dag_id,))
    return {(ds, task): (state, tries) for ds, task, state, tries in rows}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    """Poll `condition` each second; after `timeout` seconds fail with the end of `log`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; Airflow's output ends:\n"
                                 + log.read_text()[-4000:])
        time.sleep(1)


@contextmanager
def started(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """A long-running Airflow component in its own process group; stopped (and its task
    processes with it) on the way out."""
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def make_airflow_environment(work: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment `python -m dataflow.airflow_local` (`make airflow`) runs with in a test:
    none of the caller's Airflow or data-flow settings, its API server on `port`, and a
    warehouse and Data Hub configured but never reached (no embedded PostgreSQL starts)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "DATA", "AUTHBROKER"))}
    env.update(DATAFLOW_WORK_DIR=str(work), AIRFLOW__API__PORT=str(port),
               DATABASE_URL="postgresql://nobody@localhost:1/none", DATAHUB_BASE_URL="http://localhost:1",
               HAWK_ID="id", HAWK_KEY="key", **extra)
    return env
