"""Settings read from the environment, under the old Airflow project's names.

Everything a run needs is resolved here once, validated, and handed on as a frozen
object, so a bad value fails before anything touches the database. Secrets are
wrapped so that printing, logging or raising with a settings object never shows them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dataflow.errors import UsageError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / ".data"


#: Every environment variable data-flow reads, with its meaning. The README's configuration
#: table documents each of them (a test checks that).
VARIABLES = {
    "DATAHUB_BASE_URL": "Data Hub root URL; the dataset paths are appended",
    "HAWK_ID": "Hawk credentials id; required with DATAHUB_BASE_URL",
    "HAWK_KEY": "Hawk credentials key; required with DATAHUB_BASE_URL; never printed",
    "HAWK_ALGORITHM": "sha256 or sha1",
    "DATAHUB_CA_BUNDLE": "CA certificates (PEM file) to verify Data Hub's TLS certificate with",
    "REQUESTS_CA_BUNDLE": "the same, as requests reads it (used when DATAHUB_CA_BUNDLE is unset)",
    "SSL_CERT_FILE": "the same, as OpenSSL reads it (used when neither of the two above is set)",
    "DATAHUB_REQUEST_TIMEOUT": "seconds to wait for one Data Hub response",
    "DATAHUB_RETRY_SECONDS": "at most this long retrying one request's transient faults, waits included",
    "DATAHUB_MAX_PAGES": "at most this many pages per dataset: pagination that does not end stops there",
    "DATABASE_URL": "target warehouse, postgresql://user:password@host:port/db",
    "FINANCIAL_YEAR_FIRST_MONTH_DAY": "MM-DD first day of the financial year",
    "INGEST_TASK_CONCURRENCY": "dlt normalize workers (and at least this many fetch threads)",
    "DATAFLOW_WORK_DIR": "scratch space for dlt load packages, dbt artefacts and logs",
    "DATAFLOW_PROGRESS_SECONDS": "seconds between progress lines when output is not a terminal",
    "DATAFLOW_AUDIT_HOLD_MINUTES": "an audit awaiting its publish keeps other runs' audits out this long",
}

#: The variables only the Airflow DAGs read; docs/airflow.md documents each (a test checks that).
AIRFLOW_VARIABLES = {
    "DATAFLOW_AIRFLOW_CATCHUP": "catch up from each view's start date (true; false in make airflow)",
    "DATAFLOW_AIRFLOW_DEMO": "true: a task with no warehouse and Data Hub configured runs the demo "
                             "(make airflow sets it); otherwise it fails",
    "DATAFLOW_AIRFLOW_TASK_TIMEOUT_MINUTES": "each task's execution_timeout (default 120)",
    "DATAFLOW_AIRFLOW_RUN_TIMEOUT_HOURS": "each DAG run's dagrun_timeout (default 12)",
    "DATAFLOW_AIRFLOW_EXTRACT_REUSE_MINUTES": "a dataset extracted less than this long ago is not fetched "
                                              "again (default 120; 0: always fetch)",
    # Single sign-on for the UI and REST API (dataflow/sso.py), the old system's names.
    "AUTHBROKER_URL": "the OpenID Connect provider's base URL; set: single sign-on is on",
    "AUTHBROKER_CLIENT_ID": "the client id Airflow is registered under at the provider",
    "AUTHBROKER_CLIENT_SECRET": "its client secret",
    "AUTHBROKER_ALLOWED_DOMAINS": "comma-separated e-mail domains whose people may sign in",
    "AUTHBROKER_DEFAULT_ROLE": "the role of a new user (default Viewer)",
    "AUTHBROKER_ADMIN_EMAILS": "comma-separated e-mails of the people who get Admin",
}

#: The variables profiles.yml reads: `orchestrate.py` sets them from DATABASE_URL (or the
#: embedded server); a user running plain `dbt` sets them.
DBT_VARIABLES = {
    "DATAFLOW_DB_HOST": "host name or socket directory (default localhost)",
    "DATAFLOW_DB_PORT": "port (default 5432)",
    "DATAFLOW_DB_USER": "user (default postgres)",
    "DBT_ENV_SECRET_DATAFLOW_DB_PASSWORD": "password (default none); dbt scrubs it from its logs",
    "DATAFLOW_DB_NAME": "database (default postgres)",
    "DATAFLOW_DB_SCHEMA": "schema of the published tables and views (default public)",
}

#: Under Airflow, the pool that bounds concurrent requests to Data Hub (one extract task has
#: one page in flight); `make airflow` sizes it with INGEST_TASK_CONCURRENCY.
AIRFLOW_POOL = "datahub_api"

#: The certificate variables, in the order they are looked at.
CA_BUNDLE_VARIABLES = ("DATAHUB_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


def work_dir() -> Path:
    """Scratch space for dlt and dbt (load packages, manifests, logs); DATAFLOW_WORK_DIR overrides."""
    return Path(os.environ.get("DATAFLOW_WORK_DIR") or DATA_DIR)


DEFAULT_ALGORITHM = "sha256"
DEFAULT_FINANCIAL_YEAR_FIRST_MONTH_DAY = "04-01"
DEFAULT_CONCURRENCY = 2
DEFAULT_REQUEST_TIMEOUT = 60.0
DEFAULT_RETRY_SECONDS = 120.0
#: 100,000 pages: ten times the largest dataset at Data Hub's default page size of 100
#: (interactions are asked for 10,000 a page), and a bound on a server that pages for ever.
DEFAULT_MAX_PAGES = 100_000
#: How long a certified audit waits for its own publish before another run may replace it.
DEFAULT_AUDIT_HOLD_MINUTES = 60.0
SUPPORTED_ALGORITHMS = ("sha256", "sha1")


class Secret:
    """A string that never shows its value in repr/str, so it cannot leak into logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class Settings:
    datahub_base_url: str | None
    hawk_id: str | None
    hawk_key: Secret | None
    hawk_algorithm: str
    financial_year_first_month_day: str
    concurrency: int
    database_url: Secret | None
    request_timeout: float
    retry_seconds: float
    ca_bundle: str | None = None  # None: the CA certificates requests ships (certifi)
    demo: bool = False  # the local stand-in's demo data, not a configured Data Hub
    max_pages: int = DEFAULT_MAX_PAGES  # per dataset
    audit_hold_minutes: float = DEFAULT_AUDIT_HOLD_MINUTES

    def require_configured(self) -> None:
        """Refuse a half-configured run: a warehouse without a Data Hub, or the reverse, would
        otherwise load the stand-in's demo data into a real warehouse (or real data nowhere)."""
        if self.demo or bool(self.datahub_base_url) == bool(self.database_url):
            return
        present, missing = (
            ("DATABASE_URL", "DATAHUB_BASE_URL") if self.database_url else ("DATAHUB_BASE_URL", "DATABASE_URL")
        )
        raise UsageError(
            f"{missing} is not set but {present} is: set both for a real run, neither (or --demo) for the demo"
        )


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise UsageError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise UsageError(f"{name} must be at least 1, got {value}")
    return value


