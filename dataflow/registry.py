"""What the project declares, for a scheduler: its datasets, views, their schedules and contracts.

The datasets are the dbt source's raw tables (what the extract reads); the views, the
datasets each reads and their schedules come from dbt's own parse of the models, as in
`orchestrate.py`. A scheduler parses its DAG files every few seconds and in every task
process, and a dbt parse takes seconds (and imports dbt and dlt): so the registry is
produced ahead, by `make registry` (`python -m dataflow.registry`; `make test` and
`make airflow` run it when the dbt project changed), into `dags/registry.json`, which is
part of the repository. The DAG file only reads that file: no dbt, no dlt, nothing
written, so it also parses from a read-only project and work dir. The file carries the
digest of what its parse read (`parse_cache.project_digest`: every file of the dbt
project, the code that reads a parse, dbt's version); one that no longer matches the dbt
project is refused, naming the command that rewrites it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataflow import parse_cache, schedule
from dataflow.dbt_project import DbtProject, built_from, derived_tables, joined_datasets, with_reads
from dataflow.errors import UsageError
from dataflow.settings import PROJECT_ROOT, Secret, from_environment
from dataflow.units import Unit, group
from dataflow.warehouse import Target

#: Any fixed ds: a parse's names, dependencies, schedules and contracts do not depend on it.
REGISTRY_DS = "2000-01-01"
#: A parse reads profiles.yml but never connects: these connection settings are never used.
PARSE_TARGET = Target("localhost", 5432, "postgres", Secret(""), "postgres", "the dbt parse of the registry")


@dataclass(frozen=True)
class View:
    name: str
    datasets: tuple[str, ...]  # the datasets it reads, with those they are joined from (what it loads)
    schedule: schedule.Schedule
    reads: tuple[str, ...] = ()  # the datasets it reads itself (what decides its publish unit)


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
                     {v.name: v.reads or v.datasets for v in self.views if set(v.datasets) <= built},
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


REGISTRY_PATH = PROJECT_ROOT / "dags" / "registry.json"
#: The shape of that file: a registry written in another shape is stale too.
FORMAT = 2
REWRITE = "run `make registry` (python -m dataflow.registry) and deploy dags/registry.json with the project"


class RegistryStale(UsageError):
    """dags/registry.json is missing, unreadable or from another version of the dbt project."""


def _project() -> DbtProject:
    return DbtProject(REGISTRY_DS, PARSE_TARGET, from_environment({
        name: value for name, value in os.environ.items() if name == "FINANCIAL_YEAR_FIRST_MONTH_DAY"}))


def parse() -> Registry:
    """The registry from a dbt parse of the project as it is now (in this process)."""
    from extract.sources.datahub import load_datasets

    parsed = _project().parse()
    datasets = tuple(load_datasets())
    views = tuple(
        View(model.name, tuple(with_reads(parsed, model.depends_on)), schedule.from_meta(model.name, model.meta),
             tuple(model.depends_on))
        for model in sorted(parsed.values(), key=lambda m: m.name) if model.kind == "views"
    )
    derived = derived_tables(parsed)
    contracts = {name: list(parsed[name].columns) for name in (*datasets, *derived) if name in parsed}
    return Registry(datasets, views, contracts, derived, joined_datasets(parsed))


def to_json(registry: Registry, key: str) -> dict[str, Any]:
    return {
        "key": key,
        "datasets": list(registry.datasets),
        "views": [{"name": v.name, "datasets": list(v.datasets), "reads": list(v.reads),
                   "schedule": v.schedule.expression, "start_date": v.schedule.start.isoformat(),
                   "end_date": v.schedule.end.isoformat() if v.schedule.end else None} for v in registry.views],
        "contracts": {name: [list(column) for column in columns] for name, columns in registry.contracts.items()},
        "derived": {name: list(reads) for name, reads in registry.derived.items()},
        "joined": {name: list(reads) for name, reads in registry.joined.items()},
    }


def from_json(data: dict[str, Any]) -> Registry:
    views = tuple(View(v["name"], tuple(v["datasets"]), schedule.Schedule(
        v["name"], v["schedule"], dt.date.fromisoformat(v["start_date"]),
        dt.date.fromisoformat(v["end_date"]) if v["end_date"] else None), tuple(v["reads"])) for v in data["views"])
    return Registry(
        tuple(data["datasets"]), views,
        {name: [tuple(column) for column in columns] for name, columns in data["contracts"].items()},
        {name: tuple(reads) for name, reads in data["derived"].items()},
        {name: tuple(reads) for name, reads in data["joined"].items()},
    )


def key() -> str:
    """What a registry must have been written from: the dbt project as it is now, and this shape."""
    return f"{FORMAT}-{parse_cache.project_digest()}"


def write(path: Path = REGISTRY_PATH) -> Registry:
    """Parse the project and write its registry to `path` (whole, then renamed into place)."""
    written_from = key()
    registry = parse()
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(to_json(registry, written_from), indent=1) + "\n")
    partial.replace(path)
    return registry


def load(path: Path = REGISTRY_PATH) -> Registry:
    """The registry written ahead for the dbt project as it is now; RegistryStale otherwise."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise RegistryStale(f"{path.name} cannot be read ({type(exc).__name__}): {REWRITE}") from None
    if data.get("key") != key():
        raise RegistryStale(f"{path.name} is not the registry of the dbt project as it is now (a model or "
                            f"dbt changed since it was written): {REWRITE}")
    return from_json(data)


if __name__ == "__main__":
    written = write(Path(sys.argv[1]) if len(sys.argv) > 1 else REGISTRY_PATH)
    print(f"{REGISTRY_PATH.relative_to(PROJECT_ROOT)}: {len(written.datasets)} datasets, {len(written.views)} views, "
          f"{len(written.schedules())} schedules")
