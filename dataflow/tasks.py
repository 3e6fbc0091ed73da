"""The stages, one function each, run by both the DAG (each stage as its own task) and
`job.run` (all of them in one process): no stage's glue is written twice.

Each stage comes in two layers. The core (`report_extract`, `audit_units`,
`publish_units`, `record_period`) works on what its caller opened: a dbt project, a
connection, the warehouse with the run lock held; it does the stage and says what it
did, in the same lines for both callers. `job.run` calls the cores in one process with
its speed-ups (one dlt pipeline for every dataset, dbt in a worker process started
first, statistics refreshed beside the views). The task functions below wrap a core for
a scheduler that runs each stage on any machine (Airflow): each opens its own
connections, takes plain arguments (names, dates, the audit id), returns plain data, and
hands everything on through the warehouse: the raw tables, the audit schema with its
certificate, the published tables and `dataflow.publish_log`. So any task may run on any
worker, in any process, and be retried:

- `extract_dataset` replaces one raw table (dlt's staging-then-replace; a retry signs
  and fetches afresh). Extracts take the run lock shared, so they run side by side, and
  the lock of their dataset: two DAGs' extracts of one dataset run one after the other.
- `audit_datasets` rebuilds the audit schema from raw and certifies, under the audit id,
  each publish unit whose extract, dbt contracts and tests and quality gate passed; it
  fails only when no unit passed.
- `publish_datasets` publishes the units certified for the audit id, each once and in its
  own transaction (`publish.publish`); a retry after a commit reports the first
  publish's rows. It names the units not published.
- `build_period_views` creates or replaces the views of one period over the published
  tables (not over the units held back), and records the run in `dataflow.run_history`.

Audit and publish take the run lock exclusively: two runs (or a run on one machine and a
DAG run) never audit or publish at the same time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from psycopg2 import sql

from dataflow import history, lock, parse_cache, publish, redact, warehouse
from dataflow.audit import AuditResult, audit
from dataflow.dbt_project import AUDIT_SCHEMA, PUBLISHED_SCHEMA, DbtProject
from dataflow.plan import Period
from dataflow.report import Reporter
from dataflow.settings import Settings
from dataflow.units import not_published
from dataflow.views import build_views

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection

    from extract.pipeline import Extracted


@contextmanager
def locked(
    settings: Settings, shared: bool, dataset: tuple[str, Reporter] | None = None, dlt_tables: tuple[str, ...] = ()
) -> Iterator[tuple[warehouse.Target, PgConnection]]:
    """The warehouse, with the run lock held (shared or exclusive) and a connection for the
    work; with `dataset` (a name and the reporter to say it waits), that dataset's lock too,
    and while dlt's own `dlt_tables` do not exist yet, the lock of the first load."""
    target = warehouse.resolve(settings.database_url)
    lock_connection = target.connect()
    try:
        lock.acquire(lock_connection, shared=shared)
        if dataset is not None:
            name, reporter = dataset
            lock.hold_dataset(lock_connection, name, lambda: reporter.event(
                "waiting", f"  extract  {name}: waiting for another run's extract of it to end", dataset=name))
        lock.hold_first_load(lock_connection, dlt_tables)
        connection = target.connect()
        try:
            yield target, connection
        finally:
            connection.close()
    finally:
        lock_connection.close()


def report_extract(extracted: Extracted, reporter: Reporter) -> dict[str, dict[str, object]]:
    """A line per dataset extracted (or failed, and why), a warning per field Data Hub sent
    that no model declares; per dataset extracted, how it was fetched (for the run history)."""
    width = max(map(len, extracted.rows), default=0)
    for name, rows in extracted.rows.items():
        pages = extracted.pages.get(name, 0)
        how = extracted.fetched[name]
        reporter.event("extracted", f"  extract  {name:<{width}} {rows:>9,} rows {pages:>6,} pages, {how.describe()}",
                       dataset=name, rows=rows, pages=pages, **how.as_json())
    for dataset, reason in extracted.failed.items():
        reporter.event("extracted", f"  extract  {dataset:<{width}} failed: {reason}", dataset=dataset,
                       failed=reason)
    for note in extracted.drift():
        reporter.warning(note)
    return {name: fetched.as_json() for name, fetched in extracted.fetched.items()}


def audit_units(
    project: DbtProject,
    connection: PgConnection,
    period: Period,
    datasets: list[str],
    audit_id: str,
    reporter: Reporter,
    *,
    hold_minutes: float,
    allow_shrink: bool = False,
    null_columns: str = "warn",
    not_loaded: dict[str, str] | None = None,
    owner: str | None = None,
) -> AuditResult:
    """Build, test and gate `datasets` (with the derived tables among them, and the period's
    views over them) in the audit schema, and certify the units that pass; say which."""
    from extract.sources.datahub import load_datasets
    from extract.sources.datahub.settings import RAW_SCHEMA

    sources = [d for name, d in load_datasets().items() if name in datasets]  # not the derived tables
    audited = audit(
        project, connection, datasets, list(period.views),
        raw_schema=RAW_SCHEMA, raw_fields={d.name: list(d.columns) for d in sources}, audit_id=audit_id,
        raw_text_fields={d.name: d.text_fields for d in sources},
        keys={d.name: d.key for d in sources},
        allow_shrink=allow_shrink, null_columns=null_columns, not_loaded=not_loaded,
        owner=owner, hold_minutes=hold_minutes,
    )
    for warning in audited.warnings:
        reporter.warning(warning)
    passed = [unit.name for unit in audited.passed]
    reporter.event("audited", f"  audit    {', '.join(passed) or 'no unit passed'}; "
                   f"{audited.tests_passed} tests passed", units=passed, tests_passed=audited.tests_passed)
    reporter.held(audited.failed)
    return audited