def _positive_float(name: str, raw: str, unit: str = "seconds") -> float:
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"{name} must be a number of {unit}, got {raw!r}") from None
    if value <= 0:
        raise UsageError(f"{name} must be greater than 0, got {raw!r}")
    return value


def validate_month_day(raw: str) -> str:
    """Check an MM-DD financial-year start; 02-29 is refused because most years lack it."""
    match = re.fullmatch(r"(\d{2})-(\d{2})", raw)
    days_in_month = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    if not match:
        raise UsageError(f"FINANCIAL_YEAR_FIRST_MONTH_DAY must be MM-DD, got {raw!r}")
    month, day = int(match[1]), int(match[2])
    if not (1 <= month <= 12 and 1 <= day <= days_in_month[month - 1]):
        raise UsageError(f"FINANCIAL_YEAR_FIRST_MONTH_DAY is not a day of every year: {raw!r}")
    return raw


def validate_base_url(raw: str) -> str:
    """Accept only an absolute http(s) URL; the dataset paths are appended to it."""
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError("DATAHUB_BASE_URL must be an http(s) URL such as https://datahub.example")
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise UsageError("DATAHUB_BASE_URL has an invalid port") from None
    return raw.rstrip("/")


def ca_bundle(env: dict[str, str]) -> str | None:
    """The CA certificates file to verify Data Hub with, from the first variable set."""
    for name in CA_BUNDLE_VARIABLES:
        path = env.get(name)
        if path:
            if not Path(path).is_file():
                raise UsageError(f"{name} names no readable file: {path}")
            return path
    return None


