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
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from psycopg2 import sql
from psycopg2.extensions import connection

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


class SchemaChangeError(RunError):
    """A dataset whose contract differs from its published table."""


@dataclass(frozen=True)
class Published:
    dataset: str
    rows: int
    created: bool


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


def publish(
    conn: connection, contracts: dict[str, list[Column]], audit_schema: str, published_schema: str
) -> list[Published]:
    """Insert every audited dataset into its published table, all in one transaction."""
    done = []
    try:
        with conn.cursor() as cursor:
            for dataset, contract in contracts.items():
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
                source = sql.Identifier(audit_schema, dataset)
                cursor.execute(sql.SQL("delete from {}").format(target))
                cursor.execute(
                    sql.SQL("insert into {} ({}) select {} from {}").format(target, columns, columns, source)
                )
                done.append(Published(dataset, cursor.rowcount, created=not published))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return done


# An audit table's statistics copied onto its published table (PostgreSQL 18 and later). The
# row estimate is the audit table's; the page count is the published table's own (the rows
# the publish deleted are still on its pages), as ANALYZE would record it.
COPY_RELATION_STATISTICS = """
    select pg_restore_relation_stats(
        'schemaname', %(published)s::text, 'relname', %(table)s::text,
        'relpages', (pg_relation_size(format('%%I.%%I', %(published)s, %(table)s)::regclass)
                     / current_setting('block_size')::integer)::integer,
        'reltuples', audit.reltuples,
        'relallvisible', 0
    )
    from pg_class as audit
    where audit.oid = format('%%I.%%I', %(audit)s, %(table)s)::regclass
"""
COPY_COLUMN_STATISTICS = """
    select coalesce(bool_and(pg_restore_attribute_stats(
        'schemaname', %(published)s::text, 'relname', %(table)s::text,
        'attname', s.attname::text, 'inherited', s.inherited,
        'null_frac', s.null_frac, 'avg_width', s.avg_width, 'n_distinct', s.n_distinct,
        'most_common_vals', s.most_common_vals::text, 'most_common_freqs', s.most_common_freqs,
        'histogram_bounds', s.histogram_bounds::text, 'correlation', s.correlation,
        'most_common_elems', s.most_common_elems::text, 'most_common_elem_freqs', s.most_common_elem_freqs,
        'elem_count_histogram', s.elem_count_histogram
    )), true)
    from pg_stats as s
    where s.schemaname = %(audit)s and s.tablename = %(table)s
"""


class Statistics:
    """Fresh planner statistics for the published tables, kept off the run's critical path.

    Analysts' first queries after a run need statistics of the new rows. An ANALYZE of the
    published tables after the commit cost 1.4-2.3 s of waiting at 350k records (nearly
    all of it the investment projects' 76 columns; issue 4). The audit tables hold exactly
    the rows published, so from PostgreSQL 18 on each audit table is analyzed in the
    background while the gate and the publishing insert run (one connection each), and
    once the publish has committed its statistics are copied onto the published table
    with `pg_restore_relation_stats` / `pg_restore_attribute_stats`, as pg_dump restores
    statistics: milliseconds. The page count is the published table's own. Before
    PostgreSQL 18 the published tables are analyzed after the commit instead, one
    connection each, beside the views. Either way a failure is a warning, not an error:
    the data is already published, and autovacuum analyzes the tables soon anyway.
    """

    def __init__(self, target: Target, tables: list[str], audit_schema: str, published_schema: str,
                 copy: bool) -> None:
        self._target = target
        self._tables = tables
        self._audit, self._published = audit_schema, published_schema
        self._copy = copy
        self._committed = threading.Event()
        self._abandoned = False
        self._pool = ThreadPoolExecutor(max_workers=max(len(tables), 1), thread_name_prefix="statistics")
        self._futures: dict[str, Future[None]] = {}
        if copy:
            self._futures = {table: self._pool.submit(self._analyze_then_copy, table) for table in tables}

    @staticmethod
    def copies(conn: connection) -> bool:
        """Whether the server can take copied statistics (PostgreSQL 18 and later)."""
        return conn.server_version >= 180000

    def published(self) -> None:
        """The publish has committed: copy the statistics over, or analyze the published tables."""
        if self._copy:
            self._committed.set()
        else:
            self._futures = {table: self._pool.submit(self._analyze, self._published, table)
                             for table in self._tables}

    def _connect(self) -> connection:
        conn = self._target.connect()
        conn.autocommit = True
        return conn

    def _analyze(self, schema: str, table: str) -> None:
        conn = self._connect()
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql.SQL("analyze {}").format(sql.Identifier(schema, table)))
        finally:
            conn.close()

    def _analyze_then_copy(self, table: str) -> None:
        conn = self._connect()
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql.SQL("analyze {}").format(sql.Identifier(self._audit, table)))
                self._committed.wait()
                if self._abandoned:
                    return
                conn.autocommit = False  # a table's statistics change together
                names = {"audit": self._audit, "published": self._published, "table": table}
                for statement in (COPY_RELATION_STATISTICS, COPY_COLUMN_STATISTICS):
                    cursor.execute(statement, names)
                    if cursor.fetchone() != (True,):  # PostgreSQL warns and returns false
                        raise RuntimeError("PostgreSQL did not take the copied statistics")
                conn.commit()
        finally:
            conn.close()

    def wait(self) -> list[str]:
        """Wait for the statistics; a warning for each table that did not get them."""
        if not self._committed.is_set():  # the publish failed: nothing to copy, nothing to wait for
            self._abandoned = True
            self._committed.set()
        warnings = []
        for table, future in self._futures.items():
            error = future.exception()
            if error is not None:
                warnings.append(f"{table}: statistics not refreshed ({describe(error)[0]})")
        self._pool.shutdown()
        return warnings
