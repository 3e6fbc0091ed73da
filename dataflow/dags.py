"""The pipeline as Apache Airflow 3 DAGs, generated from the project's registry
(`dags/registry.json`, written ahead: parsing this imports neither dbt nor dlt).

One DAG per view schedule (`data_flow_monthly` for the @monthly views): an
`extract_<dataset>` task per dataset its views read, in parallel and in the `datahub_api`
pool, then `audit`, `publish` and `views`. A failed extract does not stop the others:
the audit runs once every extract is done and leaves out the publish units whose extract
failed; audit and publish pass on what they could certify and publish, and the `views`
task, last, fails naming every unit not published (after building the views it could).
Each task calls a stage of `dataflow.tasks`, the functions `orchestrate.py` is built
from, and hands on nothing but names through XCom: the data lives in the warehouse.
Datasets that no view reads are loaded by the @monthly DAG (or the first one).

Airflow schedules: a run's `ds` is its logical date, the start of the period it builds
(the run for August, ds 2019-08-01, starts once August has ended); catch-up from the
views' first start date is the backfill. A run triggered for a logical date that starts
no period (a manual trigger "now") builds the latest period completed by then.

Every task has an `execution_timeout` and every run a `dagrun_timeout`
(DATAFLOW_AIRFLOW_TASK_TIMEOUT_MINUTES, DATAFLOW_AIRFLOW_RUN_TIMEOUT_HOURS). A task with
no warehouse and no Data Hub configured fails, unless DATAFLOW_AIRFLOW_DEMO=true asks
for the demo (`make airflow`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from typing import Any
from urllib.parse import quote

from airflow.sdk import DAG, Asset, AssetAlias, Connection, CronDataIntervalTimetable, Param, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException
from airflow.sdk.log import mask_secret

from dataflow import redact, registry
from dataflow.dbt_project import PUBLISHED_SCHEMA
from dataflow.errors import DataFlowError, UsageError
from dataflow.failures import describe
from dataflow.plan import Period, latest_month
from dataflow.report import Reporter
from dataflow.schedule import PRESETS, Schedule
from dataflow.settings import AIRFLOW_POOL, Settings, from_environment
from dataflow.stage_process import StageFailed, run_extract_process
from dataflow.units import not_published

#: The Airflow connection of the warehouse (the old system's name); else DATABASE_URL.
WAREHOUSE_CONNECTION = "datasets_db"
#: The Airflow connection of Data Hub (host: base URL, login: Hawk id, password: Hawk key,
#: extra {"algorithm": "sha256"}); else DATAHUB_BASE_URL, HAWK_ID, HAWK_KEY.
DATAHUB_CONNECTION = "datahub_api"
DEFAULT_SCHEDULE = "@monthly"
DAG_PREFIX = "data_flow"
TAGS = ["data-flow"]

# dlt would otherwise look up hundreds of Airflow Variables for its settings in every task.
os.environ.setdefault("PROVIDERS__ENABLE_AIRFLOW_SECRETS", "false")


def dag_id(expression: str, prefix: str = DAG_PREFIX) -> str:
    """data_flow_monthly for @monthly; data_flow_cron_0_6_x_x_1 for '0 6 * * 1'."""
    if expression in PRESETS:
        return f"{prefix}_{expression.lstrip('@')}"
    return f"{prefix}_cron_" + re.sub(r"[^0-9a-z]+", "_", expression.lower().replace("*", "x")).strip("_")


def asset(table: str) -> Asset:
    """The Airflow Asset of a published table: other DAGs may be scheduled on it."""
    return Asset(name=f"{PUBLISHED_SCHEMA}.{table}", uri=f"dataflow://warehouse/{PUBLISHED_SCHEMA}/{table}",
                 group="data-flow")


def published_alias(dag_name: str) -> AssetAlias:
    """What a DAG's publish task emits its asset events through: only the tables it published."""
    return AssetAlias(name=f"{dag_name}.published", group="data-flow")


def _connection(conn_id: str) -> Any | None:
    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def warehouse_url(conn: Any) -> str:
    """A postgresql:// URL from an Airflow connection (schema: the database)."""
    auth = quote(conn.login or "postgres", safe="")
    if conn.password:
        auth += ":" + quote(conn.password, safe="")
    query = ""
    host = conn.host or "localhost"
    if host.startswith("/"):  # a unix socket directory
        query, host = "?host=" + quote(host, safe="/"), "localhost"
    return f"postgresql://{auth}@{host}:{conn.port or 5432}/{quote(conn.schema or 'postgres', safe='')}{query}"


