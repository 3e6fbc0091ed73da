"""The publish stage on its own, as a scheduler would call it: one transaction, only tables
whose audit passed for the run asking, and a retry after a successful publish never
publishes anything a second time."""

from __future__ import annotations

import psycopg2
import pytest
from runner import fetch

from dataflow.errors import RunError
from dataflow.publish import publish

CONTRACT = [("id", "integer", True), ("name", "text", False)]


def published_rows(url: str) -> list[tuple]:
    return fetch(url, "select id, name from public.facts order by id")[1]


@pytest.fixture
def audited(database: str) -> str:
    """A published table with two rows, and an audit table holding three new ones."""
    with psycopg2.connect(database) as connection, connection.cursor() as cursor:
        cursor.execute("create table public.facts (id integer not null, name text)")
        cursor.execute("insert into public.facts values (1, 'old'), (2, 'old')")
        cursor.execute("create schema public_audit")
        cursor.execute("create table public_audit.facts as select n as id, 'new' as name from generate_series(1, 3) n")
        cursor.execute("create table public_audit._dataflow_audit as select 'run-1' as audit_id")
    return database


def test_publish_replaces_the_rows_keeps_the_table_and_drops_the_audit(audited: str):
    oid = fetch(audited, "select 'public.facts'::regclass::oid::bigint")[1]
    with psycopg2.connect(audited) as connection:
        done = publish(connection, {"facts": CONTRACT}, "public_audit", "public", "run-1")
    assert [(item.dataset, item.rows, item.created) for item in done] == [("facts", 3, False)]
    assert published_rows(audited) == [(1, "new"), (2, "new"), (3, "new")]
    assert fetch(audited, "select 'public.facts'::regclass::oid::bigint")[1] == oid
    assert fetch(audited, "select count(*) from pg_namespace where nspname = 'public_audit'")[1] == [(0,)]


def test_a_retried_publish_publishes_nothing_twice(audited: str):
    """A retry of the same audit id after the commit reports the first publish's rows."""
    with psycopg2.connect(audited) as connection:
        publish(connection, {"facts": CONTRACT}, "public_audit", "public", "run-1")
    after_first = published_rows(audited)
    with psycopg2.connect(audited) as connection:
        again = publish(connection, {"facts": CONTRACT}, "public_audit", "public", "run-1")
    assert [(item.dataset, item.rows, item.repeated) for item in again] == [("facts", 3, True)]
    assert published_rows(audited) == after_first
    assert fetch(audited, "select audit_id, rows from dataflow.publish_log")[1] == [("run-1", {"facts": 3})]
    with psycopg2.connect(audited) as connection, pytest.raises(RunError, match="no audited rows to publish"):
        publish(connection, {"facts": CONTRACT}, "public_audit", "public", "run-2")
    assert published_rows(audited) == after_first


def test_only_the_certified_audit_is_published(audited: str):
    """Another run's audit, or tables whose audit never passed, publish nothing."""
    with psycopg2.connect(audited) as connection, pytest.raises(RunError, match="another run's"):
        publish(connection, {"facts": CONTRACT}, "public_audit", "public", "run-2")
    with psycopg2.connect(audited) as connection, connection.cursor() as cursor:
        cursor.execute("drop table public_audit._dataflow_audit")
    with psycopg2.connect(audited) as connection, pytest.raises(RunError, match="audit did not pass"):
        publish(connection, {"facts": CONTRACT}, "public_audit", "public", "run-1")
    assert published_rows(audited) == [(1, "old"), (2, "old")]


def test_a_failing_dataset_rolls_back_every_other(audited: str):
    """One transaction: the second dataset's missing audit table undoes the first's refresh."""
    with psycopg2.connect(audited) as connection, pytest.raises(RunError, match="other has no audited rows"):
        publish(connection, {"facts": CONTRACT, "other": CONTRACT}, "public_audit", "public", "run-1")
    assert published_rows(audited) == [(1, "old"), (2, "old")]
    assert fetch(audited, "select count(*) from public_audit.facts")[1] == [(3,)]
