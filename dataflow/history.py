"""Run history, kept in the target database (`dataflow.run_history`).

One row per period a run handled: its run id, ds, start and finish, status, rows per
dataset, views built, the error, whether it loaded the stand-in's demo data, and notes
(schema drift: fields Data Hub sent that no model declares), and per dataset how it was
extracted (full or incremental, records fetched, raw rows inserted and updated).
`--catchup` reads it to find the periods not yet built; `orchestrate.py history` and
`--list` show it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from psycopg2.extensions import connection

SCHEMA = "dataflow"
TABLE = f"{SCHEMA}.run_history"

DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {TABLE} (
    run_id uuid not null,
    ds date not null,
    started_at timestamp with time zone not null,
    finished_at timestamp with time zone,
    status text not null check (status in ('running', 'success', 'failed')),
    rows jsonb not null default '{{}}',
    views text[] not null default '{{}}',
    error text,
    primary key (run_id, ds)
);
alter table {TABLE} add column if not exists demo boolean not null default false;
alter table {TABLE} add column if not exists notes text[] not null default '{{}}';
alter table {TABLE} add column if not exists extracts jsonb not null default '{{}}';
"""


def new_run_id() -> str:
    return str(uuid.uuid4())


def ensure(conn: connection) -> None:
    with conn.cursor() as cursor:
        cursor.execute(DDL)
    conn.commit()


def record(
    conn: connection,
    run_id: str,
    ds: dt.date,
    started: dt.datetime,
    status: str,
    rows: dict[str, int] | None = None,
    views: list[str] | None = None,
    error: str | None = None,
    demo: bool = False,
    notes: list[str] | None = None,
    extracts: dict[str, Any] | None = None,
) -> None:
    """Insert or update the row of (run, ds); committed at once, whatever else happens."""
    finished = None if status == "running" else dt.datetime.now(dt.UTC)
    with conn.cursor() as cursor:
        cursor.execute(
            f"""
            insert into {TABLE} (run_id, ds, started_at, finished_at, status, rows, views, error, demo, notes,
                                 extracts)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            on conflict (run_id, ds) do update set
                finished_at = excluded.finished_at, status = excluded.status, rows = excluded.rows,
                views = excluded.views, error = excluded.error, notes = excluded.notes, extracts = excluded.extracts
            """,
            (run_id, ds, started, finished, status, json.dumps(rows or {}), views or [], error, demo, notes or [],
             json.dumps(extracts or {})),
        )
    conn.commit()


def built_views(conn: connection) -> set[str]:
    """Every view name a successful run built."""
    with conn.cursor() as cursor:
        cursor.execute("select to_regclass(%s)", (TABLE,))
        if cursor.fetchone()[0] is None:
            return set()
        cursor.execute(f"select distinct unnest(views) from {TABLE} where status = 'success'")
        return {row[0] for row in cursor.fetchall()}


def rows(conn: connection, limit: int = 50) -> list[dict[str, Any]]:
    with conn.cursor() as cursor:
        cursor.execute("select to_regclass(%s)", (TABLE,))
        if cursor.fetchone()[0] is None:
            return []
        cursor.execute(
            f"""
            select run_id, ds, started_at, finished_at, status, rows, views, error, demo, notes, extracts
            from {TABLE} order by started_at desc, ds desc limit %s
            """,
            (limit,),
        )
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def last_success(conn: connection) -> tuple[dict[str, dt.datetime], dict[str, dt.date]]:
    """When each dataset was last loaded by a successful run, and the latest ds of each view."""
    datasets: dict[str, dt.datetime] = {}
    views: dict[str, dt.date] = {}
    for row in reversed(rows(conn, limit=100_000)):
        if row["status"] != "success":
            continue
        for dataset in row["rows"]:
            datasets[dataset] = row["finished_at"]
        for view in row["views"]:
            views[view] = max(views.get(view, row["ds"]), row["ds"])
    return datasets, views
