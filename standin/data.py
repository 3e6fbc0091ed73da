"""Deterministic, realistic demo records, fast enough to serve millions.

Building a fully random record costs ~100 µs (``standin.builders``), which
would make the stand-in, not the extractor, the bottleneck of a benchmark.
So each record is *composed*: its fields are split into groups that must stay
mutually consistent (an order's status and its dates; an address; a
contact), and each group is copied from one of ~1000 pre-built records,
chosen by a per-group modular hash of the index. Group pool sizes are
distinct primes, so two records can only match in every group if their
indices differ by a multiple of the product of those primes (over 10**12),
and index-derived fields (ids, references) are re-derived per index, so they
stay unique.

Every record is still a pure function of ``(dataset, index, seed)``, memory
is constant (a few MB of pools per dataset and seed), and the server can
emit a page straight from pre-encoded JSON fragments of the same pools.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

from standin import builders, related
from standin.builders import SHARED_AT, SHARED_EVERY, is_shared, omis_reference, retag_uuid
from standin.fields import FIELDS, LIST, UNMAPPED_EXTRA_FIELDS
from standin.jsonenc import dumps

DATASET_PATHS: dict[str, str] = {
    "omis_dataset": "/v4/dataset/omis-dataset",
    "investment_projects_dataset": "/v4/dataset/investment-projects-dataset",
    "contacts": "/v4/dataset/contacts-dataset",
}

#: Every dataset the stand-in serves: the seed's three (composed from pools, below) and the
#: ones whose records name each other (`standin.related`).
ALL_PATHS: dict[str, str] = {**DATASET_PATHS, **related.PATHS}

SHARED_CREATED_ON = builders.SHARED_CREATED_ON

#: Distinct primes: the pool size of group g is _PRIMES[g].
_PRIMES = (1031, 1021, 1019, 1013, 1009, 997, 991, 983, 977)
_SHARED_POOL = 101
_CACHED_SEEDS = 8

#: Fields that must come from the same pre-built record. The first group is
#: the "lifecycle" (it holds created_on), drawn from a separate pool for the
#: records that share one created_on. Fields in no group form a last group.
_GROUPS: dict[str, tuple[tuple[str, ...], ...]] = {
    "omis_dataset": (
        (
            "status", "created_on", "cancelled_on", "cancellation_reason__name", "completed_on",
            "delivery_date", "paid_on", "invoice__subtotal_cost", "subtotal_cost",
        ),
        ("contact__first_name", "contact__last_name", "contact__email", "contact__telephone_number"),
        (
            "company__name", "sector_name", "primary_market__name", "created_by__dit_team__name",
            "uk_region__name", "services",
        ),
    ),
    "investment_projects_dataset": (
        (
            "created_on", "stage__name", "status", "archived", "archived_by_name",
            "archived_by__dit_team__name", "archived_on", "actual_land_date", "date_abandoned",
            "date_lost", "country_lost_to__name", "estimated_land_date", "modified_on",
        ),
        (
            "account_manager_name", "account_manager_team", "client_relationship_manager_name",
            "client_relationship_manager__dit_team__name", "created_by_name",
            "created_by__dit_team__name", "modified_by_name", "modified_by__dit_team__name",
            "project_assurance_adviser_name", "project_assurance_adviser__dit_team__name",
            "project_manager_name", "project_manager__dit_team__name",
        ),
        ("name", "description", "anonymous_description", "clint_requirements"),
        (
            "actual_uk_region_names", "business_activity_names", "competing_countries",
            "delivery_partner_names", "strategic_driver_names", "team_member_names",
        ),
        (
            "foreign_equity_investment", "gross_value_added", "gva_multiplier__multiplier",
            "total_investment", "number_new_jobs", "number_safeguarded_jobs",
        ),
        (
            "allow_blank_possible_uk_regions", "export_revenue", "government_assistance",
            "new_tech_to_uk", "non_fdi_r_and_d_budget", "quotable_as_public_case_study",
            "r_and_d_budget", "some_new_jobs", "uk_company_decided",
        ),
        (
            "investment_type__name", "fdi_type__name", "fdi_value__name",
            "likelihood_to_land__name", "level_of_involvement_name", "average_salary__name",
            "specific_programme__name", "referral_source_activity__name",
            "referral_source_activity_marketing__name", "referral_source_activity_website__name",
            "investor_type__name",
        ),
        (
            "investor_company__headquarter_type__name", "investor_company__one_list_tier__name",
            "investor_company_sector", "investor_company__uk_region__name", "sector_name",
            "uk_company__uk_region__name", "uk_company_sector",
        ),
    ),
    "contacts": (
        ("created_on",),
        (
            "name", "email", "email_alternative", "job_title", "telephone_number",
            "telephone_alternative", "notes",
        ),
        (
            "company__name", "company__company_number", "company__uk_region__name",
            "company_sector", "address_country__name",
        ),
    ),
}  # fmt: skip

#: UUID fields re-derived per index (salt keeps them distinct across fields).
_UUID_FIELDS: dict[str, tuple[tuple[str, int], ...]] = {
    "omis_dataset": (("id", 11),),
    "investment_projects_dataset": (
        ("id", 37),
        ("associated_non_fdi_r_and_d_project__id", 23),
        ("investor_company__id", 41),
        ("uk_company__id", 43),
    ),
    "contacts": (("id", 53),),
}


def field_names(dataset: str) -> tuple[str, ...]:
    """Every key a record of ``dataset`` has (mapped fields plus unmapped extras).

    This is mapping order; records emit the same keys grouped (see ``_Layout``).
    """
    return tuple(f.name for f in UNMAPPED_EXTRA_FIELDS[dataset] + FIELDS[dataset])


class _Layout:
    """Per-dataset plan: index-derived fields first, then each group's fields.

    Keys are emitted group by group (not in mapping order) so that a record's
    JSON is a handful of pre-joined group strings; JSON key order carries no
    meaning, and clients must not rely on it.
    """

    def __init__(self, dataset: str) -> None:
        self.dataset = dataset
        names = field_names(dataset)
        declared = _GROUPS[dataset]
        salts = dict(_UUID_FIELDS[dataset])
        derived = set(salts) | ({"reference"} if dataset == "omis_dataset" else set())
        if dataset == "investment_projects_dataset":
            derived.add("project_reference")
        grouped = {name for members in declared for name in members}
        rest = tuple(n for n in names if n not in grouped and n not in derived)
        groups = tuple(tuple(n for n in names if n in members) for members in declared) + (rest,)
        assert not grouped & derived and sorted(grouped | derived | set(rest)) == sorted(names)
        self.groups: tuple[tuple[str, ...], ...] = groups
        self.derived: tuple[str, ...] = tuple(n for n in names if n in derived)
        group_of = {name: g for g, members in enumerate(groups) for name in members}
        #: (field, salt, group whose pool row decides whether the id is null)
        self.uuid_fields = tuple(
            (name, salt, group_of.get(name, len(groups) - 1)) for name, salt in salts.items()
        )
        self.lists = frozenset(f.name for f in FIELDS[dataset] if f.kind == LIST)

    def slots(self, index: int) -> list[int]:
        """Pool row per group; group 0 comes from the shared pool for shared indices.

        The multipliers 7919 + 2g are not multiples of their primes, so each
        group's row cycles through its whole pool.
        """
        slots = [(index * (2 * g + 7919) + 31 * g) % _PRIMES[g] for g in range(len(self.groups))]
        if is_shared(index):
            slots[0] = (index // SHARED_EVERY) % _SHARED_POOL
        return slots


_LAYOUTS = {name: _Layout(name) for name in DATASET_PATHS}


class _Pool:
    """Pre-built records, and each group pre-encoded as JSON, for one dataset and seed.

    Pool rows keep the builder's own ids/references; those are replaced per
    index. ``*_json[row][g]`` is ``"k1":v1,"k2":v2`` for group ``g``'s fields.
    """

    def __init__(self, dataset: str, seed: int) -> None:
        layout = _LAYOUTS[dataset]
        normal_indices = (i for i in range(10**9) if not is_shared(i))
        shared_indices = (SHARED_AT + SHARED_EVERY * k for k in range(_SHARED_POOL))
        self.normal = [builders.build(dataset, next(normal_indices), seed) for _ in range(max(_PRIMES))]
        self.shared = [builders.build(dataset, i, seed) for i in shared_indices]
        self.normal_json: list[tuple[bytes, ...]] = [_encode_groups(layout, row) for row in self.normal]
        self.shared_json: list[tuple[bytes, ...]] = [_encode_groups(layout, row) for row in self.shared]


def _encode_groups(layout: _Layout, row: dict[str, Any]) -> tuple[bytes, ...]:
    # UTF-8 bytes, not str: joining str pages that mix Latin-1 with emoji widens
    # the whole page to UCS-4, which cost more than generating it.
    return tuple(
        b",".join(f"{json.dumps(name)}:".encode() + dumps(row[name]) for name in members)
        for members in layout.groups
    )


_POOLS: dict[tuple[str, int], _Pool] = {}
_POOLS_LOCK = threading.Lock()


def _pool(dataset: str, seed: int) -> _Pool:
    """The pool for (dataset, seed), built on first use (~0.1-0.6 s) and cached."""
    key = (dataset, seed)
    pool = _POOLS.get(key)
    if pool is None:
        with _POOLS_LOCK:
            pool = _POOLS.get(key)
            if pool is None:
                pool = _Pool(dataset, seed)
                if len(_POOLS) >= _CACHED_SEEDS * len(DATASET_PATHS):
                    _POOLS.pop(next(iter(_POOLS)))
                _POOLS[key] = pool
    return pool


def _compose(dataset: str, index: int, seed: int) -> tuple[_Layout, _Pool, list[int], dict[str, Any]]:
    """Pool rows for ``index`` plus the values derived from the index itself."""
    layout = _LAYOUTS.get(dataset)
    if layout is None:
        raise ValueError(f"unknown dataset {dataset!r}")
    if index < 0:
        raise ValueError("index must be >= 0")
    pool = _pool(dataset, seed)
    slots = layout.slots(index)
    lifecycle = (pool.shared if is_shared(index) else pool.normal)[slots[0]]
    values: dict[str, Any] = {}
    for name, salt, group in layout.uuid_fields:
        base = (lifecycle if group == 0 else pool.normal[slots[group]])[name]
        values[name] = None if base is None else retag_uuid(base, index, salt)
    if dataset == "omis_dataset":
        values["reference"] = omis_reference(index, seed, int(lifecycle["created_on"][:4]))
    elif dataset == "investment_projects_dataset":
        values["project_reference"] = f"DHP-{index + 1:08d}"
    return layout, pool, slots, values


def record(dataset: str, index: int, *, seed: int = 0, universe: related.Universe | None = None) -> dict[str, Any]:
    """Record number ``index`` of ``dataset``: a pure function of its arguments.

    Keys are Data Hub source field names; values are JSON-ready except
    decimals, which are ``decimal.Decimal`` (serialise them with
    ``standin.jsonenc.dumps`` to keep every digit). The datasets of
    ``standin.related`` name other records: they need the ``universe`` they live in.
    """
    if dataset in related.PATHS:
        if universe is None:
            raise ValueError(f"{dataset}'s records name other records: give their universe")
        return related.record(dataset, index, universe, seed=seed)
    layout, pool, slots, values = _compose(dataset, index, seed)
    rows = [pool.normal[slot] for slot in slots]
    if is_shared(index):
        rows[0] = pool.shared[slots[0]]
    out = {name: values[name] for name in layout.derived}
    for row, members in zip(rows, layout.groups, strict=True):
        for name in members:
            value = row[name]
            # Lists belong to the pool: hand out copies so callers may mutate them.
            out[name] = list(value) if value is not None and name in layout.lists else value
    return out


def record_json(dataset: str, index: int, *, seed: int = 0, universe: related.Universe | None = None) -> bytes:
    """Exactly ``standin.jsonenc.dumps(record(dataset, index, seed=seed))`` (UTF-8 bytes).

    Joins pre-encoded group strings from the pools instead of encoding a
    dict, which is what lets the server produce hundreds of pages a second.
    """
    if dataset in related.PATHS:
        return dumps(record(dataset, index, seed=seed, universe=universe))
    layout, pool, slots, values = _compose(dataset, index, seed)
    rows = [pool.normal_json[slot] for slot in slots]
    if is_shared(index):
        rows[0] = pool.shared_json[slots[0]]
    # Index-derived values are ASCII ids/references: nothing to escape.
    parts = [
        (f'"{name}":null' if values[name] is None else f'"{name}":"{values[name]}"').encode()
        for name in layout.derived
    ]
    parts += [row[g] for g, row in enumerate(rows) if layout.groups[g]]
    return b"{" + b",".join(parts) + b"}"


def records(dataset: str, count: int, *, seed: int = 0) -> Iterator[dict[str, Any]]:
    """Records 0..count-1 of ``dataset``, generated lazily."""
    for index in range(count):
        yield record(dataset, index, seed=seed)