def publish_units(
    target: warehouse.Target,
    connection: PgConnection,
    contracts: dict[str, list[tuple[str, str, bool]]],
    audit_id: str,
    reporter: Reporter,
    *,
    reported: Collection[str] = (),
    refresh_statistics: bool = True,
) -> publish.Publication:
    """Publish the units certified for `audit_id`, each in its own transaction, and say
    what was published (or already was, by an earlier try) and what was held (but not the
    units in `reported`, already said). Without `refresh_statistics`, the caller refreshes
    the statistics of the items that need it (`job.run` does it beside the views)."""
    publication = publish.publish(connection, contracts, AUDIT_SCHEMA, PUBLISHED_SCHEMA, audit_id,
                                  project=parse_cache.project_digest())
    published = publication.items
    repeated = [item for item in published if item.repeated]
    if repeated:
        reporter.event("published", f"  publish  already published by an earlier try: "
                       f"{publish.summary(repeated)}", datasets={i.dataset: i.rows for i in repeated},
                       repeated=True)
    fresh = [item for item in published if not item.repeated]
    if fresh:
        merged = {item.dataset: item.changed for item in fresh if item.changed is not None}
        reporter.event("published", f"  publish  {publish.summary(fresh)}",
                       datasets={i.dataset: i.rows for i in fresh}, merged=merged, repeated=False)
    reporter.held({unit: why for unit, why in publication.unpublished.items() if unit not in reported})
    if refresh_statistics:
        analyze = [item.dataset for item in fresh if item.needs_statistics]
        for warning in publish.refresh_statistics(target, analyze, PUBLISHED_SCHEMA):
            reporter.warning(warning)
    return publication


def record_period(
    connection: PgConnection,
    run: tuple[str, dt.datetime],
    ds: dt.date,
    *,
    rows: dict[str, int],
    views: list[str],
    unpublished: dict[str, str],
    demo: bool,
    notes: list[str],
    extracts: dict[str, dict[str, object]],
) -> None:
    """The period's row in the run history: a success, or a failure naming the publish
    units left as they were, and why."""
    error = redact.text(not_published(unpublished)) if unpublished else None
    history.record(connection, run[0], ds, run[1], "failed" if unpublished else "success",
                   rows, views, error, demo=demo, notes=notes, extracts=extracts)


def report_views(views: list[str], period: Period, reporter: Reporter) -> None:
    for view in views:
        reporter.event("view", f"  view     {view}", ds=period.ds.isoformat(), view=view)


def extract_dataset(
    settings: Settings, dataset: str, reporter: Reporter, full_refresh: bool = False
) -> dict[str, object]:
    """Fetch one dataset from Data Hub into its raw table (whole, or what changed since
    the last extract); its rows, pages and how it was fetched."""
    from dataflow.endpoint import datahub_endpoint
    from extract.pipeline import DLT_TABLES, run_extract
    from extract.sources.datahub import select_datasets

    sources = select_datasets([dataset])
    # dlt's working files are this task's own (`run_extract`): two extracts on one worker never share them.
    with locked(settings, shared=True, dataset=(dataset, reporter), dlt_tables=DLT_TABLES) as (target, _), \
            datahub_endpoint(settings) as endpoint:
        redact.register(endpoint.hawk_key.reveal())
        source = "demo data from the local Data Hub stand-in" if endpoint.is_standin else endpoint.base_url
        reporter.event("start", f"data-flow extract {dataset}: {source} -> {target.description}",
                       dataset=dataset, source=source, target=target.description, demo=endpoint.is_standin)
        extracted = run_extract(settings, endpoint, target, sources, reporter,
                                pipeline_name=f"datahub_{dataset}", full_refresh=full_refresh)
    how = report_extract(extracted, reporter)[dataset]
    return {"rows": extracted.rows.get(dataset, 0), "pages": extracted.pages.get(dataset, 0), **how,
            "notes": extracted.drift()}


