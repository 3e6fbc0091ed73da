"""Upstream changes between runs, and Data Hub's `updated_since` filter.

Data Hub's dataset views take `updated_since`, parse it as a date (DRF's DateField:
`YYYY-MM-DD`, nothing else) and keep the records with `modified_on >` that date's
midnight (UTC); they never report deletions. To let tests and the demo exercise an
incremental extract, the stand-in can change its data while it runs: records edited
(new values, `modified_on` now), inserted (new keys at the end) or deleted, and fields
added to or dropped from every record (schema drift).

A record's `modified_on` is its own field where the dataset sends one (investment
projects, contacts, companies, interactions, ...); the other datasets filter on a hidden
one, as OMIS does upstream (it filters on `modified_on` without returning it): for the
stand-in's unedited records that is their `created_on`.

An edit keeps a record's key and `created_on` and every id it names: those derive from its
index and the universe's base seed (`standin.data`, `standin.related`), not its own seed.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from standin.data import record, record_json
from standin.jsonenc import dumps
from standin.related import Universe

#: The fields an edit keeps: what identifies a record (and when it was created). The ids it
#: names stay too, being derived from the index and the universe, never the record's seed.
KEEP_ON_EDIT = ("id", "history_id", "reference", "project_reference", "created_on")
#: Edited records take their new values from the record of the same index under
#: another seed (one of this many), so a second edit may change values again.
EDIT_SEEDS = 3
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadFilter(ValueError):
    """An `updated_since` value DRF's DateField would refuse (HTTP 400)."""


def parse_updated_since(values: list[str] | None) -> dt.datetime | None:
    """The instant records must be modified after, from the query's `updated_since`.

    None (no filter) when absent, empty or "null", as Data Hub's parse_date returns."""
    if not values:
        return None
    value = values[-1]
    if value in ("", "null"):
        return None
    if not _DATE.fullmatch(value):
        raise BadFilter(value)
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise BadFilter(value) from exc
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def instant(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass
class DatasetChanges:
    """What changed in one dataset since the stand-in started."""

    base_count: int
    count: int
    edited: dict[int, tuple[int, dt.datetime]] = field(default_factory=dict)  # index -> (edit number, at)
    deleted: set[int] = field(default_factory=set)
    added: dict[str, Any] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)

    @property
    def any(self) -> bool:
        return bool(self.edited or self.deleted or self.added or self.dropped or self.count != self.base_count)


