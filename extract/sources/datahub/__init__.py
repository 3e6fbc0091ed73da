"""The Data Hub dlt source: one resource per dataset API, named as its raw table.

The datasets are read from the dbt source file (`settings.SOURCES_YML`): each raw
table there names its endpoint (`meta.endpoint`) and its columns with their raw
types. Declaring every column matters: dlt does not create a column that is null in
every row unless it is declared, and declared text columns stop dlt from guessing
types (a timestamp stays the exact string Data Hub sent; dbt casts it).

Fields Data Hub sends that the file does not declare land in the raw table's
`_dataflow_extra_fields` column and are reported (`FetchStats.undeclared`). A declared
field that no record has fails the extract before anything is loaded, naming it, unless
the table's `meta.allow_missing_fields` lists it.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from threading import Lock
from typing import Any
from urllib.parse import urlencode

import dlt
import msgspec
import yaml
from dlt.sources import DltResource

from dataflow.errors import RunError, UsageError
from dataflow.settings import DEFAULT_MAX_PAGES, Secret
from extract import json_scan
from extract.arrow import EXTRA_FIELDS, Fields
from extract.convert import LINEAGE_COLUMNS, Batch, Converter, Written
from extract.sources.datahub.client import HawkClient, TooDeepError, iter_pages
from extract.sources.datahub.settings import (
    BATCH_ROWS,
    FILE_BATCHES,
    FULL_REFRESH_EVERY,
    MAX_BATCHES_IN_FLIGHT,
    RAW_TYPES,
    SOURCE_NAME,
    SOURCES_YML,
)

#: What `dlt.mark.with_file_import` returns: a finished CSV file for dlt to import. dlt
#: exports no public name for that type, so it is typed loosely here.
FileImport = Any


@dataclass(frozen=True)
class Dataset:
    """One Data Hub dataset API and the raw table it lands in."""

    name: str
    endpoint: str
    columns: dict[str, str]  # source field -> dlt data type
    exact: frozenset[str]  # fields landed as the exact text of their JSON value (decimals)
    allow_missing: frozenset[str] = frozenset()  # declared fields Data Hub may stop sending
    updated_since: bool = False  # the endpoint filters on `updated_since` (extract.incremental)
    key: str | None = None  # the field that identifies a record, to merge changes by
    full_refresh: str = "monthly"  # how often an incremental dataset is fetched whole
    query: tuple[tuple[str, str], ...] = ()  # query parameters the endpoint is asked with (meta.query)

    @property
    def text_fields(self) -> list[str]:
        """The fields landed as text: where a value that fails its cast in dbt comes from."""
        return [name for name, kind in self.columns.items() if kind == "text"]


@dataclass
class FetchStats:
    """Pages and records fetched per dataset; written from the extract threads."""

    pages: dict[str, int] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)
    present: dict[str, set[str]] = field(default_factory=dict)  # declared fields some record had
    undeclared: dict[str, set[str]] = field(default_factory=dict)  # fields no declaration names
    failures: dict[str, Exception] = field(default_factory=dict)  # datasets whose fetch failed, and why
    _lock: Lock = field(default_factory=Lock, repr=False)

    def add_page(self, dataset: str, records: int) -> None:
        with self._lock:
            self.pages[dataset] = self.pages.get(dataset, 0) + 1
            self.records[dataset] = self.records.get(dataset, 0) + records

    def add_fields(self, dataset: str, fields: Fields) -> None:
        with self._lock:
            self.present.setdefault(dataset, set()).update(fields.present)
            self.undeclared.setdefault(dataset, set()).update(fields.undeclared)


def check_declared_fields(dataset: Dataset, stats: FetchStats) -> None:
    """Fail, naming them, when declared fields were missing from every record fetched."""
    if not stats.records.get(dataset.name):
        return  # no records: nothing says a field is gone
    missing = [name for name in dataset.columns
               if name not in stats.present.get(dataset.name, ()) and name not in dataset.allow_missing]
    if missing:
        named = ", ".join(f"`{name}`" for name in missing)
        raise RunError(
            f"{dataset.name}: Data Hub no longer sends the declared field{'s' * (len(missing) > 1)} {named} "
            f"(missing from all {stats.records[dataset.name]:,} records); it was not loaded. "
            "If that is expected, list it under meta.allow_missing_fields in the source file"
        )


def load_datasets() -> dict[str, Dataset]:
    """Read the raw table declarations from the dbt source file."""
    with SOURCES_YML.open(encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    (source,) = [s for s in document["sources"] if s["name"] == SOURCE_NAME]
    datasets = {}
    for table in source["tables"]:
        columns, exact = {}, set()
        for column in table["columns"]:
            raw_type = column["data_type"]
            if raw_type not in RAW_TYPES:
                raise ValueError(f"{table['name']}.{column['name']}: unsupported raw type {raw_type}")
            columns[column["name"]] = RAW_TYPES[raw_type]
            if (column.get("meta") or {}).get("exact_json_text"):
                exact.add(column["name"])
        meta = table["meta"]
        allow_missing = frozenset(meta.get("allow_missing_fields") or ())
        unknown = allow_missing - columns.keys()
        if unknown:
            raise ValueError(f"{table['name']}: allow_missing_fields names undeclared {sorted(unknown)}")
        key = meta.get("key")
        if key is not None and key not in columns:
            raise ValueError(f"{table['name']}: meta.key {key!r} is not a declared field")
        full_refresh = meta.get("full_refresh", "monthly")
        if full_refresh not in FULL_REFRESH_EVERY:
            raise ValueError(f"{table['name']}: meta.full_refresh must be one of {', '.join(FULL_REFRESH_EVERY)}")
        query = meta.get("query") or {}
        if not isinstance(query, dict) or not all(
                isinstance(value, str | int) and not isinstance(value, bool) for value in query.values()):
            raise ValueError(f"{table['name']}: meta.query must map parameter names to strings or numbers")
        if "updated_since" in query or "cursor" in query:
            raise ValueError(f"{table['name']}: meta.query may not set updated_since or cursor (the extract does)")
        datasets[table["name"]] = Dataset(table["name"], meta["endpoint"], columns, frozenset(exact),
                                          allow_missing, bool(meta.get("updated_since")), key, full_refresh,
                                          tuple((str(name), str(value)) for name, value in query.items()))
    return datasets


def select_datasets(names: Iterable[str] | None) -> list[Dataset]:
    """The datasets to fetch, in declaration order; unknown names are a usage error."""
    known = load_datasets()
    if names is None:
        return list(known.values())
    wanted = list(dict.fromkeys(names))
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise UsageError(f"unknown dataset {unknown[0]!r}; known: {', '.join(known)}")
    return [known[name] for name in wanted]


def record_batches(pages: Iterable[list[msgspec.Raw]], rows: int) -> Iterator[list[bytes]]:
    """Group pages into batches of `rows` records (the last one smaller): a large page
    (interactions are asked for 10,000 a page) is split, so a batch's memory does not grow
    with the page size. An empty dataset gives one empty batch (it must still replace its
    raw table)."""
    pending: list[bytes] = []
    produced = False
    for page in pages:
        pending.extend(bytes(record) for record in page)
        while len(pending) >= rows:
            yield pending[:rows]
            produced, pending = True, pending[rows:]
    if pending or not produced:
        yield pending


def _fetch(
    client: HawkClient, url: str, dataset: Dataset, stats: FetchStats, converter: Converter
) -> Iterator[FileImport]:
    """Fetch every page; batches are typed in the converter and appended to CSV files of
    `FILE_BATCHES` batches, handed to dlt once the whole dataset is fetched and written.

    A dataset that fails (an HTTP error after the retries, a page that is not a page, a
    batch that cannot be typed, a declared field missing) hands dlt nothing, so its raw
    table stays as it was; the failure is kept in `stats.failures` for the run to report,
    and the other datasets go on."""

    def pages() -> Iterator[list[msgspec.Raw]]:
        for page in iter_pages(client.session, url, client.max_pages):
            stats.add_page(dataset.name, len(page))
            yield page

    def imported(path: str, futures: list[Future[Written]]) -> FileImport:
        """A finished file for dlt to import (waits for its batches; a failed one raises)."""
        written = [future.result() for future in futures]
        for batch in written:
            stats.add_fields(dataset.name, batch.fields)
        return dlt.mark.with_file_import(path, "csv", sum(batch.rows for batch in written))

    load_id = dlt.current.load_package_state()["load_id"]
    in_flight: deque[Future[Written]] = deque()
    files: list[tuple[str, list[Future[Written]]]] = []  # closed, not yet handed to dlt
    path, current = converter.new_file(dataset.name), []
    try:
        for batch in record_batches(pages(), BATCH_ROWS):
            if len(in_flight) >= MAX_BATCHES_IN_FLIGHT:  # bounds memory if conversion falls behind
                in_flight.popleft().result()  # and a batch that fails stops the fetch here
            future = converter.submit(
                Batch(dataset.name, batch, dataset.columns, dataset.exact, load_id, path, header=not current,
                      key=dataset.key)
            )
            in_flight.append(future)
            current.append(future)
            if len(current) == FILE_BATCHES:
                files.append((path, current))
                path, current = converter.new_file(dataset.name), []
        if current:
            files.append((path, current))
        finished = [imported(path, futures) for path, futures in files]  # every batch is written now
        check_declared_fields(dataset, stats)
    except Exception as failure:  # noqa: BLE001 - this dataset's failure, reported by the run
        wait(in_flight)  # no batch of it is written after this
        stats.failures[dataset.name] = too_deep(dataset, failure) if isinstance(failure, TooDeepError) else failure
        return
    yield from finished


def too_deep(dataset: Dataset, failure: TooDeepError) -> RunError:
    """A page too deeply nested to parse, named by its record's key and field."""
    if failure.record is None:
        return RunError(f"{dataset.name}: {failure}")
    return RunError(json_scan.too_deep_message(dataset.name, failure.record, dataset.key))


