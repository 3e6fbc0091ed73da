"""Publish audited datasets: every published table is refreshed in one transaction.

The published tables are never dropped or renamed: their rows are deleted and the
audited rows (the audit table, converted and held to the contract when dbt built it)
inserted, all datasets inside one transaction. So readers see the old data or the new,
never a mix or an empty table; the tables keep their OIDs, grants, indexes and every
view built on them (all earlier period views); and a failure at any point, including a
kill -9, leaves them exactly as they were. The published tables' own NOT NULL and
varchar lengths are checked again on the insert: a violation rolls everything back.

A published table is created from the model's contract the first time. After that, a
contract that no longer matches it (a changed mapping) is refused with the difference
named: changing a published column's type is a migration someone must decide on, never
something a run does silently.

After an incremental extract, a dataset whose model names its key is audited from the
changed rows only (`dataflow.delta`): its publish deletes the changed keys and inserts the
changed rows, in the same transaction, and records in `dataflow.publish_state` the raw
load it published up to. Its table then equals what a full rebuild would have made.

Only tables that passed their audit are published: the audit schema must carry the
certificate of the audit id asked for (`audit.certify`). Each publish is logged, in the
same transaction, in `dataflow.publish_log` under that id: a publish retried after it
committed (a scheduler retrying a task whose worker died after the commit) finds its
own entry and reports what was published, without publishing anything again.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from psycopg2 import sql
from psycopg2.extensions import connection

from dataflow import delta
from dataflow.audit import certified
from dataflow.errors import RunError
from dataflow.failures import describe
from dataflow.warehouse import Target

Column = tuple[str, str, bool]  # name, data type, not null

COLUMNS_SQL = """
    select a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
    from pg_attribute a
    where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped
    order by a.attnum
