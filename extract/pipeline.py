"""Run the dlt extract: Data Hub APIs -> `raw` schema, staging then replace.

Raw tables are replaced with dlt's `staging-optimized` strategy: every dataset is
loaded into `raw_staging` first and swapped into `raw` in one transaction, so a raw
table only changes once its dataset was fetched completely, and readers never see it
empty. dlt's local working directory is wiped before every run: a load package left
by a killed run must never be loaded into a later one.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt
from dlt.common.runtime.collector import NULL_COLLECTOR

from dataflow.endpoint import Endpoint
from dataflow.report import Reporter
from dataflow.settings import Settings, work_dir
from dataflow.warehouse import Target
from extract import progress
from extract.convert import Converter
from extract.sources.datahub import Dataset, FetchStats, datahub
from extract.sources.datahub.settings import RAW_SCHEMA

PIPELINE_NAME = "datahub"

# Load each dataset into raw_staging, then swap it into raw in one transaction (no second
# copy of the rows, measured 2 s faster at 350k than insert-from-staging). It drops the
# old raw table, so nothing may depend on raw tables: the audit schema is dropped before
# every extract, and analysts query the published tables.
REPLACE_STRATEGY = "staging-optimized"


@dataclass
class ExtractResult:
    rows: dict[str, int]
    pages: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)


def keep_empty_strings() -> None:
    """Stop dlt's Postgres COPY from turning empty strings into NULL.

    dlt marks every nullable column FORCE_NULL in its COPY, so a quoted "" loads as
    NULL: right for its own Python csv writer (which quotes None as ""), wrong for Arrow's,
    which writes our files (`convert.py`: NULL unquoted, "" quoted), and Data Hub's ""
    must stay "". Only our dataset resources load through csv, so only they are affected.
    """
    from dlt.destinations.impl.postgres import postgres

    if not callable(getattr(postgres, "is_nullable_column", None)):
        raise RuntimeError("this dlt version changed its Postgres COPY job; revisit keep_empty_strings")
    postgres.is_nullable_column = lambda column: False


def unlogged_raw_tables() -> None:
    """Have dlt create the dataset tables in `raw` and `raw_staging` UNLOGGED.

    Raw tables are rewritten from Data Hub on every run and read only by that run's
    audit, so writing them to the write-ahead log buys nothing: unlogged, the COPY of 350k
    records took 3.7 s instead of 5.4 s (serial, issue 4). The price, which PostgreSQL
    documents: after a server crash an unlogged table is empty until the next run
    reloads it (`--skip-extract` runs do not read raw). dlt's own state tables stay
    logged. dlt has no option for this, so its two CREATE statements are amended: a
    table's creation, and the staging table the `staging-optimized` swap recreates
    (`LIKE` does not copy UNLOGGED). Tables made before this keep their persistence
    until swapped out.
    """
    from dlt.destinations.impl.postgres import postgres

    client, job = postgres.PostgresClient, postgres.PostgresStagingReplaceJob
    if getattr(client, "_dataflow_unlogged", False):
        return
    create_table, swap_sql = client._make_create_table, job.generate_sql.__func__

    def make_create_table(self: Any, qualified_name: str, table: Any) -> str:
        statement = create_table(self, qualified_name, table)
        if table["name"] in self.schema.dlt_table_names():
            return statement
        return _unlogged(statement)

    def generate_sql(cls: Any, table_chain: Any, sql_client: Any) -> list[str]:
        return [_unlogged(statement) for statement in swap_sql(cls, table_chain, sql_client)]

    client._make_create_table = make_create_table
    job.generate_sql = classmethod(generate_sql)
    client._dataflow_unlogged = True


def _unlogged(statement: str) -> str:
    if not statement.startswith("CREATE TABLE"):
        return statement
    return "CREATE UNLOGGED TABLE" + statement[len("CREATE TABLE"):]


def configure_dlt(concurrency: int, verbose: bool = False) -> None:
    """dlt reads its settings from the environment; set ours before the pipeline exists."""
    os.environ.update(
        {
            "RUNTIME__DLTHUB_TELEMETRY": "false",
            # dlt's own log lines (retried load jobs, schema notes) are for --verbose; the run
            # reports what matters itself, and a failure ends as one line.
            "RUNTIME__LOG_LEVEL": "WARNING" if verbose else "CRITICAL",
            "DESTINATION__REPLACE_STRATEGY": REPLACE_STRATEGY,
            "NORMALIZE__WORKERS": str(concurrency),
            "LOAD__WORKERS": str(max(concurrency, 3)),
            "EXTRACT__WORKERS": str(max(concurrency, 3)),
            # How long dlt's extract loop waits for a resource's next item before polling again.
            # A finished item wakes it at once; at dlt's 10 ms its polling took ~8% of the
            # GIL time the fetch threads need (py-spy, issue 4). Our items are whole files.
            "EXTRACT__FUTURES_POLL_INTERVAL": "0.2",
        }
    )


def run_extract(
    settings: Settings,
    endpoint: Endpoint,
    target: Target,
    datasets: list[Dataset],
    reporter: Reporter | None = None,
    pipelines_dir: Path | None = None,
    before_load: Callable[[], None] | None = None,
) -> ExtractResult:
    """Fetch every selected dataset and land it in `raw`; raises on any failure.

    `before_load` runs once everything is fetched, before `raw` changes: it may still
    refuse the run."""
    configure_dlt(settings.concurrency, verbose=os.environ.get("DATAFLOW_VERBOSE") == "1")
    keep_empty_strings()
    unlogged_raw_tables()
    pipelines_dir = pipelines_dir or work_dir() / "dlt"
    shutil.rmtree(pipelines_dir / PIPELINE_NAME, ignore_errors=True)
    batches_dir = pipelines_dir / "batches"
    shutil.rmtree(batches_dir, ignore_errors=True)
    converter = Converter(batches_dir)
    pipeline = dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        pipelines_dir=str(pipelines_dir),
        destination=dlt.destinations.postgres(credentials=target.dsn()),
        dataset_name=RAW_SCHEMA,
        progress=NULL_COLLECTOR,
    )
    stats = FetchStats()
    source = datahub(
        base_url=endpoint.base_url,
        hawk_id=endpoint.hawk_id,
        hawk_key=endpoint.hawk_key,
        algorithm=settings.hawk_algorithm,
        timeout=settings.request_timeout,
        retry_seconds=settings.retry_seconds,
        datasets=datasets,
        stats=stats,
        converter=converter,
    )
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    try:
        with progress.shown(stats, reporter or Reporter(quiet=True)):
            pipeline.extract(source)
    finally:
        converter.close()
        # dlt hard-linked (or copied) the files into its load package.
        shutil.rmtree(batches_dir, ignore_errors=True)
    seconds["fetch"] = time.perf_counter() - started
    if before_load is not None:
        before_load()
    started = time.perf_counter()
    pipeline.normalize()
    seconds["normalize"] = time.perf_counter() - started
    started = time.perf_counter()
    pipeline.load(raise_on_failed_jobs=True)
    seconds["load"] = time.perf_counter() - started
    # Every record fetched is one row written (a batch is typed whole or fails the run);
    # dlt reports no row counts for imported files.
    rows = {d.name: stats.records.get(d.name, 0) for d in datasets}
    return ExtractResult(rows=rows, pages=dict(stats.pages), seconds=seconds)
