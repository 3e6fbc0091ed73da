"""The main job on one machine: lock, plan, then extract -> audit -> publish -> views.

The stages are the ones the DAG's tasks run (`dataflow.tasks`: the same cores, the same
lines): this module runs them in order in one process, times them and records the run
history, with the run lock held from start to end.

Order matters for "nothing changed on failure": everything that can be refused
(settings, names, dates, the run lock) is checked before the first byte is fetched, and
nothing visible to analysts changes before the single publish transaction. Two things
make a run on one machine faster and stay here, outside the stages: dbt runs in a worker
process started first (`dbt_worker`), and a repeat run plans from the last parse's
models (`parse_cache`), confirmed against dbt's own parse before anything is loaded.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dataflow import history, lock, publish, redact, warehouse
from dataflow.audit import refuse_while_awaiting_publish
from dataflow.dbt_project import PUBLISHED_SCHEMA, built_from, derived_tables
from dataflow.errors import RunError
from dataflow.plan import Period, RunOptions, effective_next_ds, latest_month, plan
from dataflow.report import Reporter
from dataflow.settings import Settings
from dataflow.tasks import audit_units, publish_units, record_period, report_extract, report_views
from dataflow.views import build_views

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection

    from dataflow.dbt_project import DbtProject


@dataclass
class RunReport:
    ds: dt.date
    demo: bool = False
    rows: dict[str, int] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)
    published: dict[str, int] = field(default_factory=dict)
    views: list[str] = field(default_factory=list)
    tests_passed: int = 0
    warnings: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)  # fields Data Hub sent that no model declares
    extracts: dict[str, dict[str, object]] = field(default_factory=dict)  # per dataset: full or incremental, counts
    merged: dict[str, int] = field(default_factory=dict)  # datasets published by key: rows changed
    to_analyze: list[str] = field(default_factory=list)  # published tables whose statistics to refresh now
    unpublished: dict[str, str] = field(default_factory=dict)  # publish unit -> why it was not published
    held_back: set[str] = field(default_factory=set)  # the tables of those units
    seconds: dict[str, float] = field(default_factory=dict)


@contextmanager
def timed(seconds: dict[str, float], phase: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds[phase] = seconds.get(phase, 0.0) + time.perf_counter() - started


def run(settings: Settings, options: RunOptions, reporter: Reporter) -> list[RunReport]:
    """Run the job; raise a DataFlowError (nothing published) on failure.

    A run that published some publish units but not others returns normally: each
    report's `unpublished` names the others and why (the caller exits non-zero)."""
    from dataflow.dbt_worker import DbtWorker, RemoteProject
    from dataflow.failures import describe

    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    setup: dict[str, float] = {}
    with timed(setup, "setup"):
        target = warehouse.resolve(settings.database_url)
        lock_connection = target.connect()
    connection = None
    worker: DbtWorker | None = None
    # The published tables' ANALYZE runs beside the views (see `load`).
    background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="statistics")
    try:
        with timed(setup, "setup"):
            lock.acquire(lock_connection)
            worker = DbtWorker(target, settings)  # imports dbt meanwhile
            connection = target.connect()
            if not options.skip_extract:
                import extract.pipeline  # noqa: F401 - dlt's import, while the worker imports dbt
            provisional = options.ds or options.start or latest_month(now)
            project = RemoteProject(worker, provisional.isoformat(), target, settings)
            if not project.parse_early():  # the last run's models, if nothing changed since
                project.parse()
            planned = plan(project, options, connection, now)
        planner = project

        def confirm() -> None:
            """The worker's own parse must agree with the cached models the run was planned on."""
            if not planner.confirm_models() and plan(planner, options, connection, now) != planned:
                raise RunError("the dbt project's models changed since the run was planned; "
                               "nothing was loaded; run it again")

        if not planned.periods or not planned.datasets:
            confirm()  # no fetch to hide the parse behind
        if not planned.periods:
            reporter.event("nothing", "nothing to do: every scheduled period is built")
            return []
        if planned.datasets:  # a scheduler's audit awaiting its own publish is not replaced
            refuse_while_awaiting_publish(connection, None, settings.audit_hold_minutes)
        history.ensure(connection)  # only now: a refused run changes nothing

        run_id = history.new_run_id()
        reports: list[RunReport] = []
        loaded: RunReport | None = None
        for index, period in enumerate(planned.periods):
            began = dt.datetime.now(dt.UTC)
            demo = settings.demo and bool(planned.datasets)
            history.record(connection, run_id, period.ds, began, "running", demo=demo)
            report = RunReport(ds=period.ds, demo=demo, seconds=dict(setup) if index == 0 else {})
            try:
                if (project.ds, effective_next_ds(project)) != (period.ds.isoformat(), period.next_ds.isoformat()):
                    project = RemoteProject(worker, period.ds.isoformat(), target, settings,
                                            period.next_ds.isoformat())
                    with timed(report.seconds, "setup"):
                        project.parse()
                statistics: Future[list[str]] | None = None
                if loaded is None and planned.datasets:
                    load(project, connection, planned.datasets, period, settings, options, reporter, report, confirm,
                         audit_id=run_id)
                    loaded = report
                    statistics = background.submit(
                        publish.refresh_statistics, target, report.to_analyze, PUBLISHED_SCHEMA)
                elif loaded is not None:
                    report.rows, report.published, report.drift = loaded.rows, loaded.published, loaded.drift
                    report.extracts = loaded.extracts
                    report.unpublished, report.held_back = loaded.unpublished, loaded.held_back
                with timed(report.seconds, "views"):
                    report.views = build_views(project, list(period.views), report.held_back)
                if index == len(planned.periods) - 1:
                    worker.stop()  # dbt is done: its shutdown overlaps the statistics
                if statistics is not None:
                    with timed(report.seconds, "analyze"):  # what is left of it after the views
                        for warning in statistics.result():
                            report.warnings.append(warning)
                            reporter.warning(warning)
                record_period(connection, (run_id, began), period.ds, rows=report.published, views=report.views,
                              unpublished=report.unpublished, demo=demo, notes=report.drift,
                              extracts=report.extracts)
            except BaseException as exc:
                message = describe(exc)[0] if isinstance(exc, Exception) else "interrupted"
                try:
                    connection.rollback()
                    history.record(connection, run_id, period.ds, began, "failed", report.published,
                                   report.views, redact.text(message), demo=demo, notes=report.drift,
                                   extracts=report.extracts)
                except Exception:  # noqa: BLE001, S110 - the run's own error is the one to report
                    pass
                raise
            report_views(report.views, period, reporter)
            reports.append(report)
        reports[-1].seconds["total"] = time.perf_counter() - started
        return reports
    finally:
        background.shutdown(wait=True)
        if worker is not None:
            worker.close()
        if connection is not None:
            connection.close()
        lock_connection.close()


