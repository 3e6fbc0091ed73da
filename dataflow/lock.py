"""One run at a time per database, by a PostgreSQL advisory lock held for the run.

The lock lives in the database, so two runs on different machines still exclude each
other, and it dies with its session: a run killed with -9 never leaves it behind.

Scheduler tasks hold the run lock only for their own length; the extracts of several DAG
runs (two DAGs reading one dataset) hold it shared together, so each also takes the lock
of its dataset (`hold_dataset`): two extracts of one dataset never replace its raw table
at once, the second waits for the first. On a warehouse's first run, the extracts that
start side by side would all create dlt's own tables (`_dlt_version`, `_dlt_loads`, …)
at once and collide in PostgreSQL's catalog: until those exist, one extract at a time
runs (`hold_first_load`).
"""

from __future__ import annotations

from collections.abc import Callable

from psycopg2.extensions import connection

from dataflow.errors import DataFlowError

# An arbitrary fixed 64-bit key that names "a data-flow run" among advisory locks.
LOCK_KEY = 0x2F6B_81C4_5D03_A9E7
#: The first of the two 32-bit keys of a dataset's lock; the second is hashtext(dataset).
DATASET_LOCK_CLASS = 0x2F6B_81C5
#: The two keys of the lock that lets one extract at a time create dlt's own tables.
FIRST_LOAD_LOCK = (0x2F6B_81C6, 0)


class RunInProgress(DataFlowError):
    """Another run holds the lock; this one exits at once, changing nothing."""

    exit_code = 3


def acquire(conn: connection, shared: bool = False) -> None:
    """Take the run lock on `conn` (kept open while it is needed) or raise RunInProgress.

    A whole run on one machine takes it exclusively. Scheduler tasks take it for their own
    length: the extracts of one DAG run shared (they run side by side, each replacing only
    its own raw table), audit and publish exclusively (they rebuild the audit schema and
    write the published tables)."""
    conn.autocommit = True
    with conn.cursor() as cursor:
        function = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
        cursor.execute(f"select {function}(%s)", (LOCK_KEY,))
        if cursor.fetchone()[0]:
            return
        cursor.execute(
            """
            select a.pid, to_char(a.backend_start at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS')
            from pg_locks l join pg_stat_activity a on a.pid = l.pid
            where l.locktype = 'advisory' and l.granted
              and ((l.classid::bigint << 32) | l.objid::bigint) = %s
            """,
            (LOCK_KEY,),
        )
        holder = cursor.fetchone()
    since = f" (database session {holder[0]}, started {holder[1]} UTC)" if holder else ""
    raise RunInProgress(f"another data-flow run is in progress on this database{since}; try again later")


def hold_dataset(conn: connection, dataset: str, waiting: Callable[[], None] | None = None) -> None:
    """Take the lock of `dataset`'s raw table on `conn` (autocommit, kept open while the
    extract runs): at once, or after another run's extract of it ends (`waiting` is called
    first). The task's execution timeout bounds the wait."""
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("select pg_try_advisory_lock(%s, hashtext(%s))", (DATASET_LOCK_CLASS, dataset))
        if cursor.fetchone()[0]:
            return
        if waiting is not None:
            waiting()
        cursor.execute("select pg_advisory_lock(%s, hashtext(%s))", (DATASET_LOCK_CLASS, dataset))


def hold_first_load(conn: connection, tables: tuple[str, ...]) -> None:
    """Until every one of `tables` (dlt's own, schema-qualified) exists, take on `conn` the
    lock that lets one extract create them: the first extract into an empty warehouse runs
    alone; the others, waiting here, find them made and run side by side."""

    def ready() -> bool:
        with conn.cursor() as cursor:
            cursor.execute("select bool_and(to_regclass(t) is not null) from unnest(%s::text[]) as t", (list(tables),))
            return bool(cursor.fetchone()[0])

    if not tables or ready():
        return
    with conn.cursor() as cursor:
        cursor.execute("select pg_advisory_lock(%s, %s)", FIRST_LOAD_LOCK)
        if ready():  # another extract made them while this one waited
            cursor.execute("select pg_advisory_unlock(%s, %s)", FIRST_LOAD_LOCK)
