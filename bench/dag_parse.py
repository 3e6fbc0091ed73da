"""How long Airflow takes to parse dags/: cold, in a fresh process, as every DAG processor
run and every task process does.

    python bench/dag_parse.py [--repeat 5]

Prints the median of `--repeat` fresh processes for:
  airflow    importing airflow.sdk alone (Airflow's own cost, paid by any DAG file)
  dags/      then running dags/data_flow.py: the DAGs built from dags/registry.json
  dbt parse  the baseline, measured in the same run: building the same registry from a
             fresh dbt parse (what a cold parse of dags/ cost before the registry was
             written ahead), in a scratch work dir
and the ratio of the baseline to dags/. The target: dags/ under 0.5 s on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 0.5

TIMED = """
import json, runpy, sys, time
started = time.perf_counter()
import airflow.sdk
imported = time.perf_counter()
if sys.argv[1] == "dags":
    runpy.run_path(sys.argv[2])
else:
    from dataflow import registry
    registry.parse()
done = time.perf_counter()
print(json.dumps({"airflow": imported - started, "work": done - imported}))
"""


def once(what: str, work: Path) -> dict[str, float]:
    env = {**os.environ, "DATAFLOW_WORK_DIR": str(work), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", TIMED, what, str(ROOT / "dags" / "data_flow.py")], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    dags, parses = [], []
    for index in range(args.repeat):  # alternated, so both see the same machine
        with tempfile.TemporaryDirectory(prefix="dag-parse-") as scratch:
            dags.append(once("dags", Path(scratch) / f"work{index}"))
            parses.append(once("parse", Path(scratch) / f"work{index}"))
    airflow = statistics.median(r["airflow"] for r in dags)
    parsed = statistics.median(r["work"] for r in dags)
    baseline = statistics.median(r["work"] for r in parses)
    print(f"airflow    {airflow:6.2f} s  (import airflow.sdk, median of {args.repeat})")
    print(f"dags/      {parsed:6.2f} s  target < {TARGET_SECONDS} s: {'met' if parsed < TARGET_SECONDS else 'NOT met'}")
    print(f"dbt parse  {baseline:6.2f} s  baseline: the registry from a fresh dbt parse, "
          f"{baseline / parsed:.0f}x dags/")


if __name__ == "__main__":
    main()
