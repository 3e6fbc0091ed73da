"""One run of the main job: extract, audit, quality gate, publish, views.

Order matters for "nothing changed on failure": everything that can be refused
(settings, names, the run lock) is checked before the first byte is fetched, and
nothing visible to analysts changes before the single publish transaction.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from extract import database, lock, publish, quality, redact
from extract.config import Settings
from extract.report import Reporter


@dataclass(frozen=True)
class RunOptions:
    datasets: list[str] | None = None
    views: list[str] | None = None
    allow_shrink: bool = False
    null_columns: str = "warn"


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


def run(ds: dt.date, settings: Settings, options: RunOptions, reporter: Reporter) -> RunReport:
    """Run the main job for one ds; raise a DataFlowError (nothing published) on failure."""
    from extract.local_datahub import datahub_endpoint
    from extract.pipeline import run_extract
    from extract.sources.datahub import select_datasets
    from extract.sources.datahub.settings import RAW_SCHEMA
    from extract.transform import AUDIT_SCHEMA, PUBLISHED_SCHEMA, DbtProject

    report = RunReport(ds=ds)
    started = time.perf_counter()
    seconds = report.seconds
    with timed(seconds, "setup"):
        target = database.resolve(settings.database_url)
        lock_connection = target.connect()
    connection = None
    try:
        with timed(seconds, "setup"):
            lock.acquire(lock_connection)
            project = DbtProject(ds.isoformat(), target, settings)
            project.parse()
            datasets, views = project.select(options.datasets, options.views)

            connection = target.connect()
            with connection.cursor() as cursor:
                # Nothing of an earlier (failed) run's audit may linger: its views depend on
                # the raw tables the extract is about to replace.
                cursor.execute(f'drop schema if exists "{AUDIT_SCHEMA}" cascade')
            connection.commit()

        with datahub_endpoint(settings) as endpoint:
            redact.register(endpoint.hawk_key.reveal())
            source = "local Data Hub stand-in" if endpoint.is_standin else endpoint.base_url
            reporter.event("start", f"data-flow ds={ds.isoformat()}: {source} -> {target.description}",
                           ds=ds.isoformat(), source=source, target=target.description)
            sources = select_datasets(datasets)
            extracted = run_extract(settings, endpoint, target, sources)
        seconds.update(extracted.seconds)
        report.rows, report.pages = extracted.rows, extracted.pages
        for name, rows in extracted.rows.items():
            pages = extracted.pages.get(name, 0)
            reporter.event("extracted", f"  extract  {name:<30} {rows:>9,} rows {pages:>6,} pages",
                           dataset=name, rows=rows, pages=pages)

        with timed(seconds, "audit"):
            audit = project.build_audit(datasets, views)
            report.tests_passed = audit.tests_passed
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
        report.published = {item.dataset: item.rows for item in published}
        with timed(seconds, "views"):
            report.views = project.publish_views(views)
            with connection.cursor() as cursor:
                cursor.execute(f'drop schema if exists "{AUDIT_SCHEMA}" cascade')
            connection.commit()
    finally:
        if connection is not None:
            connection.close()
        lock_connection.close()
    seconds["total"] = time.perf_counter() - started

    names = ", ".join(f"{name} ({rows:,})" for name, rows in report.published.items())
    reporter.event("published", f"  publish  {names}; {report.tests_passed} tests passed",
                   datasets=report.published, tests_passed=report.tests_passed)
    for view in report.views:
        reporter.event("view", f"  view     {view}", view=view)
    return report
