"""Batches of Data Hub records -> CSV files that dlt imports, written in a worker process.

Why worker processes: typing a batch of records (`arrow.to_table`) is CPU work, about
8 s of CPU at 350k records. Done in the fetch threads it holds the GIL they need to
keep requests in flight; in a worker process it runs while they
wait for Data Hub. Why CSV files handed to dlt (`dlt.mark.with_file_import`) rather than
Arrow tables: dlt then neither re-derives and validates the table schema for every batch
nor writes each batch to parquet only to turn it into CSV again in its normalize step.
The files are what dlt's Postgres loader COPYs into `raw`, with the lineage columns dlt
would have added itself (`_dlt_load_id`, `_dlt_id`).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import secrets
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from extract import arrow
from extract.memory import limit_allocators

LOAD_ID, ROW_ID = "_dlt_load_id", "_dlt_id"
ORPHAN_CHECK_SECONDS = 0.5

#: The lineage columns, as dlt declares them on the raw tables but for the unique
#: constraint on `_dlt_id`: its index nearly doubled the load's inserts (measured), and
#: `write_batch` makes the ids unique by construction.
LINEAGE_COLUMNS = {
    LOAD_ID: {"data_type": "text", "nullable": False, "precision": 64},
    ROW_ID: {"data_type": "text", "nullable": False, "precision": 64},
}


def _start_worker(parent: int) -> None:
    """Worker start-up. Ctrl-C is the main process's to report, not each worker's; and a
    worker must not outlive a main process that was killed (kill -9 runs no clean-up, and
    an idle pool worker would wait for work forever). `parent` is the main process's pid,
    passed in: it may already be gone by the time this runs."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_allocators()

    def exit_when_orphaned() -> None:
        while os.getppid() == parent:
            time.sleep(ORPHAN_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=exit_when_orphaned, name="orphan-check", daemon=True).start()


@dataclass(frozen=True)
class Batch:
    """Records of one dataset to type and append to a CSV file (`header` starts the file)."""

    dataset: str
    records: list[bytes]
    columns: dict[str, str]
    exact: frozenset[str]
    load_id: str
    path: str
    header: bool
    key: str | None = None  # the field a value of the wrong type is reported with


@dataclass(frozen=True)
class Written:
    """A batch appended to its file: its rows, and the fields its records had."""

    rows: int
    fields: arrow.Fields


def write_batch(batch: Batch) -> Written:
    """Type one batch of raw records and append it to its CSV file.

    Runs in the worker process; a FieldTypeError raised here reaches the fetch thread
    through its future. The worker ends with the fetch.
    """
    table, fields = arrow.to_table(batch.dataset, batch.records, batch.columns, batch.exact, batch.key)
    if batch.key is not None and batch.key in table.column_names:
        _check_unique(batch.dataset, batch.key, table.column(batch.key).to_pylist())
    rows = table.num_rows
    prefix = secrets.token_urlsafe(9)  # 12 characters, unique per batch
    table = table.append_column(LOAD_ID, pa.array([batch.load_id] * rows, pa.string()))
    table = table.append_column(ROW_ID, pa.array([f"{prefix}{i:05x}" for i in range(rows)], pa.string()))
    options = pa_csv.WriteOptions(quoting_style="needed", include_header=batch.header)
    with open(batch.path, "wb" if batch.header else "ab") as handle:
        pa_csv.write_csv(table, handle, write_options=options)
    return Written(rows, fields)


#: Per dataset of this worker's fetch, a hash of every key value it has seen. One worker
#: converts every batch of a fetch (see `Converter`), so it sees every key once; a hash
#: (64 bits, 8 bytes a key in its set instead of the key's string) keeps the set small at
#: 350k records; two different keys sharing one is a chance of about 1 in 10^8 per fetch.
_seen_keys: dict[str, set[int]] = {}
#: How many repeated keys a message names.
SHOWN_KEYS = 5


class DuplicateKeyError(arrow.FieldTypeError):
    """A fetch that sent one record key twice: paging that repeats or skips, or a data error."""


def _check_unique(dataset: str, key: str, values: list[object]) -> None:
    """Fail when a key value of this batch was seen before in the same fetch, naming them.

    Data Hub's cursor pagination returns each record once; a key seen twice means pages
    that overlap (records moved between pages, or a server that hands out cursors without
    end), and loading them would publish one version chosen by chance."""
    seen = _seen_keys.setdefault(dataset, set())
    repeated = []
    for value in values:
        if value is None:
            continue  # no key: the model's not_null test names it
        fingerprint = hash(value)
        if fingerprint in seen:
            repeated.append(value)
        seen.add(fingerprint)
    if repeated:
        shown = ", ".join(repr(value)[:60] for value in repeated[:SHOWN_KEYS])
        more = f" and {len(repeated) - SHOWN_KEYS:,} more" if len(repeated) > SHOWN_KEYS else ""
        raise DuplicateKeyError(f"{dataset}: Data Hub sent the same {key} twice in one fetch: {shown}{more}; "
                                "nothing of it was loaded")


class Converter:
    """One worker process writing batches into CSV files in one directory.

    A file takes several batches (`new_file`, then `submit` each with it): dlt's load
    then runs a few large COPY jobs instead of one per batch. The batches of a file are
    appended in the order submitted, which is why there is exactly one worker. It is
    spawned, not forked: the main process runs threads (fetching, dlt) whose locks a
    fork would copy in whatever state they are in.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._names = itertools.count()
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(os.getpid(),),
        )
        self._pool.submit(int)  # start the worker (and its imports) before the first batch

    def new_file(self, dataset: str) -> str:
        return str(self.directory / f"{dataset}.{next(self._names)}.csv")

    def submit(self, batch: Batch) -> Future[Written]:
        """Queue a batch to be appended to its file."""
        return self._pool.submit(write_batch, batch)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