def dataset_resource(
    dataset: Dataset,
    client: HawkClient,
    base_url: str,
    stats: FetchStats,
    converter: Converter,
    updated_since: dt.date | None = None,
) -> DltResource:
    """A resource fetching every page of one dataset, loaded with COPY: the whole dataset
    replacing its raw table, or (`updated_since`) the records modified since, merged into
    it by key."""
    columns = {
        column: {"data_type": data_type, "nullable": True}
        for column, data_type in dataset.columns.items()
    }
    columns[EXTRA_FIELDS] = {"data_type": "json", "nullable": True}
    columns.update(LINEAGE_COLUMNS)
    parameters = dict(dataset.query)
    if updated_since is not None:
        parameters["updated_since"] = updated_since.isoformat()
    url = base_url + dataset.endpoint + (f"?{urlencode(parameters)}" if parameters else "")
    return dlt.resource(
        _fetch(client, url, dataset, stats, converter),
        name=dataset.name,
        write_disposition="replace" if updated_since is None else "merge",
        primary_key=dataset.key if updated_since is not None else None,
        columns=columns,
        file_format="csv",
        parallelized=True,
    )


@dlt.source(name=SOURCE_NAME, max_table_nesting=0)
def datahub(
    base_url: str,
    hawk_id: str,
    hawk_key: Secret,
    algorithm: str,
    timeout: float,
    retry_seconds: float,
    datasets: list[Dataset],
    stats: FetchStats,
    converter: Converter,
    ca_bundle: str | None = None,
    updated_since: dict[str, dt.date] | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> list[DltResource]:
    """All selected datasets; fetched concurrently, nested values kept in their row.

    `ca_bundle` is the CA certificates file to verify Data Hub's TLS certificate with
    (`Settings.ca_bundle`); None uses the ones requests ships. `updated_since` names the
    datasets fetched incrementally, with the date to ask for."""
    client = HawkClient(
        hawk_id,
        hawk_key,
        algorithm,
        timeout=timeout,
        retry_seconds=retry_seconds,
        max_pages=max_pages,
        base_url=base_url,
        verify=ca_bundle or True,
    )
    since = updated_since or {}
    return [dataset_resource(d, client, base_url, stats, converter, since.get(d.name)) for d in datasets]
