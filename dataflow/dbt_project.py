"""Run dbt in-process for one ds: audit the datasets, then publish the period views.

dbt runs through `dbtRunner` in one long-lived process (dlt's dbt helper spawns a
subprocess per command, measured 5x slower); the main job runs it in its own worker
process (`dbt_worker.py`). The audit schema is parsed once and the manifest reused for
its build; the view publishing step parses again (ahead of time, with `prepare_views`),
because a node's schema is fixed at parse time. Each DbtProject is for one ds: a view's
alias is computed from ds, so a manifest is never reused for another ds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataflow.errors import RunError, UsageError
from dataflow.settings import PROJECT_ROOT, Settings, work_dir
from dataflow.warehouse import Target

PUBLISHED_SCHEMA = "public"
AUDIT_SCHEMA = PUBLISHED_SCHEMA + "_audit"


@dataclass(frozen=True)
class Model:
    """A dataset or view model as dbt parsed it."""

    name: str
    alias: str
    kind: str  # "datasets", "derived" or "views" (its folder)
    # The datasets it reads: the dataset models it refers to and, for a dataset or derived
    # table, the raw tables it reads besides its own (a joined dataset: `contacts` by id).
    depends_on: tuple[str, ...]
    meta: dict[str, Any]
    columns: tuple[tuple[str, str, bool], ...]  # (name, data_type, not null) from the contract


def derived_tables(models: dict[str, Model]) -> dict[str, tuple[str, ...]]:
    """Each derived table (models/derived) and the datasets it reads."""
    return {m.name: m.depends_on for m in models.values() if m.kind == "derived"}


def joined_datasets(models: dict[str, Model]) -> dict[str, tuple[str, ...]]:
    """Each dataset model that reads other datasets (a 2019 table joined by ids) and those datasets."""
    return {m.name: m.depends_on for m in models.values() if m.kind == "datasets" and m.depends_on}


def with_reads(models: dict[str, Model], datasets: Iterable[str]) -> list[str]:
    """`datasets` and every dataset they read (transitively), sorted: what loading them needs."""
    wanted, todo = set(), list(datasets)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo += models[name].depends_on if name in models else ()
    return sorted(wanted)


def built_from(derived: dict[str, tuple[str, ...]], datasets: list[str]) -> list[str]:
    """The datasets and the derived tables built from them only: what a run audits and publishes."""
    return datasets + sorted(name for name, reads in derived.items() if set(reads) <= set(datasets))


@dataclass
class BuildResult:
    models: list[str]  # built
    tests_passed: int
    # Each failing node: the models it concerns (a test: the models it tests) and why, on one line.
    failures: list[tuple[tuple[str, ...], str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # tests of severity warn that found rows


def target_path(schema: str) -> Path:
    """dbt's target directory (manifest, partial-parse state, docs) for one schema."""
    return work_dir() / "dbt" / ("target" if schema == PUBLISHED_SCHEMA else f"target-{schema}")


def one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines)[:400] if lines else "unknown error"


#: dbt's statuses of a node that failed (a skipped node failed only because one before it did).
FAILED = ("error", "fail", "runtime error")


def node_failure(node_result: Any) -> str:
    """'<node>: <dbt's message>' on one line."""
    name = getattr(node_result.node, "name", "?")
    return f"{name}: {one_line(node_result.message or str(node_result.status))}"


def dangling_warnings(found: list[tuple[str, str, int]]) -> list[str]:
    """One line per model from its `names_records` tests that found ids naming no record:
    `(model, field, count)` each."""
    by_model: dict[str, list[str]] = {}
    for model, field_name, count in found:
        by_model.setdefault(model, []).append(f"{count:,} {field_name}")
    return [f"{model}: ids that name no record (joined columns NULL): {', '.join(parts)}"
            for model, parts in by_model.items()]


