"""data-flow: Data Hub datasets -> PostgreSQL warehouse -> report views.

    python orchestrate.py --ds 2019-08-01                    one period
    python orchestrate.py                                    the latest completed period
    python orchestrate.py --start 2019-06-01 --end 2019-09-01  a backfill (end exclusive)
    python orchestrate.py --catchup                          every due period not yet built
    python orchestrate.py --list                             datasets, views, schedules, last runs
    python orchestrate.py history                            the run history
    python orchestrate.py docs                               the dbt docs site (lineage)

Configuration comes from the environment (see .env.example). Failures end with one
line on stderr and a non-zero exit: 2 for usage errors, 3 when another run holds the
database, 1 for a run that failed. A failed run publishes nothing, except the publish
units (a dataset and what is built from it) it could publish whole; the error line
names every unit it did not publish.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
from pathlib import Path

from extract.memory import limit_allocators

limit_allocators()  # before anything imports pyarrow

from dataflow import redact, warehouse  # noqa: E402
from dataflow.errors import UsageError  # noqa: E402
from dataflow.failures import describe  # noqa: E402
from dataflow.report import FORMATS, ReaderGone, Reporter  # noqa: E402
from dataflow.settings import VARIABLES, Settings, from_environment  # noqa: E402

EPILOG = "Environment: " + ", ".join(VARIABLES) + " (see README.md)."


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but usage errors are our one-line UsageError (exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def parse_date(option: str, text: str | None, today: dt.date | None = None) -> dt.date | None:
    """A YYYY-MM-DD option value; not in the future."""
    if text is None:
        return None
    today = today or dt.datetime.now(dt.UTC).date()
    try:
        if len(text) != 10:
            raise ValueError
        value = dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} must be a date YYYY-MM-DD, got {text!r}") from None
    if value > today and option != "--end":
        raise UsageError(f"{option} {text} is in the future")
    return value


def name_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected comma-separated names")
    return names


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="orchestrate.py", description=__doc__.splitlines()[0], epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", choices=["run", "docs", "history", "dbt"], default="run",
                        help="run (default); docs: the dbt docs site; history: past runs; "
                             "dbt ARGS...: dbt's own CLI on the job's warehouse")
    parser.add_argument("dbt_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    when = parser.add_argument_group("which periods")
    when.add_argument("--ds", help="logical date YYYY-MM-DD (default: each view's latest completed period)")
    when.add_argument("--start", help="backfill from this ds (inclusive)")
    when.add_argument("--end", help="backfill up to this ds (exclusive, as in Airflow)")
    when.add_argument("--catchup", action="store_true", help="build every due period not yet built")
    what = parser.add_argument_group("what")
    what.add_argument("--datasets", type=name_list, help="comma-separated datasets to load (default: all)")
    what.add_argument("--views", type=name_list, help="comma-separated views to build (default: all)")
    what.add_argument("--skip-extract", action="store_true", help="rebuild views from the data already loaded")
    what.add_argument("--full-refresh", action="store_true",
                      help="fetch every dataset whole, not only what changed (removes records deleted upstream)")
    what.add_argument("--list", action="store_true", help="show datasets, views, schedules and their last runs")
    gate = parser.add_argument_group("quality gate")
    gate.add_argument("--allow-shrink", action="store_true",
                      help="publish a dataset even if it has under 90%% of the published rows")
    gate.add_argument("--null-columns", choices=["warn", "fail"], default="warn",
                      help="what a source field null in every record does (default: warn)")
    source = parser.add_argument_group("data source")
    source.add_argument("--demo", action="store_true",
                        help="load the local Data Hub stand-in's demo data (the default when nothing is configured)")
    out = parser.add_argument_group("output")
    out.add_argument("--log-format", choices=FORMATS, default="text", help="text (default) or json lines")
    out.add_argument("--quiet", action="store_true", help="print nothing but warnings and errors (for cron)")
    out.add_argument("--verbose", action="store_true", help="show tracebacks of failures and library logs")
    return parser


def options_from(args: argparse.Namespace):  # noqa: ANN201 - RunOptions, imported lazily
    from dataflow.plan import RunOptions

    ds = parse_date("--ds", args.ds)
    start, end = parse_date("--start", args.start), parse_date("--end", args.end)
    if sum(bool(x) for x in (ds, start or end, args.catchup)) > 1:
        raise UsageError("use one of --ds, --start/--end and --catchup")
    if args.full_refresh and args.skip_extract:
        raise UsageError("--full-refresh fetches the datasets, --skip-extract does not: use one")
    return RunOptions(
        datasets=args.datasets, views=args.views, allow_shrink=args.allow_shrink,
        null_columns=args.null_columns, ds=ds, start=start, end=end, catchup=args.catchup,
        skip_extract=args.skip_extract, full_refresh=args.full_refresh,
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Extract, audit (contracts, dbt tests, quality gate), publish, build the views.

    A run that left publish units unpublished ends with one error line naming them (exit 1)."""
    from dataflow.job import run as run_job
    from dataflow.units import not_published

    reporter = Reporter(args.log_format, args.quiet)
    reports = run_job(settings, options_from(args), reporter)
    if not reports:
        return 0
    unpublished = reports[0].unpublished
    seconds = reports[-1].seconds
    for report in reports[:-1]:
        for phase, value in report.seconds.items():
            seconds[phase] = seconds.get(phase, 0.0) + value
    if args.log_format == "json":
        loaded = next((r for r in reports if r.rows), reports[0])
        summary = {
            "event": "done", "status": "failed" if unpublished else "success", "unpublished": unpublished,
            "demo": any(r.demo for r in reports),
            "ds": [r.ds.isoformat() for r in reports],
            "rows": loaded.rows, "pages": loaded.pages, "views": [v for r in reports for v in r.views],
            "tests_passed": loaded.tests_passed, "warnings": loaded.warnings,
            "seconds": {k: round(v, 3) for k, v in seconds.items()},
        }
        if not args.quiet:
            print(json.dumps(summary), flush=True)
    elif not unpublished:  # else the error line below ends it
        phases = ", ".join(f"{k} {v:.1f}" for k, v in seconds.items() if k != "total")
        periods = ", ".join(r.ds.isoformat() for r in reports)
        demo = " (demo data)" if any(r.demo for r in reports) else ""
        reporter.event("done", f"done{demo} in {seconds.get('total', 0):.1f} s for ds {periods} ({phases})")
        if not settings.database_url:
            from dataflow.warehouse import embedded

            reporter.event("hint", f"query it: psql '{embedded().dsn(with_password=False)}'")
    if unpublished:
        print(f"error: {redact.text(not_published(unpublished))}", file=sys.stderr)
        return 1
    return 0