def load(
    project: DbtProject,
    connection: PgConnection,
    datasets: list[str],
    period: Period,
    settings: Settings,
    options: RunOptions,
    reporter: Reporter,
    report: RunReport,
    confirm: Callable[[], None],
    audit_id: str,
) -> None:
    """Extract, audit (with the quality gate) and publish the datasets: once per run.

    `confirm` is called between the fetch and the load, while `raw` is still unchanged.
    The published tables' statistics are left to `publish.refresh_statistics`, which the
    caller runs beside the views."""
    from dataflow.endpoint import datahub_endpoint
    from extract.pipeline import run_extract
    from extract.sources.datahub import select_datasets

    seconds = report.seconds
    with datahub_endpoint(settings) as endpoint:
        redact.register(endpoint.hawk_key.reveal())
        source = "demo data from the local Data Hub stand-in" if endpoint.is_standin else endpoint.base_url
        target = project.target.description
        reporter.event("start", f"data-flow ds={period.ds.isoformat()}: {source} -> {target}",
                       ds=period.ds.isoformat(), source=source, target=target, demo=endpoint.is_standin)
        sources = select_datasets(datasets)
        if period.views:
            project.prepare_views()  # the worker parses for the views while this process fetches
        extracted = run_extract(settings, endpoint, project.target, sources, reporter, before_load=confirm,
                                full_refresh=options.full_refresh)
    seconds.update(extracted.seconds)
    report.rows, report.pages = extracted.rows, extracted.pages
    report.extracts = report_extract(extracted, reporter)
    report.drift = extracted.drift()
    report.warnings += report.drift

    built = built_from(derived_tables(project.models), datasets)  # what is audited and published
    with timed(seconds, "audit"):
        audited = audit_units(project, connection, period, built, audit_id, reporter,
                              hold_minutes=settings.audit_hold_minutes, allow_shrink=options.allow_shrink,
                              null_columns=options.null_columns, not_loaded=extracted.failed)
    report.tests_passed = audited.tests_passed
    report.warnings += audited.warnings
    with timed(seconds, "publish"):
        contracts = {d: list(project.models[d].columns) for d in built}
        publication = publish_units(project.target, connection, contracts, audit_id, reporter,
                                    reported=audited.failed, refresh_statistics=False)
    published = publication.items
    report.published = {item.dataset: item.rows for item in published}
    report.merged = {item.dataset: item.changed for item in published if item.changed is not None}
    report.to_analyze = [item.dataset for item in published if item.needs_statistics]
    # The certificate names the units the audit held back too: the publication reports them all.
    report.unpublished, report.held_back = publication.unpublished, set(publication.held_back)