def failure_reason(result: Any) -> str:
    """The first failing node and its message, on one line."""
    if getattr(result, "exception", None) is not None:
        return one_line(str(result.exception))
    for node_result in getattr(getattr(result, "result", None), "results", []) or []:
        if str(node_result.status) in FAILED:
            return node_failure(node_result)
    return "see the dbt log in " + str(work_dir() / "dbt" / "logs")


def dbt_environment(target: Target, settings: Settings, schema: str) -> dict[str, str]:
    """The environment dbt runs with: profiles.yml's connection for `schema`, and what the
    project reads (the job's dbt steps and `orchestrate.py dbt` alike)."""
    return {
        **target.dbt_env(),
        "DATAFLOW_DB_SCHEMA": schema,
        "FINANCIAL_YEAR_FIRST_MONTH_DAY": settings.financial_year_first_month_day,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "PGTZ": "UTC",
    }


class DbtProject:
    """The dbt project for one run's ds against one target database."""

    def __init__(self, ds: str, target: Target, settings: Settings, next_ds: str | None = None) -> None:
        self.ds = ds
        self.next_ds = next_ds
        self.target = target
        self.settings = settings
        self._manifest: Any = None
        self._views_manifest: Any = None
        self.models: dict[str, Model] = {}

    def _environment(self, schema: str) -> dict[str, str]:
        return dbt_environment(self.target, self.settings, schema)

    def dbt_vars(self) -> dict[str, str]:
        return {"ds": self.ds, **({"next_ds": self.next_ds} if self.next_ds else {})}

    def parse_environment(self) -> dict[str, str]:
        """The environment `parse` runs dbt with."""
        return self._environment(AUDIT_SCHEMA)

    def invoke(self, args: list[str], schema: str, manifest: Any = None, artifacts: bool = False,
               node_failures: bool = False) -> Any:
        """Invoke one dbt command with var ds; raise RunError on failure.

        With `node_failures`, a command that ran but whose nodes failed returns its results
        (the caller judges them node by node); only a failure of dbt itself raises.

        Without `artifacts`, dbt writes no manifest.json or run_results.json: the run reads
        dbt's results from the objects it returns, and writing them cost about 0.5 s of CPU
        per command (the audit build's and the views' at the end of their step).
        dbt's partial-parse state is written either way. `orchestrate.py docs` writes them.
        """
        from dbt.cli.main import dbtRunner  # slow import: only when dbt actually runs

        os.environ.update(self._environment(schema))
        full_args = [
            *args,
            "--project-dir", str(PROJECT_ROOT),
            "--profiles-dir", str(PROJECT_ROOT),
            "--log-path", str(work_dir() / "dbt" / "logs"),
            # One target (and so one partial-parse state) per schema: a node's schema is fixed
            # at parse time, and sharing one state would force a full parse at every switch.
            "--target-path", str(target_path(schema)),
            "--vars", json.dumps(self.dbt_vars()),
            "--quiet",
            "--no-use-colors",
            "--write-json" if artifacts else "--no-write-json",
        ]
        result = dbtRunner(manifest=manifest).invoke(full_args)
        if not result.success and not (node_failures and result.exception is None and any(
                str(node.status) in FAILED for node in getattr(result.result, "results", None) or [])):
            raise RunError(f"dbt {args[0]} failed: {failure_reason(result)}")
        return result.result

    def parse(self) -> dict[str, Model]:
        """Parse the project for the audit schema; learn its dataset and view models."""
        self._manifest = self.invoke(["parse"], AUDIT_SCHEMA)
        by_id = {uid: node for uid, node in self._manifest.nodes.items() if node.resource_type == "model"}
        self.models = {}
        for node in by_id.values():
            kind = node.fqn[1] if len(node.fqn) > 2 else "other"
            deps = tuple(by_id[d].name for d in node.depends_on.nodes if d in by_id)
            if kind in ("datasets", "derived"):  # a raw table it reads is a dataset it needs loaded too
                deps += tuple(d.rsplit(".", 1)[-1] for d in node.depends_on.nodes if d.startswith("source."))
                deps = tuple(d for d in dict.fromkeys(deps) if d != node.name)
            columns = tuple(
                (name, column.data_type or "", any(c.type == "not_null" for c in column.constraints))
                for name, column in node.columns.items()
            )
            self.models[node.name] = Model(node.name, node.alias, kind, deps, dict(node.config.meta), columns)
        return self.models

    def names(self, kind: str) -> list[str]:
        return sorted(m.name for m in self.models.values() if m.kind == kind)

    def select(self, datasets: list[str] | None, views: list[str] | None) -> tuple[list[str], list[str]]:
        """Resolve --datasets/--views into the datasets to load and the views to build.

        Views alone load the datasets they read; datasets alone build the views that
        read only those datasets. A dataset built by joining others (`omis_dataset` reads
        `data_hub__companies`, `contacts` and `data_hub__teams`) loads them too.
        """
        for names, kind in ((datasets, "datasets"), (views, "views")):
            known = self.names(kind)
            for name in names or []:
                if name not in known:
                    label = kind[:-1]
                    raise UsageError(f"unknown {label} {name!r}; known: {', '.join(known)}")
        if views is not None and datasets is None:
            datasets = sorted({d for v in views for d in self.models[v].depends_on})
        if datasets is None:
            datasets = self.names("datasets")
        datasets = with_reads(self.models, datasets)
        if views is None:
            views = [v for v in self.names("views") if set(self.models[v].depends_on) <= set(datasets)]
        return datasets, views

    def build_audit(self, datasets: list[str], views: list[str]) -> BuildResult:
        """Build and test the datasets (and the views over them) in the audit schema.

        dbt goes on past a failing node (skipping only what depends on it), so one build
        tells every failure: the result names each, with the models it concerns."""
        audited_views = [v for v in views if set(self.models[v].depends_on) <= set(datasets)]
        # A test runs only when every model it reads is built here (`buildable`): a check of a
        # joined table's ids also reads the datasets it joins, and dbt's default would run it
        # whenever one of those is selected, without the table.
        results = self.invoke(["build", "--select", *datasets, *audited_views, "--indirect-selection", "buildable"],
                              AUDIT_SCHEMA, self._manifest, node_failures=True)
        models, tests, failures, warnings = [], 0, [], []
        dangling: list[tuple[str, str, int]] = []
        for node_result in results.results:
            node, status = node_result.node, str(node_result.status)
            if status in FAILED:
                concerns = (node.name,) if node.resource_type == "model" else tuple(
                    uid.rsplit(".", 1)[-1] for uid in node.depends_on.nodes if uid.startswith("model."))
                failures.append((concerns, node_failure(node_result)))
            elif node.resource_type == "model" and status == "success":
                models.append(node.name)
            elif node.resource_type == "test" and status == "pass":
                tests += 1
            elif node.resource_type == "test" and status == "warn":
                metadata = getattr(node, "test_metadata", None)
                if metadata is not None and metadata.name == "names_records":
                    model = (getattr(node, "attached_node", None) or "?").rsplit(".", 1)[-1]
                    dangling.append((model, metadata.kwargs.get("field", "?"), int(node_result.failures or 0)))
                else:
                    warnings.append(node_failure(node_result))
        warnings += dangling_warnings(dangling)
        return BuildResult(models=sorted(models), tests_passed=tests, failures=failures, warnings=warnings)

    def prepare_views(self) -> None:
        """Parse for the published schema ahead of `publish_views` (which parses itself if this
        was not done or failed)."""
        self._views_manifest = None
        self._views_manifest = self.invoke(["parse"], PUBLISHED_SCHEMA)

    def publish_views(self, views: list[str]) -> list[str]:
        """CREATE OR REPLACE the period views in the published schema; their relation names."""
        if not views:
            return []
        results = self.invoke(["run", "--select", *views], PUBLISHED_SCHEMA, self._views_manifest)
        return sorted(r.node.alias for r in results.results)

    def docs(self) -> None:
        """The dbt docs site as one static HTML file, for the published schema."""
        self.invoke(["docs", "generate", "--static"], PUBLISHED_SCHEMA, artifacts=True)