def extracts_summary(extracts: dict[str, dict]) -> list[str]:
    """How a run fetched its datasets, in a few words: 'full', what the incremental ones
    fetched, or which it reused (an Airflow catch-up run)."""
    reused = sorted(name for name, e in extracts.items() if e["mode"] == "reused")
    fetched = {name: e for name, e in extracts.items() if name not in reused}
    parts = []
    incremental = {name: e for name, e in fetched.items() if e["mode"] == "incremental"}
    if fetched and not incremental:
        parts.append("full")
    elif incremental:
        counts = (f"{sum(e['fetched'] for e in incremental.values()):,} fetched, "
                  f"{sum(e['inserted'] for e in incremental.values()):,} new, "
                  f"{sum(e['updated'] for e in incremental.values()):,} changed")
        full = sorted(set(fetched) - set(incremental))
        parts.append(f"incremental ({counts})" + (f", full: {', '.join(full)}" if full else ""))
    if reused:
        parts.append("extract reused" if not fetched else f"reused: {', '.join(reused)}")
    return parts


def show_history(settings: Settings) -> int:
    from dataflow import history

    connection = warehouse.resolve(settings.database_url).connect()
    try:
        rows = history.rows(connection)
    finally:
        connection.close()
    if not rows:
        print("no runs yet")
        return 0
    print(f"{'run':<9}{'ds':<12}{'started (UTC)':<21}{'seconds':>8}  {'status':<8}{'rows':>10}  views / error")
    for row in rows:
        took = (row["finished_at"] - row["started_at"]).total_seconds() if row["finished_at"] else 0.0
        detail = "; ".join([*(["demo data"] if row["demo"] else []), *extracts_summary(row["extracts"]),
                            row["error"] or ", ".join(row["views"]) or "-", *row["notes"]])
        total = sum(row["rows"].values())
        print(f"{str(row['run_id'])[:8]:<9}{row['ds'].isoformat():<12}"
              f"{row['started_at'].astimezone(dt.UTC):%Y-%m-%d %H:%M:%S}  {took:>7.1f}  {row['status']:<8}"
              f"{total:>10,}  {detail}")
    return 0


