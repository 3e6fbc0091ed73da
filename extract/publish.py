"""Publish audited datasets: every published table is refreshed in one transaction.

The published tables are never dropped or renamed: their rows are deleted and the
audited rows inserted, all datasets inside one transaction. So readers see the old
data or the new, never a mix or an empty table; the tables keep their OIDs, grants,
indexes and every view built on them (all earlier period views); and a failure at any
point, including a kill -9, leaves them exactly as they were.

A dataset whose columns no longer match the published table (a changed mapping) is
refused with the difference named: changing a published column's type is a migration
someone must decide on, never something a run does silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg2 import sql
from psycopg2.extensions import connection

from extract.errors import RunError

COLUMNS_SQL = """
    select a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
    from pg_attribute a
    join pg_class c on c.oid = a.attrelid
    join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped
    order by a.attnum
"""


class SchemaChangeError(RunError):
    """An audited dataset whose columns differ from its published table."""


@dataclass(frozen=True)
class Published:
    dataset: str
    rows: int
    created: bool


def table_columns(conn: connection, schema: str, table: str) -> list[tuple[str, str, bool]]:
    with conn.cursor() as cursor:
        cursor.execute(COLUMNS_SQL, (schema, table))
        return cursor.fetchall()


def describe_difference(
    dataset: str, published: list[tuple[str, str, bool]], audited: list[tuple[str, str, bool]]
) -> str:
    old = {name: (kind, not_null) for name, kind, not_null in published}
    new = {name: (kind, not_null) for name, kind, not_null in audited}
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
    conn: connection, datasets: list[str], audit_schema: str, published_schema: str
) -> list[Published]:
    """Copy every audited dataset into its published table, all in one transaction."""
    done = []
    try:
        with conn.cursor() as cursor:
            for dataset in datasets:
                audited = table_columns(conn, audit_schema, dataset)
                if not audited:
                    raise RunError(f"{dataset} was not built in {audit_schema}; nothing was published")
                published = table_columns(conn, published_schema, dataset)
                target = sql.Identifier(published_schema, dataset)
                source = sql.Identifier(audit_schema, dataset)
                if not published:
                    # LIKE copies the column types and NOT NULL constraints of the contract.
                    cursor.execute(sql.SQL("create table {} (like {})").format(target, source))
                elif published != audited:
                    raise SchemaChangeError(describe_difference(dataset, published, audited))
                columns = sql.SQL(", ").join(sql.Identifier(name) for name, _, _ in audited)
                cursor.execute(sql.SQL("delete from {}").format(target))
                cursor.execute(
                    sql.SQL("insert into {} ({}) select {} from {}").format(target, columns, columns, source)
                )
                done.append(Published(dataset, cursor.rowcount, created=not published))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    with conn.cursor() as cursor:  # fresh statistics for the analysts' queries; outside the swap
        for item in done:
            cursor.execute(sql.SQL("analyze {}").format(sql.Identifier(published_schema, item.dataset)))
    conn.commit()
    return done
