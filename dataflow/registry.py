"""What the project declares, for a scheduler: its datasets, views, their schedules and contracts.

The datasets are the dbt source's raw tables (what the extract reads); the views, the
datasets each reads and their schedules come from dbt's own parse of the models, as in
`orchestrate.py`. A scheduler reads its DAG files every few seconds, and a dbt parse takes
seconds, so the parse is kept in the work dir under the parse cache's key (every file of
the dbt project, the variables it reads, dbt's version): it is redone only when one of
them changes. The parse runs in a child process, so dbt's global state and the
environment it sets stay out of the scheduler's process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from dataflow import parse_cache, schedule
from dataflow.dbt_project import DbtProject, Model, built_from, derived_tables, joined_datasets, with_reads
from dataflow.settings import PROJECT_ROOT, Secret, from_environment, work_dir
from dataflow.units import Unit, group
from dataflow.warehouse import Target

#: Any fixed ds: a parse's names, dependencies, schedules and contracts do not depend on it.
REGISTRY_DS = "2000-01-01"
#: A parse reads profiles.yml but never connects: these connection settings are never used.
PARSE_TARGET = Target("localhost", 5432, "postgres", Secret(""), "postgres", "the dbt parse of the registry")


@dataclass(frozen=True)
class View:
    name: str
    datasets: tuple[str, ...]  # the datasets it reads, with those they are joined from
    schedule: schedule.Schedule


@dataclass(frozen=True)
class Registry:
    datasets: tuple[str, ...]  # in the dbt source's order
    views: tuple[View, ...]
    contracts: dict[str, list[tuple[str, str, bool]]]  # dataset or derived table -> its contract columns
    derived: dict[str, tuple[str, ...]] = field(default_factory=dict)  # derived table -> the datasets it reads
    joined: dict[str, tuple[str, ...]] = field(default_factory=dict)  # dataset joined from others -> those

    def units(self, datasets: list[str]) -> list[Unit]:
        """The publish units of a run that loads `datasets` (with its views over them)."""
        built = set(datasets)
        return group(datasets, {t: r for t, r in self.derived.items() if set(r) <= built},
                     {v.name: v.datasets for v in self.views if set(v.datasets) <= built},
                     {d: r for d, r in self.joined.items() if d in built})

    def built_from(self, datasets: list[str]) -> list[str]:
        """The datasets and the derived tables built from them only: what is audited and published."""
        return built_from(self.derived, datasets)

    def schedules(self) -> dict[str, list[View]]:
        """The views by schedule expression, in order of each schedule's first view."""
        grouped: dict[str, list[View]] = {}
        for view in self.views:
            grouped.setdefault(view.schedule.expression, []).append(view)
        return grouped


def cache_path() -> Path:
    return work_dir() / "dbt" / "registry.pickle"


def _project() -> DbtProject:
    return DbtProject(REGISTRY_DS, PARSE_TARGET, from_environment({
        name: value for name, value in os.environ.items() if name == "FINANCIAL_YEAR_FIRST_MONTH_DAY"}))


def _key() -> str:
    project = _project()
    return parse_cache.key(project.dbt_vars(), project.parse_environment())


def _parse_into(path: Path) -> None:
    """Parse the project (in this process) and keep its models under the registry's key."""
    models = _project().parse()
    parse_cache.store(_key(), models, path)


def models() -> dict[str, Model]:
    """The parsed models: from the cache, or from a fresh parse in a child process."""
    key, path = _key(), cache_path()
    cached = parse_cache.load(key, path)
    if cached is not None:
        return cached
    # The child's dbt files (partial parse state, logs) go to their own work dir, so a
    # parse here never shares dbt's target directory with a task's dbt run.
    env = {**os.environ, "DATAFLOW_WORK_DIR": str(work_dir() / "dbt" / "registry-parse")}
    done = subprocess.run([sys.executable, "-m", "dataflow.registry", str(path)], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, check=False)
    cached = parse_cache.load(key, path)
    if done.returncode != 0 or cached is None:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise RuntimeError(f"the dbt project does not parse: {lines[-1] if lines else 'no output'}")
    return cached


def load() -> Registry:
    """The registry of the dbt project as it is now."""
    from extract.sources.datahub import load_datasets

    parsed = models()
    datasets = tuple(load_datasets())
    views = tuple(
        View(model.name, tuple(with_reads(parsed, model.depends_on)), schedule.from_meta(model.name, model.meta))
        for model in sorted(parsed.values(), key=lambda m: m.name) if model.kind == "views"
    )
    derived = derived_tables(parsed)
    contracts = {name: list(parsed[name].columns) for name in (*datasets, *derived) if name in parsed}
    return Registry(datasets, views, contracts, derived, joined_datasets(parsed))


if __name__ == "__main__":
    _parse_into(Path(sys.argv[1]))
