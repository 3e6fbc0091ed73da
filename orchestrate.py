"""data-flow: Data Hub datasets -> PostgreSQL warehouse -> monthly report views.

    python orchestrate.py --ds 2019-08-01     extract, audit, publish datasets and views for ds
    python orchestrate.py docs                 write the dbt docs site (lineage)

Configuration comes from the environment (see .env.example). Failures end with one
line on stderr and a non-zero exit: 2 for usage errors, 3 when another run holds the
database, 1 for a run that failed. A failed run publishes nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys

from extract.memory import limit_allocators

limit_allocators()  # before anything imports pyarrow

from extract import config, database, redact  # noqa: E402
from extract.errors import UsageError  # noqa: E402
from extract.failures import describe  # noqa: E402
from extract.report import FORMATS, Reporter  # noqa: E402

EPILOG = (
    "Environment: DATABASE_URL, DATAHUB_BASE_URL, HAWK_ID, HAWK_KEY, HAWK_ALGORITHM, "
    "FINANCIAL_YEAR_FIRST_MONTH_DAY, INGEST_TASK_CONCURRENCY, DATAHUB_REQUEST_TIMEOUT."
)


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but usage errors are our one-line UsageError (exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def parse_ds(text: str | None, today: dt.date | None = None) -> dt.date:
    """The run's ds; by default the latest completed month, as Airflow would schedule it."""
    today = today or dt.datetime.now(dt.UTC).date()
    if text is None:
        last_month_end = today.replace(day=1) - dt.timedelta(days=1)
        return last_month_end.replace(day=1)
    try:
        if len(text) != 10:
            raise ValueError
        ds = dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--ds must be a date YYYY-MM-DD, got {text!r}") from None
    if ds > today:
        raise UsageError(f"--ds {text} is in the future")
    return ds


def name_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected comma-separated names")
    return names


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="orchestrate.py", description=__doc__.splitlines()[0], epilog=EPILOG)
    parser.add_argument("command", nargs="?", choices=["run", "docs"], default="run")
    parser.add_argument("--ds", help="logical date YYYY-MM-DD (default: the latest completed month)")
    parser.add_argument("--datasets", type=name_list, help="comma-separated datasets to load (default: all)")
    parser.add_argument("--views", type=name_list, help="comma-separated views to build (default: all)")
    parser.add_argument(
        "--allow-shrink", action="store_true",
        help="publish a dataset even if it has under 90%% of the published rows",
    )
    parser.add_argument(
        "--null-columns", choices=["warn", "fail"], default="warn",
        help="what a column NULL in every row does (default: warn)",
    )
    parser.add_argument("--log-format", choices=FORMATS, default="text", help="text (default) or json lines")
    parser.add_argument("--quiet", action="store_true", help="print nothing but warnings and errors (for cron)")
    parser.add_argument("--verbose", action="store_true", help="show tracebacks of failures")
    return parser


def run(args: argparse.Namespace, ds: dt.date, settings: config.Settings) -> int:
    """Extract, audit (contracts, dbt tests, quality gate), publish, build the views."""
    from extract.run import RunOptions
    from extract.run import run as run_job

    reporter = Reporter(args.log_format, args.quiet)
    options = RunOptions(args.datasets, args.views, args.allow_shrink, args.null_columns)
    report = run_job(ds, settings, options, reporter)
    phases = ", ".join(f"{k} {v:.1f}" for k, v in report.seconds.items() if k != "total")
    if args.log_format == "json":
        summary = {
            "event": "done", "status": "success", "ds": ds.isoformat(), "rows": report.rows,
            "pages": report.pages, "views": report.views, "tests_passed": report.tests_passed,
            "warnings": report.warnings, "seconds": {k: round(v, 3) for k, v in report.seconds.items()},
        }
        if not args.quiet:
            print(json.dumps(summary), flush=True)
    else:
        reporter.event("done", f"done in {report.seconds['total']:.1f} s ({phases})")
        if not settings.database_url:
            from extract.database import embedded

            reporter.event("hint", f"query it: psql '{embedded().dsn(with_password=False)}'")
    return 0


def docs(ds: dt.date, settings: config.Settings) -> int:
    """Generate the dbt docs site, raw sources included, as one static HTML file."""
    from extract.transform import DbtProject

    target = database.resolve(settings.database_url)
    target.connect().close()
    DbtProject(ds.isoformat(), target, settings).docs()
    path = config.work_dir() / "dbt" / "target" / "static_index.html"
    print(f"dbt docs written to {path} (open it in a browser)")
    return 0


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
    try:
        args = build_parser().parse_args(argv)
        settings = config.from_environment()
        redact.register_settings(settings)
        ds = parse_ds(args.ds)
        return docs(ds, settings) if args.command == "docs" else run(args, ds, settings)
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