def datahub_url(conn: Any) -> str:
    host = conn.host or ""
    if "://" in host:
        return host.rstrip("/")
    scheme = "http" if conn.conn_type == "http" else "https"
    return f"{scheme}://{host}" + (f":{conn.port}" if conn.port else "")


def task_settings() -> Settings:
    """The run's settings inside a task: Airflow connections first, then the environment."""
    return task_environment()[1]


def task_environment() -> tuple[dict[str, str], Settings]:
    """The environment with the Airflow connections' settings filled in, and its settings."""
    env = dict(os.environ)
    database = _connection(WAREHOUSE_CONNECTION)
    if database is not None:
        env["DATABASE_URL"] = warehouse_url(database)
    datahub = _connection(DATAHUB_CONNECTION)
    if datahub is not None:
        env.update({"DATAHUB_BASE_URL": datahub_url(datahub), "HAWK_ID": datahub.login or "",
                    "HAWK_KEY": datahub.password or ""})
        env["HAWK_ALGORITHM"] = datahub.extra_dejson.get("algorithm") or env.get("HAWK_ALGORITHM", "")
    try:
        settings = from_environment(env)
        settings.require_configured()
        # A worker with nothing configured would otherwise run the demo (its own stand-in and
        # embedded PostgreSQL) and announce demo tables as published: only when asked for.
        if settings.demo and not _flag("DATAFLOW_AIRFLOW_DEMO", env.get("DATAFLOW_AIRFLOW_DEMO"), "false"):
            raise UsageError(
                f"no warehouse or Data Hub configured: set the Airflow connections {WAREHOUSE_CONNECTION} and "
                f"{DATAHUB_CONNECTION} (or DATABASE_URL, DATAHUB_BASE_URL, HAWK_ID and HAWK_KEY); "
                "DATAFLOW_AIRFLOW_DEMO=true runs the demo instead")
    except UsageError as exc:
        raise AirflowFailException(str(exc)) from None  # a retry would not help
    redact.register_settings(settings)
    if settings.hawk_key:
        mask_secret(settings.hawk_key.reveal())
    if settings.database_url:
        mask_secret(settings.database_url.reveal())
        from dataflow.warehouse import from_url

        password = from_url(settings.database_url).password.reveal()
        if password:
            mask_secret(password)
    return env, settings


def run_period(context: Any, scheduled: Schedule, views: list[registry.View]) -> Period:
    """The period a DAG run builds: its logical date, or the latest completed period."""
    logical = context.get("logical_date")
    ds = logical.date() if logical is not None else None
    if ds is None or not scheduled.is_tick(ds):
        now = logical or context["dag_run"].run_after
        ds = scheduled.latest_completed(now)
        if ds is None:
            raise AirflowFailException(f"no {scheduled.expression} period has ended by {now:%Y-%m-%d}")
    due = sorted(v.name for v in views if v.schedule.start <= ds and (v.schedule.end is None or ds < v.schedule.end))
    return Period(ds, scheduled.next_ds(ds), tuple(due))


