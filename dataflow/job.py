"""A run of the main job: extract once, audit, quality gate, publish, then the views of
every period asked for (one ds, a backfill range, the catch-up, or the latest period).

Order matters for "nothing changed on failure": everything that can be refused
(settings, names, dates, the run lock) is checked before the first byte is fetched, and
nothing visible to analysts changes before the single publish transaction. A repeat run
checks names and dates against the last parse's models (`parse_cache`) and confirms them
against dbt's own parse before anything is loaded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dataflow import history, lock, publish, quality, redact, schedule, warehouse
from dataflow.errors import RunError, UsageError
from dataflow.report import Reporter
from dataflow.settings import Settings

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection

    from dataflow.dbt_project import DbtProject


@dataclass(frozen=True)
class RunOptions:
    datasets: list[str] | None = None
    views: list[str] | None = None
    allow_shrink: bool = False
    null_columns: str = "warn"
    ds: dt.date | None = None
    start: dt.date | None = None
    end: dt.date | None = None  # exclusive, as in Airflow
    catchup: bool = False
    skip_extract: bool = False


@dataclass(frozen=True)
class Period:
    ds: dt.date
    next_ds: dt.date
    views: tuple[str, ...]


@dataclass
class RunReport:
    ds: dt.date
    rows: dict[str, int] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)
    published: dict[str, int] = field(default_factory=dict)
    views: list[str] = field(default_factory=list)
    tests_passed: int = 0
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


@contextmanager
def timed(seconds: dict[str, float], phase: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds[phase] = seconds.get(phase, 0.0) + time.perf_counter() - started


def view_relation(view: str, period: Period) -> str:
    """The name a view gets for a period: its last day (as dbt's period_suffix macro)."""
    return f"{view}_{period.next_ds - dt.timedelta(days=1):%Y_%m_%d}"


def next_month(ds: dt.date) -> dt.date:
    return (ds.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def effective_next_ds(project: DbtProject) -> str:
    """The period end a parsed project uses: its next_ds var, else (as the dbt macro) the next month."""
    return project.next_ds or next_month(dt.date.fromisoformat(project.ds)).isoformat()


def latest_month(now: dt.datetime) -> dt.date:
    """The latest completed month's ds: on 1 September, 2019-08-01."""
    return (now.date().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def plan(
    options: RunOptions,
    schedules: dict[str, schedule.Schedule],
    built: set[str],
    now: dt.datetime,
) -> list[Period]:
    """The periods to build, in order, each with the views scheduled for it."""
    if options.start and options.end and options.start >= options.end:
        raise UsageError(f"--start {options.start} is not before --end {options.end}")
    if bool(options.start) != bool(options.end):
        raise UsageError("--start and --end go together (the end is exclusive)")
    groups: dict[tuple[dt.date, dt.date], list[str]] = defaultdict(list)
    for view, scheduled in schedules.items():
        if options.ds is not None:
            if options.ds < scheduled.start:
                raise UsageError(f"--ds {options.ds} is before view {view}'s start date {scheduled.start}")
            if scheduled.end and options.ds >= scheduled.end:
                raise UsageError(f"--ds {options.ds} is after view {view}'s end date {scheduled.end}")
            wanted = [options.ds]
        elif options.start and options.end:
            wanted = scheduled.periods(options.start, options.end)
        else:
            latest = scheduled.latest_completed(now)
            if latest is None:
                wanted = []
            elif options.catchup:
                candidates = scheduled.periods(scheduled.start, latest + dt.timedelta(days=1))
                wanted = [
                    ds for ds in candidates
                    if view_relation(view, Period(ds, scheduled.next_ds(ds), ())) not in built
                ]
            else:
                wanted = [latest]
        for ds in wanted:
            groups[(ds, scheduled.next_ds(ds))].append(view)
    periods = [Period(ds, next_ds, tuple(sorted(views))) for (ds, next_ds), views in groups.items()]
    if not schedules:  # datasets only: load them under the run's ds
        ds = options.ds or options.start or latest_month(now)
        periods = [Period(ds, next_month(ds), ())]
    return sorted(periods, key=lambda period: (period.ds, period.next_ds))


def selection(
    project: DbtProject, options: RunOptions, connection: PgConnection, now: dt.datetime
) -> tuple[list[str], list[str], list[Period]]:
    """The datasets to load, the views to build and the periods to build them for."""
    datasets, views = project.select(options.datasets, options.views)
    if options.skip_extract:
        datasets = []
    schedules = {view: schedule.from_meta(view, project.models[view].meta) for view in views}
    return datasets, views, plan(options, schedules, history.built_views(connection) if options.catchup else set(), now)


def run(settings: Settings, options: RunOptions, reporter: Reporter) -> list[RunReport]:
    """Run the job; raise a DataFlowError (nothing published) on failure."""
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
    statistics: publish.Statistics | None = None
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
            datasets, views, periods = selection(project, options, connection, now)
        planner = project

        def confirm() -> None:
            """The worker's own parse must agree with the cached models the run was planned on."""
            if not planner.confirm_models() and selection(planner, options, connection, now) != (
                datasets, views, periods
            ):
                raise RunError("the dbt project's models changed since the run was planned; "
                               "nothing was loaded; run it again")

        if not periods or not datasets:
            confirm()  # no fetch to hide the parse behind
        if not periods:
            reporter.event("nothing", "nothing to do: every scheduled period is built")
            return []
        history.ensure(connection)  # only now: a refused run changes nothing

        run_id = history.new_run_id()
        reports: list[RunReport] = []
        loaded: RunReport | None = None
        for index, period in enumerate(periods):
            began = dt.datetime.now(dt.UTC)
            history.record(connection, run_id, period.ds, began, "running")
            report = RunReport(ds=period.ds, seconds=dict(setup) if index == 0 else {})
            try:
                if (project.ds, effective_next_ds(project)) != (period.ds.isoformat(), period.next_ds.isoformat()):
                    project = RemoteProject(worker, period.ds.isoformat(), target, settings,
                                            period.next_ds.isoformat())
                    with timed(report.seconds, "setup"):
                        project.parse()
                if loaded is None and datasets:
                    statistics = load(project, connection, datasets, period, settings, options, reporter,
                                      report, confirm)
                    loaded = report
                elif loaded is not None:
                    report.rows, report.published = loaded.rows, loaded.published
                if period.views:
                    with timed(report.seconds, "views"):
                        report.views = project.publish_views(list(period.views))
                if statistics is not None:
                    with timed(report.seconds, "analyze"):
                        for warning in statistics.wait():
                            report.warnings.append(warning)
                            reporter.warning(warning)
                    statistics = None
                    drop_audit_schema(connection)  # its statistics are copied: done with it
                history.record(connection, run_id, period.ds, began, "success", report.published, report.views)
            except BaseException as exc:
                message = describe(exc)[0] if isinstance(exc, Exception) else "interrupted"
                try:
                    connection.rollback()
                    history.record(connection, run_id, period.ds, began, "failed", report.published,
                                   report.views, redact.text(message))
                except Exception:  # noqa: BLE001, S110 - the run's own error is the one to report
                    pass
                raise
            for view in report.views:
                reporter.event("view", f"  view     {view}", ds=period.ds.isoformat(), view=view)
            reports.append(report)
        reports[-1].seconds["total"] = time.perf_counter() - started
        return reports
    finally:
        if statistics is not None:  # the run failed after publishing
            statistics.wait()
            with contextlib.suppress(Exception):  # else the next extract drops it
                connection.rollback()
                drop_audit_schema(connection)
        if worker is not None:
            worker.close()
        if connection is not None:
            connection.close()
        lock_connection.close()


def drop_audit_schema(connection: PgConnection) -> None:
    from dataflow.dbt_project import AUDIT_SCHEMA

    with connection.cursor() as cursor:
        cursor.execute(f'drop schema if exists "{AUDIT_SCHEMA}" cascade')
    connection.commit()


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
) -> publish.Statistics:
    """Extract, audit, gate and publish the datasets (once per run); `confirm` is called
    between the fetch and the load. The published tables' statistics are left coming."""
    from dataflow.dbt_project import AUDIT_SCHEMA, PUBLISHED_SCHEMA
    from dataflow.endpoint import datahub_endpoint
    from extract.pipeline import run_extract
    from extract.sources.datahub import select_datasets
    from extract.sources.datahub.settings import RAW_SCHEMA

    seconds = report.seconds
    # Nothing of an earlier (failed) run's audit may linger: its views depend on the raw
    # tables the extract is about to replace.
    drop_audit_schema(connection)
    with datahub_endpoint(settings) as endpoint:
        redact.register(endpoint.hawk_key.reveal())
        source = "local Data Hub stand-in" if endpoint.is_standin else endpoint.base_url
        target = project.target.description
        reporter.event("start", f"data-flow ds={period.ds.isoformat()}: {source} -> {target}",
                       ds=period.ds.isoformat(), source=source, target=target)
        sources = select_datasets(datasets)
        if period.views:
            project.prepare_views()  # the worker parses for the views while this process fetches
        extracted = run_extract(settings, endpoint, project.target, sources, reporter, before_load=confirm)
    seconds.update(extracted.seconds)
    report.rows, report.pages = extracted.rows, extracted.pages
    for name, rows in extracted.rows.items():
        pages = extracted.pages.get(name, 0)
        reporter.event("extracted", f"  extract  {name:<30} {rows:>9,} rows {pages:>6,} pages",
                       dataset=name, rows=rows, pages=pages)

    with timed(seconds, "audit"):
        audit = project.build_audit(datasets, list(period.views))
        report.tests_passed = audit.tests_passed
    # Statistics for the published tables: from the audit tables, beside the gate and publish.
    statistics = publish.Statistics(project.target, datasets, AUDIT_SCHEMA, PUBLISHED_SCHEMA,
                                    copy=publish.Statistics.copies(connection))
    try:
        with timed(seconds, "gate"):
            gate = quality.check(
                connection,
                {d.name: {"meta": project.models[d.name].meta, "fields": list(d.columns)} for d in sources},
                {"raw": RAW_SCHEMA, "audit": AUDIT_SCHEMA, "published": PUBLISHED_SCHEMA},
                allow_shrink=options.allow_shrink, null_columns=options.null_columns,
            )
        for warning in gate.warnings:
            report.warnings.append(warning)
            reporter.warning(warning)
        with timed(seconds, "publish"):
            contracts = {d: list(project.models[d].columns) for d in datasets}
            published = publish.publish(connection, contracts, AUDIT_SCHEMA, PUBLISHED_SCHEMA)
    except BaseException:
        statistics.wait()  # nothing published: the audit tables' statistics are dropped with them
        raise
    statistics.published()
    report.published = {item.dataset: item.rows for item in published}
    names = ", ".join(f"{name} ({rows:,})" for name, rows in report.published.items())
    reporter.event("published", f"  publish  {names}; {report.tests_passed} tests passed",
                   datasets=report.published, tests_passed=report.tests_passed)
    return statistics
