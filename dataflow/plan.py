"""Plan a run: which datasets to load, which views to build, and for which periods.

Everything the user can get wrong (names, dates, schedules) is refused here, before
anything is fetched or changed. The plan is plain data, so a scheduler can compute it in
one task and hand it to the others.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dataflow import history, schedule
from dataflow.errors import UsageError

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
    full_refresh: bool = False


@dataclass(frozen=True)
class Period:
    ds: dt.date
    next_ds: dt.date
    views: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    datasets: list[str]
    views: list[str]
    periods: list[Period]


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


def periods(
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
    planned = [Period(ds, next_ds, tuple(sorted(views))) for (ds, next_ds), views in groups.items()]
    if not schedules:  # datasets only: load them under the run's ds
        ds = options.ds or options.start or latest_month(now)
        planned = [Period(ds, next_month(ds), ())]
    return sorted(planned, key=lambda period: (period.ds, period.next_ds))


def plan(project: DbtProject, options: RunOptions, connection: PgConnection, now: dt.datetime) -> Plan:
    """The datasets to load, the views to build and the periods to build them for.

    `project` is a parsed dbt project (its models' names, dependencies and schedules);
    `connection` is read only for `--catchup` (the views already built)."""
    datasets, views = project.select(options.datasets, options.views)
    if options.skip_extract:
        datasets = []
    schedules = {view: schedule.from_meta(view, project.models[view].meta) for view in views}
    built = history.built_views(connection) if options.catchup else set()
    return Plan(datasets, views, periods(options, schedules, built, now))