def stage(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a stage; its failure becomes one line in the task log (secrets scrubbed).

    Usage errors fail the task at once; anything else may be retried by Airflow."""
    try:
        return function(*args, **kwargs)
    except DataFlowError as exc:
        message, _ = describe(exc)
        failure = AirflowFailException if isinstance(exc, UsageError) else RuntimeError
        raise failure(redact.text(message)) from None


def _flag(name: str, raw: str | None, default: str) -> bool:
    """The true/false setting `name`, whose value is `raw` (None or empty: `default`)."""
    value = (raw or "").strip().lower() or default
    if value not in ("true", "false"):
        raise UsageError(f"{name} must be true or false, got {raw!r}")
    return value == "true"


def _positive(name: str, raw: str | None, default: str, zero: bool = False) -> float:
    """The positive (or, with `zero`, not negative) number setting `name`, whose value is
    `raw` (None or empty: `default`)."""
    value = (raw or "").strip() or default
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if number < 0 or (number == 0 and not zero):
        raise UsageError(f"{name} must be a number {'of 0 or more' if zero else 'greater than 0'}, got {value!r}")
    return number


def extract_reuse() -> dt.timedelta:
    """DATAFLOW_AIRFLOW_EXTRACT_REUSE_MINUTES: a dataset extracted less than this long ago is
    not fetched again (0: always fetch). A first deploy's catch-up makes one run per past
    period, one after the other: the first fetches, the others reuse its raw tables (and,
    with nothing new to publish, skip the audit and publish) and build their views."""
    raw = os.environ.get("DATAFLOW_AIRFLOW_EXTRACT_REUSE_MINUTES")
    return dt.timedelta(minutes=_positive("DATAFLOW_AIRFLOW_EXTRACT_REUSE_MINUTES", raw, "120", zero=True))


def catchup_setting() -> bool:
    """DATAFLOW_AIRFLOW_CATCHUP: whether a DAG catches up from its views' start (default true)."""
    return _flag("DATAFLOW_AIRFLOW_CATCHUP", os.environ.get("DATAFLOW_AIRFLOW_CATCHUP"), "true")


def timeouts() -> tuple[dt.timedelta, dt.timedelta]:
    """Each task's execution_timeout and each DAG run's dagrun_timeout: a hung request or
    lock wait ends in a failure (and the run lock with it) instead of holding a worker slot
    and the next runs for ever."""
    task = os.environ.get("DATAFLOW_AIRFLOW_TASK_TIMEOUT_MINUTES")
    run = os.environ.get("DATAFLOW_AIRFLOW_RUN_TIMEOUT_HOURS")
    return (dt.timedelta(minutes=_positive("DATAFLOW_AIRFLOW_TASK_TIMEOUT_MINUTES", task, "120")),
            dt.timedelta(hours=_positive("DATAFLOW_AIRFLOW_RUN_TIMEOUT_HOURS", run, "12")))


def build(
    *,
    prefix: str = DAG_PREFIX,
    start_date: dt.date | None = None,
    catchup: bool | None = None,
    retries: int = 2,
    retry_delay: dt.timedelta = dt.timedelta(minutes=5),
    project: registry.Registry | None = None,
) -> dict[str, DAG]:
    """The DAGs by id. `start_date` overrides the views' start dates (for trying catch-up);
    `catchup` defaults to DATAFLOW_AIRFLOW_CATCHUP."""
    project = project or registry.load()
    catchup = catchup_setting() if catchup is None else catchup
    task_timeout, run_timeout = timeouts()
    schedules = project.schedules() or {DEFAULT_SCHEDULE: []}
    first = DEFAULT_SCHEDULE if DEFAULT_SCHEDULE in schedules else next(iter(schedules))
    read = {d for views in schedules.values() for v in views for d in v.datasets}
    dags = {}
    for expression, views in schedules.items():
        datasets = [d for d in project.datasets if any(d in v.datasets for v in views)]
        if expression == first:
            datasets += [d for d in project.datasets if d not in read]
        scheduled = Schedule(f"{dag_id(expression, prefix)}", expression,
                             min((v.schedule.start for v in views), default=latest_month(dt.datetime.now(dt.UTC))))
        ends = [v.schedule.end for v in views]
        end = max(ends) if ends and None not in ends else None
        start = start_date or scheduled.start
        with DAG(
            dag_id=dag_id(expression, prefix),
            schedule=CronDataIntervalTimetable(PRESETS.get(expression, expression), timezone="UTC"),
            start_date=dt.datetime.combine(start, dt.time(), dt.UTC),
            end_date=dt.datetime.combine(end, dt.time(), dt.UTC) if end else None,
            catchup=catchup and bool(views),
            max_active_runs=1,
            dagrun_timeout=run_timeout,
            default_args={"retries": retries, "retry_delay": retry_delay, "execution_timeout": task_timeout},
            tags=TAGS,
            # Trigger with {"full_refresh": true} to fetch every dataset whole (what removes
            # records deleted in Data Hub before their scheduled full refresh).
            params={"full_refresh": Param(False, type="boolean", description="fetch every dataset whole")},
            doc_md=f"data-flow, {expression}: extract {', '.join(datasets)}; audit; publish; "
                   f"views {', '.join(v.name for v in views) or '(none)'}. ds is the logical date. "
                   "Publish units (each published whole or held back whole, with the units joined "
                   "from it): " + "; ".join(unit.summary() for unit in project.units(datasets)) + ".",
        ) as dag:
            dags[dag.dag_id] = dag
            _tasks(dag.dag_id, scheduled, views, datasets, project.built_from(datasets), project.contracts)
    return dags


def _tasks(dag_name: str, scheduled: Schedule, views: list[registry.View], datasets: list[str], built: list[str],
           contracts: dict[str, list[tuple[str, str, bool]]]) -> None:
    """The tasks of one DAG: extract_<dataset> (parallel) >> audit >> publish >> views. The
    audit and the publish take `built`: the datasets and the derived tables built from them.
    The publish task announces each table it published as an asset event (through an alias:
    a unit not published announces nothing)."""
    from dataflow.tasks import (
        audit_datasets,
        build_period_views,
        publish_datasets,
        published_since_extract,
        recent_extract,
    )

    alias = published_alias(dag_name)

    def extract_results(ti: Any) -> dict[str, dict[str, Any] | None]:
        """Each extract task's result; None (or empty) for one that failed. One pull per
        task: a list pull leaves out the tasks without a result."""
        return {d: ti.xcom_pull(task_ids=f"extract_{d}") for d in datasets}

    @task(pool=AIRFLOW_POOL)
    def extract(dataset: str) -> dict[str, Any]:
        env, settings = task_environment()
        full_refresh = bool(get_current_context()["params"].get("full_refresh"))
        within = extract_reuse()
        if not full_refresh and within:
            reused = stage(recent_extract, settings, dataset, within)
            if reused is not None:
                print(f"  extract  {dataset} {reused['rows']:>9,} rows, reused: {reused['reason']}", flush=True)
                return reused
        try:
            # In its own process: see dataflow.stage_process.
            return run_extract_process(dataset, env, full_refresh=full_refresh)
        except StageFailed as exc:
            raise (AirflowFailException if exc.usage else RuntimeError)(redact.text(str(exc))) from None

    @task(trigger_rule="all_done")  # after every extract, failed ones too: their units are left out
    def audit() -> dict[str, Any]:
        context = get_current_context()
        period = run_period(context, scheduled, views)
        ti = context["ti"]
        # One id per audit attempt: publish takes only what this very attempt certified.
        audit_id = f"{dag_name}/{context['run_id']}/audit/{ti.try_number}"
        extracted = extract_results(ti)
        not_loaded = {d: f"extract_{d} failed (its task log says why)" for d, result in extracted.items()
                      if not result}
        if all(result and result.get("mode") == "reused" for result in extracted.values()) \
                and stage(published_since_extract, task_settings(), datasets):
            print("  audit    skipped: every extract reused, and published since it was loaded", flush=True)
            return {"audit_id": audit_id, "ds": period.ds.isoformat(), "skipped": True, "passed": [], "failed": {}}
        result = stage(audit_datasets, task_settings(), period, built, audit_id, Reporter(), not_loaded=not_loaded,
                       owner=f"{dag_name}/{context['run_id']}")
        return {"audit_id": audit_id, "ds": period.ds.isoformat(), **result}

    @task(outlets=[alias])
    def publish(audited: dict[str, Any]) -> dict[str, Any]:
        context = get_current_context()
        if audited.get("skipped"):  # nothing new since the last publish: the views are built over it
            return {"rows": {}, "unpublished": {}, "held_back": []}
        published = stage(publish_datasets, task_settings(), {d: contracts[d] for d in built},
                          audited["audit_id"], Reporter())
        for table, rows in published["rows"].items():
            context["outlet_events"][alias].add(asset(table), extra={"rows": rows, "ds": audited["ds"]})
        return published

    @task
    def views_(published: dict[str, Any]) -> list[str]:
        context = get_current_context()
        period = run_period(context, scheduled, views)
        dag_run = context["dag_run"]
        run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"airflow:{dag_name}/{context['run_id']}"))
        started = dag_run.start_date or dt.datetime.now(dt.UTC)
        # How each dataset was extracted, for the run history, from the extracts' results.
        extracted = extract_results(context["ti"])
        extracts = {d: {k: v for k, v in (result or {}).items() if k not in ("rows", "pages", "notes")}
                    for d, result in extracted.items()}
        notes = [note for result in extracted.values() for note in (result or {}).get("notes", [])]
        built_views = stage(build_period_views, task_settings(), period, Reporter(), (run_id, started),
                            published["rows"], extracts, notes, published["unpublished"], published["held_back"])
        if published["unpublished"]:  # the run is not a success: say which units it left as they were
            raise AirflowFailException(redact.text(not_published(published["unpublished"])))
        return built_views

    extracted = [extract.override(task_id=f"extract_{d}")(d) for d in datasets]
    audited = audit()
    extracted >> audited  # noqa: B018 - Airflow's dependency operator
    views_.override(task_id="views")(publish(audited))
