"""Run dbt in-process for one ds: dataset models, their contracts and tests, the views.

dbt runs through `dbtRunner` in this process (dlt's dbt helper spawns a subprocess per
command, measured 5x slower). Each call parses afresh with the run's `ds` in its vars,
so a view's alias, computed from ds, can never come from a stale manifest.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from extract.config import PROJECT_ROOT, Settings, work_dir
from extract.database import Target
from extract.errors import RunError


@dataclass
class TransformResult:
    views: list[str]
    models: list[str]
    tests_passed: int


def dbt_environment(target: Target, settings: Settings) -> dict[str, str]:
    """Everything profiles.yml and the macros read from the environment."""
    return {
        **target.dbt_env(),
        "FINANCIAL_YEAR_FIRST_MONTH_DAY": settings.financial_year_first_month_day,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        # Sessions dbt opens compute nothing time-zone dependent, but make sure of it.
        "PGTZ": "UTC",
    }


def invoke(args: list[str], ds: str, target: Target, settings: Settings) -> object:
    """Invoke one dbt command on this project with var ds; raise RunError on failure."""
    from dbt.cli.main import dbtRunner  # slow import: only when dbt actually runs

    os.environ.update(dbt_environment(target, settings))
    full_args = [
        *args,
        "--project-dir", str(PROJECT_ROOT),
        "--profiles-dir", str(PROJECT_ROOT),
        "--log-path", str(work_dir() / "dbt" / "logs"),
        "--target-path", str(work_dir() / "dbt" / "target"),
        "--vars", json.dumps({"ds": ds}),
        "--quiet",
        "--no-use-colors",
    ]
    result = dbtRunner().invoke(full_args)
    if not result.success:
        raise RunError(f"dbt {args[0]} failed: {failure_reason(result)}")
    return result.result


def failure_reason(result: object) -> str:
    """The first failing node and its message, on one line."""
    exception = getattr(result, "exception", None)
    if exception is not None:
        return one_line(str(exception))
    for node_result in getattr(getattr(result, "result", None), "results", []) or []:
        if str(node_result.status) in ("error", "fail", "runtime error"):
            name = getattr(node_result.node, "name", "?")
            return f"{name}: {one_line(node_result.message or str(node_result.status))}"
    return "see .data/dbt/logs/dbt.log"


def one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines)[:400] if lines else "unknown error"


def build(ds: str, target: Target, settings: Settings, select: list[str] | None = None) -> TransformResult:
    """`dbt build`: datasets (contract, tests), then the period views for ds."""
    args = ["build"]
    if select:
        args += ["--select", *select]
    results = invoke(args, ds, target, settings)
    views, models, tests = [], [], 0
    for node_result in results.results:
        node = node_result.node
        if node.resource_type == "model":
            if "views" in node.fqn:
                views.append(node.alias)
            else:
                models.append(node.alias)
        elif node.resource_type == "test" and str(node_result.status) == "pass":
            tests += 1
    return TransformResult(views=sorted(views), models=sorted(models), tests_passed=tests)
