"""`make airflow`: Apache Airflow 3 on this machine, with data-flow's DAGs, in one command.

Runs `airflow standalone` (scheduler, DAG processor, triggerer and the UI on
http://localhost:8080, LocalExecutor, SQLite) with its home in the work dir, the DAGs of
`dags/`, no example DAGs, and the `datahub_api` pool sized by INGEST_TASK_CONCURRENCY.
The warehouse and Data Hub are what `orchestrate.py` uses: DATABASE_URL and
DATAHUB_BASE_URL (or the Airflow connections `datasets_db` and `datahub_api`), else the
embedded PostgreSQL (started here, so every task finds it running) and the stand-in: the
demo, which a task runs only with DATAFLOW_AIRFLOW_DEMO=true (set here).
Airflow's own settings (AIRFLOW__*) set in the environment win over these defaults.
With AUTHBROKER_URL set, people sign in through the provider (dataflow/sso.py): since
`airflow standalone` forces its own sign-in, the same parts are started one by one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from dataflow import sso, warehouse
from dataflow.errors import DataFlowError
from dataflow.settings import AIRFLOW_POOL, PROJECT_ROOT, from_environment, work_dir

#: Airflow's settings for single sign-on (dataflow/sso.py), with the AUTHBROKER_* variables.
SSO_SETTINGS = {
    "AIRFLOW__CORE__AUTH_MANAGER": "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
    "AIRFLOW__FAB__CONFIG_FILE": str(PROJECT_ROOT / "dataflow" / "webserver_config.py"),
}


#: What `airflow standalone` runs, started one by one under single sign-on.
PARTS = ("scheduler", "dag-processor", "triggerer", "api-server")


def airflow_environment() -> dict[str, str]:
    """The environment Airflow runs with: its home in the work dir and the project's DAGs."""
    bin_dir = str(Path(sys.executable).parent)
    defaults = {
        "AIRFLOW_HOME": str(work_dir() / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # Ready to trigger; and no catch-up here, which would build every month since the
        # views' start (2017) one run after another.
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "DATAFLOW_AIRFLOW_CATCHUP": "false",
        # With no warehouse and Data Hub configured, the tasks run the demo (elsewhere they refuse).
        "DATAFLOW_AIRFLOW_DEMO": "true",
        # dlt would otherwise look its settings up among Airflow Variables, hundreds of times.
        "PROVIDERS__ENABLE_AIRFLOW_SECRETS": "false",
    }
    if sso.enabled():  # AUTHBROKER_URL set: sign in through the provider, not with a generated password
        defaults.update(SSO_SETTINGS)
    env = {**defaults, **os.environ}
    # Tasks talk to the API server (Airflow's execution API), wherever its port was moved.
    port = env.get("AIRFLOW__API__PORT", "8080")
    env.setdefault("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", f"http://localhost:{port}/execution/")
    # `airflow standalone` starts its parts as `airflow ...` found on PATH.
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return env


def airflow(env: dict[str, str], *args: str) -> None:
    """Run one airflow CLI command; its output only if it fails."""
    done = subprocess.run([str(Path(sys.executable).with_name("airflow")), *args], env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"error: airflow {args[0]} {args[1] if len(args) > 1 else ''} failed")


def main() -> int:
    try:
        settings = from_environment()
        settings.require_configured()
        if sso.enabled():
            sso.require()
        if not settings.database_url:
            target = warehouse.embedded()  # running before any task needs it
            print(f"warehouse: {target.description} (query it: psql '{target.dsn(with_password=False)}')")
    except DataFlowError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    env = airflow_environment()
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    airflow(env, "db", "migrate")
    airflow(env, "pools", "set", AIRFLOW_POOL, str(settings.concurrency), "concurrent requests to Data Hub")
    home = Path(env["AIRFLOW_HOME"])
    print(f"Airflow home {home}; DAGs from {env['AIRFLOW__CORE__DAGS_FOLDER']}")
    ui = f"http://localhost:{env.get('AIRFLOW__API__PORT', '8080')}"
    if sso.enabled():  # `airflow standalone` would force its own sign-in: the parts one by one
        print(f"UI: {ui} - sign in through {env['AUTHBROKER_URL']}", flush=True)
        return run_parts(env)
    print(f"UI: {ui} - user admin, password in {home / 'simple_auth_manager_passwords.json.generated'} "
          "(also printed below)", flush=True)
    os.execve(env["PATH"].split(os.pathsep)[0] + "/airflow", ["airflow", "standalone"], env)
    return 0  # not reached


def run_parts(env: dict[str, str]) -> int:
    """Airflow's parts as `airflow standalone` runs them, without its forced SimpleAuthManager:
    until one of them ends (an error) or Ctrl-C; then the others are stopped."""
    airflow_bin = env["PATH"].split(os.pathsep)[0] + "/airflow"
    parts = {part: subprocess.Popen([airflow_bin, part], env=env) for part in PARTS}
    try:
        while True:
            ended = [(part, process.returncode) for part, process in parts.items() if process.poll() is not None]
            if ended:
                print(f"error: airflow {ended[0][0]} exited with {ended[0][1]}", file=sys.stderr)
                return 1
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    finally:
        for process in parts.values():
            if process.poll() is None:
                process.terminate()
        for process in parts.values():
            process.wait()


if __name__ == "__main__":
    sys.exit(main())
