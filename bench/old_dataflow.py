"""Contender (b): the old Airflow data-flow's architecture, reimplemented small.

Per dataset, serially:
1. Create a copy table shaped like the target (from the field mapping).
2. Fetch the pages one after another (Hawk-signed, response verified). Render each page
   into one multi-row INSERT of escaped literals into the copy table.
3. In one transaction, DELETE FROM the target and INSERT … SELECT from the copy table.
   Then drop the copy.

This mirrors the old tasks (check target, fetch pages, create copy, insert pages, swap)
without Airflow, Celery and the Variables buffer. Those only add cost, so this is a
generous baseline.

    python bench/old_dataflow.py BASE_URL DSN      (HAWK_ID, HAWK_KEY from the environment)
prints one JSON line: {"records": N, "pages": P, "seconds": S}.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import psycopg2
import requests
from psycopg2 import sql
from signed_get import signed_get

MAPPINGS_FILE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "field_mappings.json"
MAPPINGS = json.loads(MAPPINGS_FILE.read_text())


def fetch_pages(session: requests.Session, credentials: dict, url: str):
    while url:
        body = signed_get(session, credentials, url).json()
        yield body["results"]
        url = body["next"]


def load_dataset(
    connection, session: requests.Session, credentials: dict, base_url: str, table: str
) -> tuple[int, int]:
    spec = MAPPINGS[table]
    fields = spec["fields"]
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(kind)) for _, column, kind in fields
    )
    copy = table + "_copy"
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("create table if not exists {} ({})").format(sql.Identifier(table), columns))
        cursor.execute(sql.SQL("drop table if exists {}").format(sql.Identifier(copy)))
        cursor.execute(sql.SQL("create table {} ({})").format(sql.Identifier(copy), columns))
    connection.commit()
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    insert = sql.SQL("insert into {} ({}) values ").format(
        sql.Identifier(copy), sql.SQL(", ").join(sql.Identifier(column) for _, column, _ in fields)
    )
    records = pages = 0
    with connection.cursor() as cursor:
        prefix = insert.as_string(connection).encode()
        for page in fetch_pages(session, credentials, base_url + spec["source_path"]):
            if page:
                rows = [cursor.mogrify(placeholders, [r.get(f) for f, _, _ in fields]) for r in page]
                cursor.execute(prefix + b", ".join(rows))
                connection.commit()
            records += len(page)
            pages += 1
        cursor.execute(sql.SQL("delete from {}").format(sql.Identifier(table)))
        cursor.execute(sql.SQL("insert into {} select * from {}").format(sql.Identifier(table), sql.Identifier(copy)))
        cursor.execute(sql.SQL("drop table {}").format(sql.Identifier(copy)))
    connection.commit()
    return records, pages


def main(base_url: str, dsn: str) -> None:
    credentials = {"id": os.environ["HAWK_ID"], "key": os.environ["HAWK_KEY"], "algorithm": "sha256"}
    session = requests.Session()
    connection = psycopg2.connect(dsn)
    records = pages = 0
    started = time.perf_counter()
    for table in MAPPINGS:
        got, served = load_dataset(connection, session, credentials, base_url, table)
        records, pages = records + got, pages + served
    print(json.dumps({"records": records, "pages": pages, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), sys.argv[2])
