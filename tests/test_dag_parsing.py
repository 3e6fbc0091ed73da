"""Parsing the DAG folder is cheap and pure: Airflow parses it every few seconds and in
every task process, on machines whose project and work dir may be read-only.

The DAGs come from dags/registry.json, written ahead by `make registry`: parsing imports
neither dbt nor dlt nor pyarrow, runs no dbt parse and writes no file. How long it takes
is measured by the benchmark (`bench/run.py`), not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

from dataflow import parse_cache, registry

PARSE = """
import json, runpy, sys
import airflow.sdk  # Airflow's own import, which every DAG file pays
dags = runpy.run_path(sys.argv[1])
heavy = sorted(m for m in ("dbt", "dlt", "pyarrow", "extract.sources.datahub") if m in sys.modules)
print(json.dumps({"dags": sorted(k for k in dags if k.startswith("data_flow")), "heavy": heavy}))
"""


def files(root: Path) -> dict[str, float]:
    skip = {".venv", ".git", ".data", "__pycache__", ".pytest_cache", ".ruff_cache"}
    return {str(p.relative_to(root)): p.stat().st_mtime for p in root.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(root).parts)}


def test_the_committed_registry_is_that_of_the_dbt_project():
    """A model changed without `make registry` would leave the DAGs refusing to load."""
    data = json.loads(registry.REGISTRY_PATH.read_text())
    assert data["key"].endswith(parse_cache.project_digest()), "dags/registry.json is stale: run `make registry`"
    loaded = registry.load()  # and it reads back, with the units the run makes (a view's own reads)
    assert "omis_dataset" in [unit.name for unit in loaded.units(list(loaded.datasets))]


def test_parsing_the_dag_folder_imports_no_dbt_or_dlt_and_writes_nothing(tmp_path: Path):
    work = tmp_path / "never-created"
    before = files(ROOT)
    env = {**os.environ, "DATAFLOW_WORK_DIR": str(work), "PYTHONDONTWRITEBYTECODE": "1",
           "AIRFLOW_HOME": str(tmp_path / "airflow")}
    done = subprocess.run([sys.executable, "-c", PARSE, str(ROOT / "dags" / "data_flow.py")], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    assert parsed == {"dags": ["data_flow_monthly"], "heavy": []}
    assert not work.exists()
    assert files(ROOT) == before