class Changes:
    """The changes of every dataset, and the record listings they give, cached."""

    def __init__(self, counts: dict[str, int], seed: int,
                 recorded: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.seed = seed
        #: Datasets served as given (real pages' records) instead of generated; not editable.
        self.recorded = recorded or {}
        self.datasets = {name: DatasetChanges(count, count) for name, count in counts.items()}
        self.universe = Universe(dict(counts), seed)  # what related records name
        self._lock = threading.Lock()
        self._version = 0
        self._listings: dict[tuple[str, dt.datetime | None, int], Sequence[int]] = {}
        self._base: dict[str, tuple[list[float], list[int]]] = {}

    # -- changing the data (tests, the demo) -------------------------------

    def edit(self, dataset: str, indices: Iterable[int], at: dt.datetime) -> None:
        if dataset in self.recorded:
            raise ValueError(f"{dataset} is served as recorded: its records cannot be edited")
        with self._lock:
            changes = self.datasets[dataset]
            for index in indices:
                if not 0 <= index < changes.count or index in changes.deleted:
                    raise ValueError(f"{dataset} has no record {index}")
                number = changes.edited.get(index, (0, at))[0] + 1
                changes.edited[index] = (number, at)
            self._changed()

    def insert(self, dataset: str, how_many: int, at: dt.datetime, first: int = 0) -> list[int]:
        """New records at the end, from index `first` if that is further on (their keys come
        from their index, so a later start can insert records no earlier start had)."""
        with self._lock:
            changes = self.datasets[dataset]
            start = max(changes.count, first)
            new = list(range(start, start + how_many))
            changes.count = start + how_many
            for index in new:
                changes.edited[index] = (0, at)  # as generated, modified (created) at `at`
            self._changed()
            return new

    def delete(self, dataset: str, indices: Iterable[int]) -> None:
        with self._lock:
            changes = self.datasets[dataset]
            for index in indices:
                if not 0 <= index < changes.count:
                    raise ValueError(f"{dataset} has no record {index}")
                changes.deleted.add(index)
            self._changed()

    def add_field(self, dataset: str, name: str, value: Any) -> None:
        with self._lock:
            self.datasets[dataset].added[name] = value
            self._changed()

    def drop_field(self, dataset: str, name: str) -> None:
        with self._lock:
            self.datasets[dataset].dropped.add(name)
            self._changed()

    @property
    def version(self) -> int:
        """Increases with every change: what a cached page was rendered from."""
        return self._version

    def _changed(self) -> None:
        self._version += 1
        self._listings.clear()

    # -- serving -------------------------------------------------------------

    def listing(self, dataset: str, since: dt.datetime | None) -> Sequence[int]:
        """The indices served, in order: live records, modified after `since` if given."""
        changes = self.datasets[dataset]
        if since is None and not changes.any:
            return range(changes.count)
        with self._lock:
            key = (dataset, since, self._version)
            cached = self._listings.get(key)
            if cached is None:
                cached = self._listings[key] = self._list(dataset, since)
            return cached

    def _list(self, dataset: str, since: dt.datetime | None) -> list[int]:
        changes = self.datasets[dataset]
        if since is None:
            base: Iterable[int] = range(changes.base_count)
        else:
            moments, indices = self._base_modified(dataset)
            base = indices[bisect.bisect_right(moments, since.timestamp()):]
        chosen = {i for i in base if i not in changes.edited}
        chosen.update(i for i, (_, at) in changes.edited.items() if since is None or at > since)
        return sorted(chosen - changes.deleted)

    def _base_modified(self, dataset: str) -> tuple[list[float], list[int]]:
        """Unedited records' modified_on (their own, else created_on), sorted, with their indices."""
        cached = self._base.get(dataset)
        if cached is None:
            pairs = []
            for index in range(self.datasets[dataset].base_count):
                original = self._original(dataset, index)
                moment = instant(original.get("modified_on", original.get("created_on")))
                if moment is not None:  # NULL is never greater than anything
                    pairs.append((moment.timestamp(), index))
            pairs.sort()
            cached = self._base[dataset] = ([p[0] for p in pairs], [p[1] for p in pairs])
        return cached

    def prepare(self) -> None:
        """Build every dataset's `modified_on` index now rather than on the first filtered request."""
        for dataset in self.datasets:
            self._base_modified(dataset)

    def current(self, dataset: str, index: int) -> dict[str, Any]:
        """Record `index` as it is served now."""
        changes = self.datasets[dataset]
        edited = changes.edited.get(index)
        if edited is None or edited[0] == 0:
            out = self._original(dataset, index)
        else:
            original = record(dataset, index, seed=self.seed, universe=self.universe)
            out = record(dataset, index, seed=self.seed + 1 + (edited[0] - 1) % EDIT_SEEDS, universe=self.universe)
            out.update({name: original[name] for name in KEEP_ON_EDIT if name in original})
        if edited is not None and "modified_on" in out:
            out["modified_on"] = stamp(edited[1])
        for name in changes.dropped:
            out.pop(name, None)
        out.update(changes.added)
        return out

    def _original(self, dataset: str, index: int) -> dict[str, Any]:
        """Record `index` as first served: recorded, or generated."""
        if dataset in self.recorded:
            return dict(self.recorded[dataset][index])
        return record(dataset, index, seed=self.seed, universe=self.universe)

    def encoded(self, dataset: str, index: int) -> bytes:
        """`current` as JSON; the stand-in's fast path when nothing about the record changed."""
        changes = self.datasets[dataset]
        if index in changes.edited or changes.dropped or dataset in self.recorded:
            return dumps(self.current(dataset, index))
        body = record_json(dataset, index, seed=self.seed, universe=self.universe)
        if changes.added:
            body = body[:-1] + b"," + dumps(changes.added)[1:]
        return body
