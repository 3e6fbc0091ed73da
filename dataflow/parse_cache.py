"""The models a dbt parse learnt, kept from the last run so the next can start fetching at once.

Importing dbt and parsing take about 4 s, and the run needs the models (names, view
schedules, contracts) before it may fetch: every usage error is refused before the first
request. When nothing the parse reads has changed, the models are the same as last
time, so the run plans from this cache and starts fetching while dbt's worker parses
for real; the fresh parse is compared before anything is loaded
(`dbt_worker.RemoteProject.confirm_models`, called from `job.run`).

The key covers what a parse reads: every file of the dbt project, the run's vars, the
dbt version and the environment variables the project reads with `env_var()`; and the
code that turns a parse into models (`dbt_project.py`). Secret
values (`DBT_ENV_SECRET_*`) are left out of the key; they cannot change a model's name,
schedule or columns. A missing, unreadable or stale entry only means a slower start.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

from dataflow.settings import PROJECT_ROOT, work_dir

# The dbt project's files, and the module that defines what a parse returns (`Model`).
PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "dataflow/dbt_project.py")
PROJECT_DIRS = ("dbt_project",)
_ENV_VAR = re.compile(r"""env_var\(\s*['"]([^'"]+)['"]""")


def cache_path() -> Path:
    return work_dir() / "dbt" / "models.pickle"


def _project_files() -> list[Path]:
    files = [PROJECT_ROOT / name for name in PROJECT_FILES]
    for directory in PROJECT_DIRS:
        files += sorted(path for path in (PROJECT_ROOT / directory).rglob("*") if path.is_file())
    return files


def project_digest() -> str:
    """A digest of the dbt project's files, the code that reads a parse, and dbt's version:
    what a parse's model names, dependencies, schedules and contracts come from."""
    digest = hashlib.sha256()
    for path in _project_files():
        content = path.read_bytes()
        digest.update(f"{path.relative_to(PROJECT_ROOT)}\0{len(content)}\0".encode())
        digest.update(content)
    digest.update(version("dbt-core").encode())
    return digest.hexdigest()


def key(dbt_vars: dict[str, str], environment: dict[str, str]) -> str:
    """A digest of everything a parse of the project reads."""
    digest = hashlib.sha256()
    names: set[str] = set()
    for path in _project_files():
        content = path.read_bytes()
        names.update(_ENV_VAR.findall(content.decode("utf-8", "replace")))
        digest.update(f"{path.relative_to(PROJECT_ROOT)}\0{len(content)}\0".encode())
        digest.update(content)
    env = {**os.environ, **environment}
    read = {name: env.get(name) for name in sorted(names) if not name.startswith("DBT_ENV_SECRET_")}
    digest.update(json.dumps([version("dbt-core"), dbt_vars, read], sort_keys=True).encode())
    return digest.hexdigest()


def load(wanted: str, path: Path | None = None) -> Any | None:
    """The cached models for this key, or None."""
    with contextlib.suppress(Exception):  # a cache that cannot be read is a cache miss
        stored_key, models = pickle.loads((path or cache_path()).read_bytes())  # noqa: S301 - our own work dir
        if stored_key == wanted:
            return models
    return None


def store(stored_key: str, models: Any, path: Path | None = None) -> None:
    """Keep the models of a successful parse (written whole, then renamed into place)."""
    path = path or cache_path()
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_bytes(pickle.dumps((stored_key, models)))
        partial.replace(path)
