"""The publish stage on its own, as a scheduler would call it: one transaction per publish
unit, only units whose audit passed for the run asking, a unit that fails leaves the others
published, and a retry never publishes anything a second time."""

from __future__ import annotations

import psycopg2
import pytest
from runner import fetch

from dataflow.errors import RunError
from dataflow.publish import publish

CONTRACT = [("id", "integer", True), ("name", "text", False)]


def published_rows(url: str) -> list[tuple]:
    return fetch(url, "select id, name from public.facts order by id")[1]


def certify(url: str, audit_id: str, units: dict[str, list[str]], failed: dict[str, str] | None = None) -> None:
    """The certificate an audit writes (dataflow.audit.certify), written here by hand."""
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("drop table if exists public_audit._dataflow_audit")
        cursor.execute("create table public_audit._dataflow_audit "
                       "(audit_id text, unit text primary key, tables text[], reason text)")
        for unit, tables in units.items():
            cursor.execute("insert into public_audit._dataflow_audit values (%s, %s, %s, %s)",
                           (audit_id, unit, tables, (failed or {}).get(unit)))


@pytest.fixture
def audited(database: str) -> str:
    """A published table with two rows, and an audit table holding three new ones: one unit."""
    with psycopg2.connect(database) as connection, connection.cursor() as cursor:
        cursor.execute("create table public.facts (id integer not null, name text)")
        cursor.execute("insert into public.facts values (1, 'old'), (2, 'old')")
        cursor.execute("create schema public_audit")
        cursor.execute("create table public_audit.facts as select n as id, 'new' as name from generate_series(1, 3) n")
    certify(database, "run-1", {"facts": ["facts"]})
    return database


def test_publish_replaces_the_rows_keeps_the_table_and_drops_the_audit(audited: str):
    oid = fetch(audited, "select 'public.facts'::regclass::oid::bigint")[1]
    with psycopg2.connect(audited) as connection:
        done = publish(connection, {"facts": CONTRACT}, "public_audit", "public", "run-1")
    assert [(item.dataset, item.rows, item.created, item.unit) for item in done.items] == [("facts", 3, False, "facts")]
    assert done.unpublished == {}
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
    assert [(item.dataset, item.rows, item.repeated) for item in again.items] == [("facts", 3, True)]
    assert published_rows(audited) == after_first
    assert fetch(audited, "select audit_id, unit, rows from dataflow.publish_log")[1] \
        == [("run-1", "facts", {"facts": 3})]
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


def test_a_failing_table_rolls_back_its_unit_and_not_the_others(audited: str):
    """Per unit, one transaction: a table of unit `both` without audited rows undoes that
    unit's refresh of `facts`; the unrelated unit `more` is published all the same."""
    with psycopg2.connect(audited) as connection, connection.cursor() as cursor:
        cursor.execute("create table public.more (id integer not null, name text)")
        cursor.execute("create table public_audit.more as select 7 as id, 'new' as name")
    certify(audited, "run-1", {"both": ["facts", "other"], "more": ["more"]})
    with psycopg2.connect(audited) as connection:
        done = publish(connection, {"facts": CONTRACT, "other": CONTRACT, "more": CONTRACT},
                       "public_audit", "public", "run-1")
    assert [(item.dataset, item.unit) for item in done.items] == [("more", "more")]
    assert done.unpublished == {"both": "other has no audited rows to publish (it was not audited)"}
    assert published_rows(audited) == [(1, "old"), (2, "old")]
    assert fetch(audited, "select id, name from public.more")[1] == [(7, "new")]
    assert fetch(audited, "select count(*) from public_audit.facts")[1] == [(3,)], "left for inspection"
    assert fetch(audited, "select unit from dataflow.publish_log")[1] == [("more",)]


def test_units_the_audit_failed_are_named_and_not_published(audited: str):
    with psycopg2.connect(audited) as connection, connection.cursor() as cursor:
        cursor.execute("create table public_audit.more as select 7 as id, 'new' as name")
    certify(audited, "run-1", {"facts": ["facts"], "more": ["more"]}, failed={"more": "dbt build failed: x"})
    with psycopg2.connect(audited) as connection:
        done = publish(connection, {"facts": CONTRACT, "more": CONTRACT}, "public_audit", "public", "run-1")
    assert [item.dataset for item in done.items] == ["facts"]
    assert (done.unpublished, done.held_back) == ({"more": "dbt build failed: x"}, ["more"])
    assert fetch(audited, "select to_regclass('public.more') is null")[1] == [(True,)]
    # A retry publishes nothing again and names the same unit.
    with psycopg2.connect(audited) as connection:
        again = publish(connection, {"facts": CONTRACT, "more": CONTRACT}, "public_audit", "public", "run-1")
    assert [(item.dataset, item.repeated) for item in again.items] == [("facts", True)]
    assert again.unpublished == {"more": "dbt build failed: x"}


def test_a_retry_after_some_units_committed_publishes_the_rest(audited: str):
    """A worker dying between two units' commits: the retry publishes the second only."""
    with psycopg2.connect(audited) as connection, connection.cursor() as cursor:
        cursor.execute("create table public_audit.more as select 7 as id, 'new' as name")
    certify(audited, "run-1", {"facts": ["facts"], "more": ["more"]})

    class DiesAtMore(dict):
        """Contracts whose lookup of `more` ends the process, as a worker dying there would."""

        def __getitem__(self, key: str) -> object:
            if key == "more":
                raise SystemExit("the worker died")
            return super().__getitem__(key)

    with psycopg2.connect(audited) as connection, pytest.raises(SystemExit):  # the first unit committed
        publish(connection, DiesAtMore(facts=CONTRACT, more=CONTRACT), "public_audit", "public", "run-1")
    with psycopg2.connect(audited) as connection:
        retried = publish(connection, {"facts": CONTRACT, "more": CONTRACT}, "public_audit", "public", "run-1")
    assert [(item.dataset, item.repeated) for item in retried.items] == [("facts", True), ("more", False)]
    assert fetch(audited, "select unit from dataflow.publish_log order by unit")[1] == [("facts",), ("more",)]


def test_a_publish_log_from_before_units_is_migrated(audited: str):
    with psycopg2.connect(audited) as connection, connection.cursor() as cursor:
        cursor.execute("create schema dataflow")
        cursor.execute("create table dataflow.publish_log (audit_id text primary key, "
                       "published_at timestamp with time zone not null default now(), rows jsonb not null)")
        cursor.execute("""insert into dataflow.publish_log (audit_id, rows) values ('run-0', '{"facts": 2}')""")
    with psycopg2.connect(audited) as connection:
        publish(connection, {"facts": CONTRACT}, "public_audit", "public", "run-1")
    assert fetch(audited, "select audit_id, unit from dataflow.publish_log order by audit_id")[1] \
        == [("run-0", "all"), ("run-1", "facts")]