def from_environment(env: dict[str, str] | None = None, demo: bool = False) -> Settings:
    """Read and validate the settings; raise UsageError with a one-line reason.

    With `demo`, the local stand-in is used whatever DATAHUB_BASE_URL says; without any
    Data Hub or warehouse configured, the run is a demo too."""
    env = dict(os.environ if env is None else env)
    if demo:
        env.pop("DATAHUB_BASE_URL", None)
    base_url = env.get("DATAHUB_BASE_URL") or None
    hawk_id = env.get("HAWK_ID") or None
    hawk_key = env.get("HAWK_KEY") or None
    if base_url is not None:
        base_url = validate_base_url(base_url)
        if not hawk_id or not hawk_key:
            missing = " and ".join(n for n, v in (("HAWK_ID", hawk_id), ("HAWK_KEY", hawk_key)) if not v)
            raise UsageError(f"{missing} must be set when DATAHUB_BASE_URL is set")
    algorithm = env.get("HAWK_ALGORITHM") or DEFAULT_ALGORITHM
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise UsageError(f"HAWK_ALGORITHM must be one of {', '.join(SUPPORTED_ALGORITHMS)}")
    database_url = env.get("DATABASE_URL") or None
    if database_url is not None and urlsplit(database_url).scheme not in ("postgresql", "postgres"):
        raise UsageError("DATABASE_URL must start with postgresql://")
    return Settings(
        datahub_base_url=base_url,
        hawk_id=hawk_id,
        hawk_key=Secret(hawk_key) if hawk_key else None,
        hawk_algorithm=algorithm,
        financial_year_first_month_day=validate_month_day(
            env.get("FINANCIAL_YEAR_FIRST_MONTH_DAY") or DEFAULT_FINANCIAL_YEAR_FIRST_MONTH_DAY
        ),
        concurrency=_positive_int(
            "INGEST_TASK_CONCURRENCY", env.get("INGEST_TASK_CONCURRENCY") or str(DEFAULT_CONCURRENCY)
        ),
        database_url=Secret(database_url) if database_url else None,
        request_timeout=_positive_float(
            "DATAHUB_REQUEST_TIMEOUT", env.get("DATAHUB_REQUEST_TIMEOUT") or str(DEFAULT_REQUEST_TIMEOUT)
        ),
        retry_seconds=_positive_float(
            "DATAHUB_RETRY_SECONDS", env.get("DATAHUB_RETRY_SECONDS") or str(DEFAULT_RETRY_SECONDS)
        ),
        ca_bundle=ca_bundle(env),
        demo=demo or not (base_url or database_url),
        max_pages=_positive_int("DATAHUB_MAX_PAGES", env.get("DATAHUB_MAX_PAGES") or str(DEFAULT_MAX_PAGES)),
        audit_hold_minutes=_positive_float("DATAFLOW_AUDIT_HOLD_MINUTES", env.get("DATAFLOW_AUDIT_HOLD_MINUTES")
                                           or str(DEFAULT_AUDIT_HOLD_MINUTES), "minutes"),
    )
