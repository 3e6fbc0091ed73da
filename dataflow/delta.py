"""Which datasets an audit converts whole, and which only as the rows changed since the last publish.

After an incremental extract, `raw.<dataset>` differs from what was published only in the
rows that extract merged in (and any earlier extract whose run did not publish). Their
dlt load ids tell them apart: every raw row carries the `_dlt_load_id` of the load that
wrote it. So when a dataset model declares its published key (`meta.key`), the audit
converts only the raw rows loaded after the last published load, and builds the audited
table as the published rows whose key did not change plus the converted changes: the
dbt tests, the views and the quality gate judge that merged table, exactly what publishing
will make of the published one. Publishing then deletes the changed keys and inserts the
changes, in the same single transaction as before.

The model's key must identify the same record as its raw table's key (`meta.key` in the
source file): a changed record replaces the published row with its key. A record whose
key is another record's (a data error upstream) replaces that row instead of failing the
uniqueness test as a whole rebuild would; the next full refresh rebuilds the table.

A dataset is audited whole (as every dataset was before) when:
- its model declares no key (the published `contacts` has no key column);
- it was never published by this code, or its published table is gone;
- a full extract replaced its raw table since the last publish (a full refresh is what
  removes records deleted upstream, so the published table is rebuilt from raw);
- its model's compiled SQL changed since the last publish (a changed conversion must
  reach every row); the `audit_table` materialization checks that one, as only it
  sees the compiled SQL.

The decision and its inputs live in the audit schema's `_dataflow_scope` table, written
here before dbt builds, read by the dataset models (the `rows_to_audit` macro), updated
by the materialization (what it actually did), and read by `publish`, which records in
`dataflow.publish_state`, in its own transaction, what the published tables now hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from psycopg2 import sql

if TYPE_CHECKING:
    import datetime as dt
    from decimal import Decimal

    from psycopg2.extensions import connection as PgConnection
    from psycopg2.extensions import cursor as PgCursor

#: In the audit schema; its name is also in dbt_project/macros (rows_to_audit, audit_table).
SCOPE_TABLE = "_dataflow_scope"
#: What the published tables hold, per dataset; written by publish.
STATE_TABLE = "dataflow.publish_state"
STATE_DDL = f"""
create schema if not exists dataflow;
create table if not exists {STATE_TABLE} (
    dataset text primary key,
    load_id numeric,                              -- raw rows up to this dlt load id are published
    full_extract timestamp with time zone,        -- extract_state.last_full the publish saw
    sql_hash text not null,                       -- the model's compiled SQL, as the audit built it
    published_at timestamp with time zone not null default now()
);
"""
#: A publish that changed less than this share of a table's rows leaves its ANALYZE to
#: autovacuum (PostgreSQL's own autovacuum_analyze_scale_factor default).
ANALYZE_SHARE = 0.1


@dataclass(frozen=True)
class Scope:
    """How the audit built one dataset, as the scope table says after the build."""

    dataset: str
    mode: str  # "delta" or "full"
    key: str | None
    through_load_id: Decimal | None
    full_extract: dt.datetime | None
    sql_hash: str | None

    @property
    def delta(self) -> bool:
        return self.mode == "delta"


def write_scope(
    conn: PgConnection, audit_schema: str, published_schema: str, raw_schema: str, keys: dict[str, str | None]
) -> None:
    """Decide, per dataset in `keys` (dataset -> its model's published key), delta or full,
    and write the scope table into a fresh `audit_schema`."""
    scope = sql.Identifier(audit_schema, SCOPE_TABLE)
    with conn.cursor() as cursor:
        cursor.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(audit_schema)))
        cursor.execute(sql.SQL("""
            create table {} (
                dataset text primary key, mode text not null, key text,
                after_load_id numeric, through_load_id numeric, full_extract timestamp with time zone,
                previous_sql_hash text, sql_hash text)""").format(scope))
        state, last_fulls = _state(cursor), _last_fulls(cursor)
        for dataset, key in keys.items():
            through = _max_load_id(cursor, raw_schema, dataset)
            last_full = last_fulls.get(dataset)
            published = state.get(dataset)
            by_key = (
                key is not None
                and published is not None
                and last_full is not None
                and published[1] == last_full
                and _exists(cursor, published_schema, dataset)
            )
            cursor.execute(
                sql.SQL("insert into {} values (%s, %s, %s, %s, %s, %s, %s, null)").format(scope),
                (dataset, "delta" if by_key else "full", key, published[0] if by_key else None, through,
                 last_full, published[2] if published else None),
            )
    conn.commit()


def read_scope(conn: PgConnection, audit_schema: str) -> dict[str, Scope]:
    """What the audit did per dataset; empty when the audit schema has no scope table."""
    with conn.cursor() as cursor:
        if not _exists(cursor, audit_schema, SCOPE_TABLE):
            return {}
        cursor.execute(sql.SQL("select dataset, mode, key, through_load_id, full_extract, sql_hash from {}").format(
            sql.Identifier(audit_schema, SCOPE_TABLE)))
        return {row[0]: Scope(*row) for row in cursor.fetchall()}


def record_published(cursor: PgCursor, scopes: list[Scope]) -> None:
    """In the publish transaction: what the published tables now hold."""
    cursor.execute(STATE_DDL)
    for scope in scopes:
        if scope.sql_hash is None:  # not built by the audit_table materialization: nothing to rely on
            cursor.execute(f"delete from {STATE_TABLE} where dataset = %s", (scope.dataset,))
            continue
        cursor.execute(
            f"""
            insert into {STATE_TABLE} (dataset, load_id, full_extract, sql_hash) values (%s, %s, %s, %s)
            on conflict (dataset) do update set load_id = excluded.load_id, full_extract = excluded.full_extract,
                sql_hash = excluded.sql_hash, published_at = now()
            """,
            (scope.dataset, scope.through_load_id, scope.full_extract, scope.sql_hash),
        )


def _state(cursor: PgCursor) -> dict[str, tuple[Decimal | None, dt.datetime | None, str]]:
    cursor.execute("select to_regclass(%s)", (STATE_TABLE,))
    if cursor.fetchone()[0] is None:
        return {}
    cursor.execute(f"select dataset, load_id, full_extract, sql_hash from {STATE_TABLE}")
    return {row[0]: tuple(row[1:]) for row in cursor.fetchall()}


def _last_fulls(cursor: PgCursor) -> dict[str, dt.datetime]:
    """When each dataset's last full extract began (`extract.incremental`'s state)."""
    cursor.execute("select to_regclass('dataflow.extract_state')")
    if cursor.fetchone()[0] is None:
        return {}
    cursor.execute("select dataset, last_full from dataflow.extract_state")
    return dict(cursor.fetchall())


def _max_load_id(cursor: PgCursor, schema: str, table: str) -> Decimal | None:
    if not _exists(cursor, schema, table):
        return None
    cursor.execute(sql.SQL("select max(_dlt_load_id::numeric) from {}").format(sql.Identifier(schema, table)))
    return cursor.fetchone()[0]


def _exists(cursor: PgCursor, schema: str, table: str) -> bool:
    cursor.execute("select to_regclass(%s)", (f'"{schema}"."{table}"',))
    return cursor.fetchone()[0] is not None