def recent_extract(settings: Settings, dataset: str, within: dt.timedelta) -> dict[str, object] | None:
    """What `extract_dataset` returns, for a raw table extracted less than `within` ago:
    then a run need not fetch it again (the catch-up runs of a first deploy, one per past
    period, one after the other, each reading Data Hub as it is now). None: fetch it."""
    from extract.incremental import TABLE, declaration
    from extract.sources.datahub import select_datasets
    from extract.sources.datahub.settings import RAW_SCHEMA

    (declared,) = select_datasets([dataset])
    with locked(settings, shared=True, dataset=(dataset, Reporter(quiet=True))) as (_, connection):
        with connection.cursor() as cursor:
            cursor.execute("select to_regclass(%s), to_regclass(%s)", (TABLE, f'"{RAW_SCHEMA}"."{dataset}"'))
            if None in cursor.fetchone():
                return None
            # Not when the raw table's declaration changed since: that extract is due whole.
            cursor.execute(f"select last_started from {TABLE} where dataset = %s and declaration = %s "
                           "and last_started > now() - %s", (dataset, declaration(declared), within))
            row = cursor.fetchone()
            if row is None:
                return None
            cursor.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(RAW_SCHEMA, dataset)))
            rows = cursor.fetchone()[0]
        connection.commit()
    reason = f"extracted {row[0].astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC, within {within}"
    return {"rows": rows, "pages": 0, "mode": "reused", "reason": reason, "updated_since": None, "fetched": 0,
            "inserted": 0, "updated": 0, "notes": []}


def published_since_extract(settings: Settings, datasets: list[str]) -> bool:
    """Whether every one of `datasets` that is extracted was published (whole unit, by any
    run) after its raw table was last loaded, by the dbt project as it is now: then an
    audit would certify the same rows again, and a run that reused every extract may skip
    its audit and publish. (After a model changed, the audit runs: the published tables
    are rebuilt by the new models.)"""
    from extract.incremental import TABLE

    with locked(settings, shared=True) as (_, connection):
        with connection.cursor() as cursor:
            cursor.execute("select to_regclass(%s), to_regclass(%s)", (TABLE, publish.LOG_TABLE))
            if None in cursor.fetchone():
                return False
            cursor.execute(f"""
                select count(*) from {TABLE} as state
                where state.dataset = any(%s) and not exists (
                    select 1 from {publish.LOG_TABLE} as log
                    where log.rows ? state.dataset and log.published_at > state.last_started
                    and log.project = %s)""", (datasets, parse_cache.project_digest()))
            unpublished = cursor.fetchone()[0]
        connection.commit()
    return unpublished == 0


def audit_datasets(
    settings: Settings,
    period: Period,
    datasets: list[str],
    audit_id: str,
    reporter: Reporter,
    allow_shrink: bool = False,
    null_columns: str = "warn",
    not_loaded: dict[str, str] | None = None,
    owner: str | None = None,
) -> dict[str, object]:
    """Build, test and gate the datasets (and the period's views over them) in the audit schema.

    `not_loaded` names the datasets whose extract failed, and why: their units are not
    audited. `owner` names the DAG run: until its publish, no other run's audit replaces
    this one (`audit.refuse_while_awaiting_publish`), but a retry of this audit may."""
    with locked(settings, shared=False) as (target, connection):
        project = DbtProject(period.ds.isoformat(), target, settings, period.next_ds.isoformat())
        project.parse()
        audited = audit_units(project, connection, period, datasets, audit_id, reporter,
                              hold_minutes=settings.audit_hold_minutes, allow_shrink=allow_shrink,
                              null_columns=null_columns, not_loaded=not_loaded, owner=owner)
    return {"tests_passed": audited.tests_passed, "rows": audited.rows, "warnings": audited.warnings,
            "passed": [unit.name for unit in audited.passed], "failed": audited.failed}


def publish_datasets(
    settings: Settings, contracts: dict[str, list[tuple[str, str, bool]]], audit_id: str, reporter: Reporter
) -> dict[str, object]:
    """Publish the units certified for `audit_id`, each in its own transaction: rows per
    table published, and the units not published (why, and their tables)."""
    with locked(settings, shared=False) as (target, connection):
        publication = publish_units(target, connection, contracts, audit_id, reporter)
    return {"rows": {item.dataset: item.rows for item in publication.items},
            "unpublished": publication.unpublished, "held_back": publication.held_back}


def build_period_views(
    settings: Settings,
    period: Period,
    reporter: Reporter,
    run: tuple[str, dt.datetime] | None = None,
    rows: dict[str, int] | None = None,
    extracts: dict[str, dict[str, object]] | None = None,
    notes: list[str] | None = None,
    unpublished: dict[str, str] | None = None,
    held_back: list[str] | None = None,
) -> list[str]:
    """Create or replace the period's views over the published tables; the relations built.

    With `run` (a run id and its start), the period is recorded in the run history with
    the published `rows`, how each dataset was extracted and the drift `notes`, as
    `orchestrate.py history` shows runs: a success, or, when `unpublished` names publish
    units that were not published (and why), a failure naming them. Views over their
    tables, `held_back`, are left out."""
    with locked(settings, shared=True) as (target, connection):
        project = DbtProject(period.ds.isoformat(), target, settings, period.next_ds.isoformat())
        views = build_views(project, list(period.views), held_back or ())
        if run is not None:
            history.ensure(connection)
            record_period(connection, run, period.ds, rows=rows or {}, views=views, unpublished=unpublished or {},
                          demo=settings.demo, notes=notes or [], extracts=extracts or {})
    report_views(views, period, reporter)
    return views
