"""What a first deploy's catch-up of 12 months costs under Airflow, against full runs.

    python bench/catchup.py [--records 245000 --related-records 105000] [--months 12]

With catch-up on, a first deploy makes one DAG run per past period, one after the other.
Each runs through `airflow dags test` (every task of the project's DAG, in order) against
the benchmark's stand-in (`bench/run.py`) and a fresh database of its embedded PostgreSQL:

  full       the baseline, measured in the same run: one DAG run on an empty warehouse,
             which fetches every dataset whole
  catch-up   `--months` DAG runs, oldest period first, on another empty warehouse: the
             first fetches everything; the next ones, within
             DATAFLOW_AIRFLOW_EXTRACT_REUSE_MINUTES (default 120), reuse its raw tables,
             skip the audit and publish (nothing new since it was published) and build
             their period's views
  no reuse   `--no-reuse-runs` runs after a first one, on a third warehouse, with
             DATAFLOW_AIRFLOW_EXTRACT_REUSE_MINUTES=0: each fetches what changed since
             (incrementally, or whole where the endpoint has no updated_since), audits
             and publishes: what a catch-up run cost before extracts were reused

and prints each run's seconds and the ratio catch-up / full. The target: under 2 (a
catch-up of 12 months costs less than two full runs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import PYTHON, RECORDS, RELATED_RECORDS, ROOT, Bench  # noqa: E402 - the benchmark's stand-in and PostgreSQL

TARGET_RATIO = 2.0
AIRFLOW = str(Path(PYTHON).with_name("airflow"))


def month_starts(last: dt.date, months: int) -> list[dt.date]:
    """The first days of `months` months ending with `last`'s, oldest first."""
    starts, day = [], last.replace(day=1)
    for _ in range(months):
        starts.append(day)
        day = (day - dt.timedelta(days=1)).replace(day=1)
    return starts[::-1]


def dag_run(env: dict[str, str], ds: dt.date) -> float:
    """One DAG run of data_flow_monthly for `ds` (every task, in order); its wall seconds.
    Prints the tasks' seconds: the extracts summed, the others each."""
    started = time.perf_counter()
    done = subprocess.run([AIRFLOW, "dags", "test", "data_flow_monthly", ds.isoformat()], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    failed = [line for line in (done.stdout + done.stderr).splitlines() if "Marking task as FAILED" in line]
    if done.returncode != 0 or failed:
        raise SystemExit(f"the DAG run for {ds} failed: {(done.stdout + done.stderr)[-2000:]}")
    metadata = sqlite3.connect(Path(env["AIRFLOW_HOME"]) / "airflow.db")
    tasks = metadata.execute("""
        select t.task_id, (julianday(t.end_date) - julianday(t.start_date)) * 86400
        from task_instance t join dag_run r on r.run_id = t.run_id and r.dag_id = t.dag_id
        where substr(r.logical_date, 1, 10) = ?""", (ds.isoformat(),)).fetchall()
    metadata.close()
    extracts = sum(s for task, s in tasks if task.startswith("extract_"))
    others = "  ".join(f"{task} {s:.1f}" for task, s in tasks if not task.startswith("extract_"))
    print(f"          tasks: extracts {extracts:.1f} (summed)  {others}", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=RECORDS, help="over the seed's three datasets")
    parser.add_argument("--related-records", type=int, default=RELATED_RECORDS, help="over the other nine")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--no-reuse-runs", type=int, default=3, help="runs without reuse after the first (0: none)")
    args = parser.parse_args()
    bench = Bench(args.records, 100, args.related_records)
    months = month_starts(dt.date(2019, 8, 1), args.months)
    with tempfile.TemporaryDirectory(prefix="bench-catchup-") as scratch, \
            bench.standin(args.records) as base_url:
        home = Path(scratch) / "airflow"
        home.mkdir()

        def environment(database: str, work: str) -> dict[str, str]:
            return bench.env(
                AIRFLOW_HOME=str(home), AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
                AIRFLOW__CORE__LOAD_EXAMPLES="False", PROVIDERS__ENABLE_AIRFLOW_SECRETS="false",
                DATABASE_URL=bench.fresh_database(database), DATAHUB_BASE_URL=base_url,
                DATAFLOW_WORK_DIR=str(Path(scratch) / work), PATH=f"{Path(PYTHON).parent}:/usr/bin:/bin")

        migrated = subprocess.run([AIRFLOW, "db", "migrate"], env=environment("bench_catchup_full", "full"),
                                  capture_output=True, text=True, check=False)
        if migrated.returncode != 0:
            raise SystemExit(f"airflow db migrate failed: {migrated.stderr[-2000:]}")
        print(f"stand-in: {args.records:,} + {args.related_records:,} records; catch-up of {args.months} months "
              f"({months[0]} to {months[-1]})", flush=True)
        full = dag_run(environment("bench_catchup_full", "full"), months[-1])
        print(f"full      one DAG run, empty warehouse: {full:6.1f} s", flush=True)
        env = environment("bench_catchup", "catchup")
        runs = []
        for ds in months:
            runs.append(dag_run(env, ds))
            print(f"catch-up  {ds}: {runs[-1]:6.1f} s", flush=True)
        total = sum(runs)
        ratio = total / full
        print(f"catch-up  {args.months} runs: {total:.1f} s = {ratio:.2f}x one full run "
              f"(the first {runs[0]:.1f} s, the others {statistics_line(runs[1:])}); "
              f"target under {TARGET_RATIO:.0f}x: {'met' if ratio < TARGET_RATIO else 'NOT met'}")
        plain = []
        if args.no_reuse_runs:
            env = {**environment("bench_catchup_no_reuse", "no-reuse"), "DATAFLOW_AIRFLOW_EXTRACT_REUSE_MINUTES": "0"}
            first, *later = month_starts(months[-1], args.no_reuse_runs + 1)
            dag_run(env, first)
            for ds in later:
                plain.append(dag_run(env, ds))
                print(f"no reuse  {ds}: {plain[-1]:6.1f} s", flush=True)
            print(f"no reuse  a run after the first: {statistics_line(plain)} (with reuse: "
                  f"{statistics_line(runs[1:])})", flush=True)
        results = ROOT / "bench" / "results"
        results.mkdir(exist_ok=True)
        (results / "catchup.json").write_text(json.dumps(
            {"records": args.records + args.related_records, "months": args.months, "full_seconds": full,
             "catchup_seconds": runs, "ratio": ratio, "no_reuse_seconds": plain}, indent=2) + "\n")


def statistics_line(seconds: list[float]) -> str:
    if not seconds:
        return "none"
    ordered = sorted(seconds)
    return f"median {ordered[len(ordered) // 2]:.1f} s, {min(ordered):.1f}-{max(ordered):.1f} s"


if __name__ == "__main__":
    main()
