"""The CLI's footprint where the `airflow` extra is installed: dlt would import Airflow (to
read its settings from Airflow Variables) in every extract, measured +110 MiB and +1.5 s
a run, unless told not to."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

from conftest import ROOT

SCRIPT = """
import sys
from extract.pipeline import configure_dlt
configure_dlt(2)
import dlt
dlt.pipeline(pipeline_name="footprint", pipelines_dir=sys.argv[1], destination="postgres", dataset_name="raw")
print("airflow" in sys.modules)
"""


def test_the_extract_does_not_import_airflow_where_it_is_installed(tmp_path):
    assert importlib.util.find_spec("airflow") is not None, "make test installs the airflow extra"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    assert done.stdout.strip() == "False"
