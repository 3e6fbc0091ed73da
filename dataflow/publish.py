"""Publish audited datasets: each publish unit's tables are refreshed in one transaction.

The published tables are never dropped or renamed: their rows are deleted and the
audited rows (the audit table, converted and held to the contract when dbt built it)
inserted, all tables of a publish unit (`units.py`: a dataset and the derived tables
built from it) inside one transaction. So readers see the old data or the new, never a
mix, an empty table, or a derived table from other data than its datasets; the tables
keep their OIDs, grants, indexes and every view built on them (all earlier period
views); and a failure at any point, including a kill -9, leaves them exactly as they
were. The published tables' own NOT NULL and varchar lengths are checked again on the
insert: a violation rolls the unit back.

A published table is created from the model's contract the first time. After that, a
contract that no longer matches it (a changed mapping) is refused with the difference
named: changing a published column's type is a migration someone must decide on, never
something a run does silently. The one change a run makes itself is adding columns
declared at the end of the contract (new fields Data Hub sends), nullable, in the unit's
transaction: no reader's column changes and every view keeps its own.

After an incremental extract, a dataset whose model names its key is audited from the
changed rows only (`dataflow.delta`): its publish deletes the changed keys and inserts the
changed rows, in the same transaction, and records in `dataflow.publish_state` the raw
load it published up to. Its table then equals what a full rebuild would have made.

Only units that passed their audit are published: the audit schema's certificate must
name the unit as passed under the audit id asked for (`audit.certify`). Each unit's
publish is logged, in its transaction, in `dataflow.publish_log` under that id and the
unit's name, and its audited tables are dropped: a publish retried after some or all of
its units committed (a scheduler retrying a task whose worker died) publishes only the
others and reports the logged ones, without publishing anything twice. Units that failed
their audit are reported with their reason; their audited tables stay for inspection
until the next audit.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import connection

from dataflow import delta
from dataflow.audit import CERTIFICATE, Certified, certificate
from dataflow.errors import DataFlowError, RunError
from dataflow.failures import describe
from dataflow.units import joined_from_held, not_published
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
    audit_id text not null,
    unit text not null,
    published_at timestamp with time zone not null default now(),
    rows jsonb not null,
    project text,
    primary key (audit_id, unit)
);
alter table {LOG_TABLE} add column if not exists project text;
"""
#: A log written before publish units had one entry per audit: it becomes the unit 'all'.
LOG_MIGRATION = f"""
alter table {LOG_TABLE} add column unit text not null default 'all';
alter table {LOG_TABLE} drop constraint publish_log_pkey;
alter table {LOG_TABLE} add primary key (audit_id, unit);
alter table {LOG_TABLE} alter column unit drop default;
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
    unit: str = ""  # the publish unit it was published with
    added: tuple[str, ...] = ()  # columns added to the published table (new at the contract's end)

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


@dataclass
class Publication:
    """What one publish did: the tables published (each unit in its own transaction), and
    the units of the audit not published, with why."""

    items: list[Published] = field(default_factory=list)
    unpublished: dict[str, str] = field(default_factory=dict)
    held_back: list[str] = field(default_factory=list)  # the tables of the units not published


def ensure_log(conn: connection) -> None:
    """The publish log, in its current shape."""
    with conn.cursor() as cursor:
        cursor.execute(LOG_DDL)
        cursor.execute("select 1 from information_schema.columns where table_schema = 'dataflow' "
                       "and table_name = 'publish_log' and column_name = 'unit'")
        if cursor.fetchone() is None:
            cursor.execute(LOG_MIGRATION)
    conn.commit()


def logged(conn: connection, audit_id: str) -> list[Published]:
    """What earlier publishes of `audit_id` published, unit by unit."""
    with conn.cursor() as cursor:
        cursor.execute(f"select unit, rows from {LOG_TABLE} where audit_id = %s order by unit", (audit_id,))
        entries = cursor.fetchall()
    conn.commit()
    return [Published(dataset, rows, created=False, repeated=True, unit=unit)
            for unit, tables in entries for dataset, rows in tables.items()]


def publish(
    conn: connection, contracts: dict[str, list[Column]], audit_schema: str, published_schema: str, audit_id: str,
    project: str | None = None,
) -> Publication:
    """Publish every unit certified for `audit_id`, each unit's tables in one transaction.

    A publish retried after some units committed publishes the others and returns the
    logged ones as `repeated`; a publish with nothing certified for `audit_id` and nothing
    logged under it fails, as does one for another run's audit. A unit its published
    tables refuse (a changed contract, a row the table's constraints reject) is rolled
    back and named in `unpublished`, and the others go on; when no unit could be
    published, that is an error. `project` (the dbt project's digest) is logged with each
    unit: a later run knows which models built what is published."""
    ensure_log(conn)
    entries = certificate(conn, audit_schema)
    others = sorted({entry.audit_id for entry in entries if entry.audit_id != audit_id})
    earlier = logged(conn, audit_id)
    if others and not earlier:
        raise RunError(f"the audited tables are another run's (audit {others[0]}, not {audit_id}); "
                       "nothing was published")
    mine = [entry for entry in entries if entry.audit_id == audit_id]
    if not earlier and not any(entry.passed for entry in mine):
        raise RunError("no audited rows to publish (published already, or the audit did not pass)")
    result = Publication(items=earlier,
                         unpublished={entry.unit: entry.reason or "" for entry in mine if not entry.passed},
                         held_back=[table for entry in mine if not entry.passed for table in entry.tables])
    scopes = delta.read_scope(conn, audit_schema)
    for entry in mine:  # in the audit's order: a unit after the units it is joined from
        if not entry.passed:
            continue
        blocked = [unit for unit in entry.reads if unit in result.unpublished]
        try:
            if blocked:  # built from a unit its published tables refused: held back with it
                raise RunError(joined_from_held(blocked))
            result.items += _publish_unit(conn, entry, contracts, audit_schema, published_schema, scopes, project)
        except (DataFlowError, psycopg2.IntegrityError, psycopg2.DataError) as refused:  # this unit's own
            result.unpublished[entry.unit] = describe(refused)[0]
            result.held_back += entry.tables
            # No longer awaiting its publish: other runs may audit again (audit.refuse_while_awaiting_publish).
            with conn.cursor() as cursor:
                cursor.execute(sql.SQL("update {} set reason = %s where unit = %s").format(
                    sql.Identifier(audit_schema, CERTIFICATE)), (result.unpublished[entry.unit], entry.unit))
            conn.commit()
    if not result.items:
        raise RunError(not_published(result.unpublished))
    if not result.unpublished:  # every unit published: nothing left to inspect
        with conn.cursor() as cursor:
            cursor.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(audit_schema)))
        conn.commit()
    return result


def _publish_unit(
    conn: connection,
    entry: Certified,
    contracts: dict[str, list[Column]],
    audit_schema: str,
    published_schema: str,
    scopes: dict[str, delta.Scope],
    project: str | None,
) -> list[Published]:
    """One unit's tables, its publish state and log entry, and the removal of its audited
    tables and certificate entry: one transaction."""
    done = []
    try:
        with conn.cursor() as cursor:
            for dataset in entry.tables:
                if dataset not in contracts:
                    raise RunError(f"{dataset} is in unit {entry.unit} but has no contract to publish it by")
                done.append(_publish_table(cursor, conn, dataset, contracts[dataset], audit_schema,
                                           published_schema, scopes.get(dataset), entry.unit))
            delta.record_published(cursor, [scopes[item.dataset] for item in done if item.dataset in scopes])
            cursor.execute(
                f"insert into {LOG_TABLE} (audit_id, unit, rows, project) values (%s, %s, %s, %s)",
                (entry.audit_id, entry.unit, json.dumps({item.dataset: item.rows for item in done}), project),
            )
            for dataset in entry.tables:  # its audited rows are gone once published
                cursor.execute(sql.SQL("drop table if exists {} cascade").format(
                    sql.Identifier(audit_schema, f"{dataset}__changes")))
                cursor.execute(sql.SQL("drop {} if exists {} cascade").format(
                    sql.SQL("view" if _is_view(cursor, audit_schema, dataset) else "table"),
                    sql.Identifier(audit_schema, dataset)))
            cursor.execute(sql.SQL("delete from {} where unit = %s").format(
                sql.Identifier(audit_schema, CERTIFICATE)), (entry.unit,))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return done


def _is_view(cursor: Any, schema: str, name: str) -> bool:
    cursor.execute("select relkind from pg_class where oid = to_regclass(%s)", (f'"{schema}"."{name}"',))
    row = cursor.fetchone()
    return row is not None and row[0] == "v"


def _publish_table(
    cursor: Any,
    conn: connection,
    dataset: str,
    contract: list[Column],
    audit_schema: str,
    published_schema: str,
    scope: delta.Scope | None,
    unit: str,
) -> Published:
    """Refresh one published table from its audited rows, inside the unit's transaction."""
    if not table_columns(conn, f'"{audit_schema}"."{dataset}"'):
        raise RunError(f"{dataset} has no audited rows to publish (it was not audited)")
    target = sql.Identifier(published_schema, dataset)
    # PostgreSQL itself spells the contract's types (decimal -> numeric, ...).
    shape = sql.Identifier(f"contract_{dataset}")
    cursor.execute(sql.SQL("create temp table {} ({}) on commit drop").format(shape, definition(contract)))
    expected = table_columns(conn, f'pg_temp."contract_{dataset}"')
    published = table_columns(conn, f'"{published_schema}"."{dataset}"')
    added: list[Column] = []
    if not published:
        cursor.execute(sql.SQL("create table {} ({})").format(target, definition(contract)))
    elif published != expected:
        added = expected[len(published):]
        if expected[:len(published)] != published or any(not_null for _, _, not_null in added):
            raise SchemaChangeError(describe_difference(dataset, published, expected))
        # New fields Data Hub sends, declared at the end of the contract: nothing a reader
        # relies on changes (views keep the columns they were made with), so add them here.
        for name, data_type, _ in added:
            cursor.execute(sql.SQL("alter table {} add column {} {}").format(
                target, sql.Identifier(name), sql.SQL(data_type)))
    columns = sql.SQL(", ").join(sql.Identifier(name) for name, _, _ in contract)
    if published and scope is not None and scope.delta:
        return _merge(cursor, dataset, target, columns, audit_schema, scope.key, unit)
    if _is_view(cursor, audit_schema, dataset):  # a delta audit reads the published table itself
        raise RunError(f"{dataset} was audited by key but its audit scope is gone; nothing was published")
    source = sql.Identifier(audit_schema, dataset)
    cursor.execute(sql.SQL("delete from {}").format(target))
    cursor.execute(sql.SQL("insert into {} ({}) select {} from {}").format(target, columns, columns, source))
    return Published(dataset, cursor.rowcount, created=not published, unit=unit,
                     added=tuple(name for name, _, _ in added))


def summary(items: list[Published]) -> str:
    """'data_hub__companies (105,000; 1,050 by key), contacts (140,000)': rows, and those merged by key."""
    return ", ".join(
        f"{item.dataset} ({item.rows:,}" + (f"; {item.changed:,} by key" if item.changed is not None else "")
        + (f"; new columns {', '.join(item.added)})" if item.added else ")")
        for item in items
    )


def _merge(
    cursor: Any, dataset: str, target: sql.Composable, columns: sql.Composable, audit_schema: str, key: str,
    unit: str,
) -> Published:
    """Publish an audit built from the changed rows only: delete their keys, insert them."""
    changes = sql.Identifier(audit_schema, f"{dataset}__changes")
    cursor.execute(sql.SQL("delete from {} as published using {} as changed where published.{} = changed.{}").format(
        target, changes, sql.Identifier(key), sql.Identifier(key)))
    cursor.execute(sql.SQL("insert into {} ({}) select {} from {}").format(target, columns, columns, changes))
    changed = cursor.rowcount
    cursor.execute(sql.SQL("select count(*) from {}").format(target))
    return Published(dataset, cursor.fetchone()[0], created=False, changed=changed, unit=unit)


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