def show_list(settings: Settings) -> int:
    """Datasets with their endpoints, views with their schedules, and the last successful runs."""
    from dataflow import history, schedule
    from dataflow.audit import run_units
    from dataflow.dbt_project import DbtProject, built_from, derived_tables
    from dataflow.plan import latest_month
    from extract.sources.datahub import load_datasets

    target = warehouse.resolve(settings.database_url)
    connection = target.connect()
    try:
        loaded, built = history.last_success(connection)
    finally:
        connection.close()
    project = DbtProject(latest_month(dt.datetime.now(dt.UTC)).isoformat(), target, settings)
    project.parse()
    print("datasets")
    for name, dataset in load_datasets().items():
        when = loaded.get(name)
        print(f"  {name:<30} {dataset.endpoint:<45} last loaded: "
              f"{when.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC" if when else
              f"  {name:<30} {dataset.endpoint:<45} last loaded: never")
    print("views")
    for name in project.names("views"):
        scheduled = schedule.from_meta(name, project.models[name].meta)
        relations = [ds for relation, ds in built.items() if relation.startswith(name + "_")]
        last = max(relations).isoformat() if relations else "never"
        end = f" to {scheduled.end}" if scheduled.end else ""
        print(f"  {name:<30} {scheduled.expression:<10} from {scheduled.start}{end:<14} last built ds: {last}")
    print("publish units (each published in one transaction, or held back whole with the units joined from it)")
    tables = built_from(derived_tables(project.models), project.names("datasets"))
    for unit in run_units(project, tables, project.names("views")):
        print(f"  {unit.summary()}")
    return 0


def docs(settings: Settings) -> int:
    """Generate the dbt docs site, raw sources included, as one static HTML file."""
    from dataflow.dbt_project import DbtProject, target_path
    from dataflow.plan import latest_month

    target = warehouse.resolve(settings.database_url)
    target.connect().close()
    project = DbtProject(latest_month(dt.datetime.now(dt.UTC)).isoformat(), target, settings)
    project.docs()
    print(f"dbt docs written to {target_path('public') / 'static_index.html'} (open it in a browser)")
    return 0


def run_dbt(settings: Settings, dbt_args: list[str]) -> int:
    """dbt's own CLI against the job's warehouse (DATABASE_URL, or the embedded server): the
    connection variables of profiles.yml are filled in, as the job fills them."""
    import subprocess

    from dataflow.dbt_project import PUBLISHED_SCHEMA, dbt_environment
    from dataflow.settings import PROJECT_ROOT, work_dir

    target = warehouse.resolve(settings.database_url)
    environment = {
        # dbt's files go to the work dir (docs serve reads what docs generate wrote there).
        "DBT_TARGET_PATH": str(work_dir() / "dbt" / "manual"), "DBT_LOG_PATH": str(work_dir() / "dbt" / "logs"),
        **os.environ, **dbt_environment(target, settings, PUBLISHED_SCHEMA),
    }
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt) if dbt.exists() else "dbt", *dbt_args]
    return subprocess.run(command, cwd=PROJECT_ROOT, env=environment, check=False).returncode


def configure_logging() -> None:
    """Our warnings (retries, clock skew) as plain lines on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("  warning  %(message)s"))
    logger = logging.getLogger("data_flow")
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False


def main(argv: list[str] | None = None) -> int:
    verbose = "--verbose" in (argv if argv is not None else sys.argv[1:])
    if verbose:
        os.environ["DATAFLOW_VERBOSE"] = "1"  # libraries' own logs too
    configure_logging()
    if not isinstance(sys.stdout, ReaderGone):
        sys.stdout = ReaderGone(sys.stdout)  # type: ignore[assignment] - a TextIO in all but name
    try:
        args = build_parser().parse_args(argv)
        settings = from_environment(demo=args.demo)
        redact.register_settings(settings)
        if args.command == "dbt":
            return run_dbt(settings, args.dbt_args)
        if args.dbt_args:
            raise UsageError(f"unrecognized arguments: {' '.join(args.dbt_args)}")
        if args.command == "docs":
            return docs(settings)
        if args.command == "history":
            return show_history(settings)
        if args.list:
            return show_list(settings)
        settings.require_configured()
        return run(args, settings)
    except KeyboardInterrupt:
        print("error: interrupted; nothing was published", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - every failure ends as one line
        if verbose:
            import traceback

            print(redact.text(traceback.format_exc()), file=sys.stderr)
        message, code = describe(exc)
        print(f"error: {redact.text(message)}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
