"""The stages as separate tasks, for a scheduler that runs each on any machine (Airflow).

`job.run` runs the stages in one process; here each stage stands alone: it opens its own
connections, takes plain arguments (names, dates, the audit id), returns plain data, and
hands everything on through the warehouse: the raw tables, the audit schema with its
certificate, the published tables and `dataflow.publish_log`. So any task may run on any
worker, in any process, and be retried:

- `extract_dataset` replaces one raw table (dlt's staging-then-replace; a retry signs
  and fetches afresh). Extracts take the run lock shared, so they run side by side.
- `audit_datasets` rebuilds the audit schema from raw and certifies it with the audit id
  only if dbt's contracts and tests and the quality gate pass.
- `publish_datasets` publishes the tables certified for the audit id, once
  (`publish.publish`); a retry after the commit reports the first publish's rows.
- `build_period_views` creates or replaces the views of one period over the published
  tables, and records the run in `dataflow.run_history`.

Audit and publish take the run lock exclusively: two runs (or a run on one machine and a
DAG run) never audit or publish at the same time.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from dataflow import history, lock, publish, redact, warehouse
from dataflow.audit import audit
from dataflow.dbt_project import AUDIT_SCHEMA, PUBLISHED_SCHEMA, DbtProject
from dataflow.plan import Period
from dataflow.report import Reporter
from dataflow.settings import Settings, work_dir
from dataflow.views import build_views

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection


@contextmanager
def locked(settings: Settings, shared: bool) -> Iterator[tuple[warehouse.Target, PgConnection]]:
    """The warehouse, with the run lock held (shared or exclusive) and a connection for the work."""
    target = warehouse.resolve(settings.database_url)
    lock_connection = target.connect()
    try:
        lock.acquire(lock_connection, shared=shared)
        connection = target.connect()
        try:
            yield target, connection
        finally:
            connection.close()
    finally:
        lock_connection.close()


def extract_dataset(
    settings: Settings, dataset: str, reporter: Reporter, full_refresh: bool = False
) -> dict[str, object]:
    """Fetch one dataset from Data Hub into its raw table (whole, or what changed since
    the last extract); its rows, pages and how it was fetched."""
    from dataflow.endpoint import datahub_endpoint
    from extract.pipeline import run_extract
    from extract.sources.datahub import select_datasets

    sources = select_datasets([dataset])
    with locked(settings, shared=True) as (target, _):
        # dlt's working files are this task's own: two extracts on one worker never share them.
        (work_dir() / "dlt").mkdir(parents=True, exist_ok=True)
        pipelines = tempfile.mkdtemp(prefix=f"{dataset}-", dir=work_dir() / "dlt")
        try:
            with datahub_endpoint(settings) as endpoint:
                redact.register(endpoint.hawk_key.reveal())
                source = "demo data from the local Data Hub stand-in" if endpoint.is_standin else endpoint.base_url
                reporter.event("start", f"data-flow extract {dataset}: {source} -> {target.description}",
                               dataset=dataset, source=source, target=target.description, demo=endpoint.is_standin)
                extracted = run_extract(settings, endpoint, target, sources, reporter,
                                        pipelines_dir=Path(pipelines), pipeline_name=f"datahub_{dataset}",
                                        full_refresh=full_refresh)
        finally:
            shutil.rmtree(pipelines, ignore_errors=True)
    rows, pages = extracted.rows.get(dataset, 0), extracted.pages.get(dataset, 0)
    how = extracted.fetched[dataset]
    reporter.event("extracted", f"  extract  {dataset} {rows:>9,} rows {pages:>6,} pages, {how.describe()}",
                   dataset=dataset, rows=rows, pages=pages, **how.as_json())
    for note in extracted.drift():
        reporter.warning(note)
    return {"rows": rows, "pages": pages, **how.as_json(), "notes": extracted.drift()}


def audit_datasets(
    settings: Settings,
    period: Period,
    datasets: list[str],
    audit_id: str,
    reporter: Reporter,
    allow_shrink: bool = False,
    null_columns: str = "warn",
) -> dict[str, object]:
    """Build, test and gate the datasets (and the period's views over them) in the audit schema."""
    from extract.sources.datahub import load_datasets
    from extract.sources.datahub.settings import RAW_SCHEMA

    sources = [d for name, d in load_datasets().items() if name in datasets]  # not the derived tables
    with locked(settings, shared=False) as (target, connection):
        project = DbtProject(period.ds.isoformat(), target, settings, period.next_ds.isoformat())
        project.parse()
        audited = audit(
            project, connection, datasets, list(period.views),
            raw_schema=RAW_SCHEMA, raw_fields={d.name: list(d.columns) for d in sources}, audit_id=audit_id,
            raw_text_fields={d.name: d.text_fields for d in sources},
            keys={d.name: d.key for d in sources},
            allow_shrink=allow_shrink, null_columns=null_columns,
        )
    for warning in audited.warnings:
        reporter.warning(warning)
    reporter.event("audited", f"  audit    {', '.join(datasets)}; {audited.tests_passed} tests passed",
                   datasets=datasets, tests_passed=audited.tests_passed)
    return {"tests_passed": audited.tests_passed, "rows": audited.rows, "warnings": audited.warnings}


def publish_datasets(
    settings: Settings, contracts: dict[str, list[tuple[str, str, bool]]], audit_id: str, reporter: Reporter
) -> dict[str, int]:
    """Publish the datasets certified for `audit_id` in one transaction; rows per dataset."""
    with locked(settings, shared=False) as (target, connection):
        published = publish.publish(connection, contracts, AUDIT_SCHEMA, PUBLISHED_SCHEMA, audit_id)
        rows = {item.dataset: item.rows for item in published}
        names = publish.summary(published)
        if any(item.repeated for item in published):
            reporter.event("published", f"  publish  already published by an earlier try: {names}",
                           datasets=rows, repeated=True)
            return rows
        merged = {item.dataset: item.changed for item in published if item.changed is not None}
        reporter.event("published", f"  publish  {names}", datasets=rows, merged=merged, repeated=False)
        analyze = [item.dataset for item in published if item.needs_statistics]
        for warning in publish.refresh_statistics(target, analyze, PUBLISHED_SCHEMA):
            reporter.warning(warning)
    return rows


def build_period_views(
    settings: Settings,
    period: Period,
    reporter: Reporter,
    run: tuple[str, dt.datetime] | None = None,
    rows: dict[str, int] | None = None,
    extracts: dict[str, dict[str, object]] | None = None,
    notes: list[str] | None = None,
) -> list[str]:
    """Create or replace the period's views over the published tables; the relations built.

    With `run` (a run id and its start), the period is recorded in the run history as a
    success with the published `rows`, how each dataset was extracted and the drift
    `notes`, as `orchestrate.py history` shows runs."""
    with locked(settings, shared=True) as (target, connection):
        project = DbtProject(period.ds.isoformat(), target, settings, period.next_ds.isoformat())
        views = build_views(project, list(period.views))
        if run is not None:
            history.ensure(connection)
            history.record(connection, run[0], period.ds, run[1], "success", rows or {}, views,
                           demo=settings.demo, notes=notes, extracts=extracts)
    for view in views:
        reporter.event("view", f"  view     {view}", ds=period.ds.isoformat(), view=view)
    return views
