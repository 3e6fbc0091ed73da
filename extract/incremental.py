"""Which datasets to fetch whole and which only as changes since the last extract.

`raw.<dataset>` mirrors Data Hub: a full extract replaces it, an incremental one asks
Data Hub for the records modified since (`updated_since`) and merges them in by key.
So the audit and the publish see every record either way, and the state that decides the
next extract lives in the warehouse (`dataflow.extract_state`), not on a machine: any
worker may run it.

A dataset is fetched incrementally only when its raw table declares `meta.updated_since:
true` (its endpoint filters on it; not every Data Hub endpoint does) and `meta.key` (the
field that identifies a record). It is fetched whole when a full refresh is asked for;
when it was never extracted, or its raw table is gone; when its declaration (endpoint,
fields, key) changed since (a newly declared field would stay empty in the rows not
fetched again); and when its scheduled full refresh is due (`meta.full_refresh`:
`daily`, `weekly` or `monthly`, the default: the first extract of each month, UTC). Full
refreshes are what removes records deleted upstream: Data Hub never reports deletions.

An incremental extract asks for `updated_since` = the date one day before the last
extract loaded into raw started: Data Hub compares dates, not instants, and the day
covers clocks that disagree; a record fetched twice merges to the same row. The state is
written after raw has the records, so a crash in between only fetches a little more the
next time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from extract.sources.datahub.settings import RAW_SCHEMA

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection

    from extract.sources.datahub import Dataset

TABLE = "dataflow.extract_state"
DDL = f"""
create schema if not exists dataflow;
create table if not exists {TABLE} (
    dataset text primary key,
    declaration text not null,
    last_started timestamp with time zone not null,
    last_full timestamp with time zone not null
);
"""
OVERLAP = dt.timedelta(days=1)


@dataclass(frozen=True)
class Mode:
    """How one dataset is fetched this time, and why."""

    updated_since: dt.date | None  # None: the whole dataset
    reason: str

    @property
    def incremental(self) -> bool:
        return self.updated_since is not None

    def describe(self) -> str:
        return f"incremental since {self.updated_since}" if self.incremental else f"full ({self.reason})"


def declaration(dataset: Dataset) -> str:
    """A fingerprint of what decides a raw table's rows: endpoint and its query, fields and their
    types, key."""
    text = json.dumps([dataset.endpoint, dataset.columns, sorted(dataset.exact), dataset.key]
                      + ([dict(dataset.query)] if dataset.query else []))
    return hashlib.sha256(text.encode()).hexdigest()


def refresh_due_since(now: dt.datetime, every: str) -> dt.datetime:
    """The start (UTC) of the day, week (Monday) or month that `now` is in."""
    day = now.astimezone(dt.UTC).date()
    if every == "weekly":
        day -= dt.timedelta(days=day.weekday())
    elif every == "monthly":
        day = day.replace(day=1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def decide(
    conn: PgConnection, datasets: list[Dataset], started: dt.datetime, full_refresh: bool
) -> dict[str, Mode]:
    """The mode of each dataset for an extract starting at `started`."""
    with conn.cursor() as cursor:
        # Extracts run side by side (one Airflow task per dataset): one creates the table.
        cursor.execute("select pg_advisory_xact_lock(hashtext(%s))", (TABLE,))
        cursor.execute(DDL)
        cursor.execute(f"select dataset, declaration, last_started, last_full from {TABLE}")
        state = {row[0]: row[1:] for row in cursor.fetchall()}
        cursor.execute("select table_name from information_schema.tables where table_schema = %s", (RAW_SCHEMA,))
        raw_tables = {row[0] for row in cursor.fetchall()}
    conn.commit()
    modes = {}
    for dataset in datasets:
        modes[dataset.name] = _mode(dataset, state.get(dataset.name), dataset.name in raw_tables, started,
                                    full_refresh)
    return modes


def _mode(
    dataset: Dataset,
    state: tuple[str, dt.datetime, dt.datetime] | None,
    has_raw_table: bool,
    started: dt.datetime,
    full_refresh: bool,
) -> Mode:
    if not (dataset.updated_since and dataset.key):
        return Mode(None, "its endpoint has no updated_since")
    if full_refresh:
        return Mode(None, "asked for")
    if state is None or not has_raw_table:
        return Mode(None, "first extract")
    declared, last_started, last_full = state
    if declared != declaration(dataset):
        return Mode(None, "its declaration changed")
    if last_full < refresh_due_since(started, dataset.full_refresh):
        return Mode(None, f"{dataset.full_refresh} refresh")
    return Mode((last_started - OVERLAP).astimezone(dt.UTC).date(), "")


def record(conn: PgConnection, datasets: list[Dataset], modes: dict[str, Mode], started: dt.datetime) -> None:
    """Remember an extract that raw now holds: where the next one starts from."""
    with conn.cursor() as cursor:
        for dataset in datasets:
            full = not modes[dataset.name].incremental
            cursor.execute(
                f"""
                insert into {TABLE} (dataset, declaration, last_started, last_full) values (%s, %s, %s, %s)
                on conflict (dataset) do update set
                    declaration = excluded.declaration, last_started = excluded.last_started,
                    last_full = case when %s then excluded.last_full else {TABLE}.last_full end
                """,
                (dataset.name, declaration(dataset), started, started, full),
            )
    conn.commit()