"""


LOG_TABLE = "dataflow.publish_log"
LOG_DDL = f"""
create schema if not exists dataflow;
create table if not exists {LOG_TABLE} (
    audit_id text primary key,
    published_at timestamp with time zone not null default now(),
    rows jsonb not null
);
"""


class SchemaChangeError(RunError):
    """A dataset whose contract differs from its published table."""


@dataclass(frozen=True)
class Published:
    dataset: str
    rows: int
    created: bool
    repeated: bool = False  # published by an earlier attempt of the same audit id
    changed: int | None = None  # rows replaced or added by key (an incremental publish); None: all

    @property
    def needs_statistics(self) -> bool:
        """Whether to ANALYZE now: a small change is left to autovacuum, as PostgreSQL would."""
        return self.changed is None or self.changed >= delta.ANALYZE_SHARE * max(self.rows, 1)


def table_columns(conn: connection, qualified: str) -> list[Column]:
    with conn.cursor() as cursor:
        cursor.execute(COLUMNS_SQL, (qualified,))
        return cursor.fetchall()


def definition(columns: list[Column]) -> sql.Composable:
    return sql.SQL(", ").join(
        sql.SQL("{} {}{}").format(
            sql.Identifier(name), sql.SQL(data_type), sql.SQL(" not null" if not_null else "")
        )
        for name, data_type, not_null in columns
    )


def describe_difference(dataset: str, published: list[Column], expected: list[Column]) -> str:
    old = {name: (kind, not_null) for name, kind, not_null in published}
    new = {name: (kind, not_null) for name, kind, not_null in expected}
    changes = []
    for name in new:
        if name not in old:
            changes.append(f"new column {name}")
        elif old[name] != new[name]:
            before = old[name][0] + (" not null" if old[name][1] else "")
            after = new[name][0] + (" not null" if new[name][1] else "")
            changes.append(f"{name} {before} -> {after}")
    changes += [f"column {name} removed" for name in old if name not in new]
    if not changes:
        changes.append("column order changed")
    return (
        f"{dataset}: the mapping no longer matches the published table ({'; '.join(changes)}); "
        "nothing was published. Migrate the published table (and its views) deliberately first"
    )


def logged(conn: connection, audit_id: str) -> list[Published] | None:
    """What an earlier publish of `audit_id` published, or None."""
    with conn.cursor() as cursor:
        cursor.execute("select to_regclass(%s)", (LOG_TABLE,))
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute(f"select rows from {LOG_TABLE} where audit_id = %s", (audit_id,))
        row = cursor.fetchone()
    if row is None:
        return None
    return [Published(dataset, rows, created=False, repeated=True) for dataset, rows in row[0].items()]


def publish(
    conn: connection, contracts: dict[str, list[Column]], audit_schema: str, published_schema: str, audit_id: str
) -> list[Published]:
    """Insert every audited dataset into its published table, all in one transaction.

    The audit schema is dropped in the same transaction: once published, the audited rows
    are gone. A publish retried after its commit returns the logged result (each item
    `repeated`); any other publish without audited rows certified for `audit_id` fails."""
    done = []
    try:
        with conn.cursor() as cursor:
            certificate = certified(conn, audit_schema)
            if certificate != audit_id:
                earlier = logged(conn, audit_id)
                if earlier is not None:
                    conn.rollback()
                    return earlier
                if certificate is None:
                    raise RunError("no audited rows to publish (published already, or the audit did not pass)")
                raise RunError(f"the audited tables are another run's (audit {certificate}, not {audit_id}); "
                               "nothing was published")
            cursor.execute(LOG_DDL)
            scopes = delta.read_scope(conn, audit_schema)
            for dataset, contract in contracts.items():
                if not table_columns(conn, f'"{audit_schema}"."{dataset}"'):
                    raise RunError(f"{dataset} has no audited rows to publish (it was not audited)")
                target = sql.Identifier(published_schema, dataset)
                # PostgreSQL itself spells the contract's types (decimal -> numeric, ...).
                shape = sql.Identifier(f"contract_{dataset}")
                cursor.execute(sql.SQL("create temp table {} ({}) on commit drop").format(shape, definition(contract)))
                expected = table_columns(conn, f'pg_temp."contract_{dataset}"')
                published = table_columns(conn, f'"{published_schema}"."{dataset}"')
                if not published:
                    cursor.execute(sql.SQL("create table {} ({})").format(target, definition(contract)))
                elif published != expected:
                    raise SchemaChangeError(describe_difference(dataset, published, expected))
                columns = sql.SQL(", ").join(sql.Identifier(name) for name, _, _ in contract)
                scope = scopes.get(dataset)
                if published and scope is not None and scope.delta:
                    done.append(_merge(cursor, dataset, target, columns, audit_schema, scope.key))
                    continue
                source = sql.Identifier(audit_schema, dataset)
                cursor.execute(sql.SQL("delete from {}").format(target))
                cursor.execute(
                    sql.SQL("insert into {} ({}) select {} from {}").format(target, columns, columns, source)
                )
                done.append(Published(dataset, cursor.rowcount, created=not published))
            delta.record_published(cursor, [scopes[item.dataset] for item in done if item.dataset in scopes])
            cursor.execute(
                f"insert into {LOG_TABLE} (audit_id, rows) values (%s, %s)",
                (audit_id, json.dumps({item.dataset: item.rows for item in done})),
            )
            cursor.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(audit_schema)))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return done


def summary(items: list[Published]) -> str:
    """'omis_dataset (105,000; 1,050 by key), contacts (140,000)': rows, and those merged by key."""
    return ", ".join(
        f"{item.dataset} ({item.rows:,}" + (f"; {item.changed:,} by key)" if item.changed is not None else ")")
        for item in items
    )


def _merge(
    cursor: Any, dataset: str, target: sql.Composable, columns: sql.Composable, audit_schema: str, key: str
) -> Published:
    """Publish an audit built from the changed rows only: delete their keys, insert them."""
    changes = sql.Identifier(audit_schema, f"{dataset}__changes")
    cursor.execute(sql.SQL("delete from {} as published using {} as changed where published.{} = changed.{}").format(
        target, changes, sql.Identifier(key), sql.Identifier(key)))
    cursor.execute(sql.SQL("insert into {} ({}) select {} from {}").format(target, columns, columns, changes))
    changed = cursor.rowcount
    cursor.execute(sql.SQL("select count(*) from {}").format(target))
    return Published(dataset, cursor.fetchone()[0], created=False, changed=changed)


def refresh_statistics(target: Target, tables: list[str], schema: str) -> list[str]:
    """ANALYZE the published tables, one connection each, in parallel; a warning per failure.

    Analysts' first queries after a run need planner statistics of the new rows, so they are
    taken at once rather than left to autovacuum. The data is published already, so a
    failure here is a warning, not an error."""

    def analyze(table: str) -> None:
        conn = target.connect()
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(sql.SQL("analyze {}").format(sql.Identifier(schema, table)))
        finally:
            conn.close()

    warnings = []
    with ThreadPoolExecutor(max_workers=max(len(tables), 1), thread_name_prefix="analyze") as pool:
        futures = {table: pool.submit(analyze, table) for table in tables}
    for table, future in futures.items():
        if future.exception() is not None:
            warnings.append(f"{table}: statistics not refreshed ({describe(future.exception())[0]})")
    return warnings
