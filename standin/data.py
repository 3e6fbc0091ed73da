"""Deterministic, realistic demo records, fast enough to serve millions.

The seed's three datasets (OMIS orders, investment projects, contacts) carry the fields
Data Hub's dataset views send today (`standin.fields`): ids where the 2019 views sent
joined names, since a client now finds a company's name, a contact's email or an
adviser's team by looking the id up in another dataset.

Building a fully random record costs ~100 µs (``standin.builders``), which
would make the stand-in, not the extractor, the bottleneck of a benchmark.
So each record is *composed*: its fields are split into groups that must stay
mutually consistent (an order's status and its dates; an address; a
person), and each group is copied from one of ~1000 pre-built records,
chosen by a per-group modular hash of the index. Group pool sizes are
distinct primes, so two records can only match in every group if their
indices differ by a multiple of the product of those primes (over 10**12).

Index-derived fields are re-derived per index: the record's id (and OMIS reference,
project reference), and every id it names, from the index and the `related.Universe`
(record counts and base seed) it is served in, never from the record's own seed, so an
edit (`standin.changes`: values from another seed) keeps them. The pool row (of the base
seed) only decides whether a reference is null, or how many ids a list holds. The
references (`_REFS`):

* OMIS: `company_id` a company, `contact_id` a contact, `created_by_id` an adviser and
  `created_by__dit_team_id` that adviser's `dit_team_id` (`Universe.adviser_team`).
* Contacts: `company_id` a company (or null), `created_by_id` an adviser.
* Investment projects: the five adviser roles (`*_id`) and `team_member_ids` advisers
  (`[null]` with no members); `investor_company_id`, `uk_company_id` companies;
  `client_contact_ids` contacts (sorted; `[null]` when none), with
  `client_contact_names` (first and last name, ordered by them; `[" "]` when none) and
  `client_contact_emails` (sorted; `[null]`) of the same contacts as they are served
  unedited; `associated_non_fdi_r_and_d_project_id` another project (or null);
  `eyb_lead_ids` ids of a dataset not served (or null).

A referenced index is `Universe.pick`: a 64-bit mix of the index, the field's salt and
the base seed, modulo the referenced count. With no universe, or a referenced count of 0,
a reference names an id no record has. Dangling on purpose (`related.DANGLING_EVERY`):
every 53rd OMIS order's and every 61st contact's `company_id`, every 59th project's
`project_manager_id` (the record whose index is N - 1 modulo N).

Every record is a pure function of ``(dataset, index, seed, universe)``, memory
is constant (a few MB of pools per dataset and seed), and the server can
emit a page straight from pre-encoded JSON fragments of the same pools.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

from standin import builders, related
from standin.builders import SHARED_AT, SHARED_EVERY, is_shared, omis_reference
from standin.fields import FIELDS, field_names
from standin.jsonenc import dumps
from standin.related import mix

DATASET_PATHS: dict[str, str] = {
    "omis_dataset": "/v4/dataset/omis-dataset",
    "investment_projects_dataset": "/v4/dataset/investment-projects-dataset",
    "contacts": "/v4/dataset/contacts-dataset",
}

#: Every dataset the stand-in serves: the seed's three (composed from pools, below) and the
#: ones whose records name each other (`standin.related`).
ALL_PATHS: dict[str, str] = {**DATASET_PATHS, **related.PATHS}

SHARED_CREATED_ON = builders.SHARED_CREATED_ON

__all__ = ["ALL_PATHS", "DATASET_PATHS", "SHARED_CREATED_ON", "field_names", "record", "record_json",
           "records", "seed_id"]

#: Distinct primes: the pool size of group g is _PRIMES[g].
_NODE_SPACE = 1 << 48
_PRIMES = (1031, 1021, 1019, 1013, 1009, 997, 991, 983, 977)
_SHARED_POOL = 101
_CACHED_SEEDS = 8

#: Fields that must come from the same pre-built record. The first group is
#: the "lifecycle" (it holds created_on), drawn from a separate pool for the
#: records that share one created_on. Fields in no group (and not derived) form a last group.
_GROUPS: dict[str, tuple[tuple[str, ...], ...]] = {
    "omis_dataset": (
        (
            "status", "created_on", "cancelled_on", "cancellation_reason__name", "completed_on",
            "delivery_date", "paid_on", "invoice__subtotal_cost", "subtotal_cost", "total_cost", "vat_cost",
            "quote__created_on", "quote__accepted_on", "refund_created", "refund_total_amount",
        ),
        ("sector_name", "primary_market__name", "uk_region__name", "services"),
    ),
    "investment_projects_dataset": (
        (
            "created_on", "stage__name", "status", "actual_land_date", "estimated_land_date", "modified_on",
            "project_first_moved_to_won",
        ),
        ("name", "description", "anonymous_description", "client_requirements", "other_business_activity"),
        (
            "actual_uk_region_names", "business_activity_names", "competing_countries",
            "delivery_partner_names", "strategic_driver_names", "specific_programme_names",
            "uk_region_location_names",
        ),
        (
            "foreign_equity_investment", "gross_value_added", "gva_multiplier__multiplier",
            "total_investment", "number_new_jobs", "number_safeguarded_jobs",
        ),
        ("export_revenue", "government_assistance", "new_tech_to_uk", "non_fdi_r_and_d_budget", "r_and_d_budget"),
        (
            "investment_type__name", "fdi_type__name", "fdi_value__name",
            "likelihood_to_land__name", "level_of_involvement_name", "average_salary__name",
            "referral_source_activity__name", "referral_source_activity_marketing__name",
            "referral_source_activity_website__name", "investor_type__name",
        ),
        (
            "investor_company_sector", "sector_name", "uk_company_sector",
            "country_investment_originates_from_id", "country_investment_originates_from__name",
        ),
        ("address_1", "address_2", "address_town", "address_postcode"),
    ),
    "contacts": (
        ("created_on", "modified_on", "archived", "archived_on"),
        (
            "first_name", "last_name", "name", "email", "job_title", "full_telephone_number", "notes",
            "valid_email", "primary",
        ),
        (
            "address_1", "address_2", "address_town", "address_county", "address_postcode",
            "address_country__name", "address_same_as_company",
        ),
    ),
}  # fmt: skip

#: The contacts' group of names and email (what a project's client contact lists show).
_PERSON_GROUP = 1

#: The id's salt (it keeps ids distinct across datasets).
_ID_SALTS = {"omis_dataset": 11, "investment_projects_dataset": 37, "contacts": 53}

_ADVISERS = "data_hub__advisers"
_COMPANIES = "data_hub__companies"
#: What each reference names: (field, referenced dataset, salt, group whose pool row says
#: whether it is null or how many ids its list holds). Lists name distinct records.
_REFS: dict[str, tuple[tuple[str, str, int, int], ...]] = {
    "omis_dataset": (
        ("company_id", _COMPANIES, 1, 1),
        ("contact_id", "contacts", 2, 1),
        ("created_by_id", _ADVISERS, 3, 1),
    ),
    "investment_projects_dataset": (
        ("client_relationship_manager_id", _ADVISERS, 1, 0),
        ("created_by_id", _ADVISERS, 2, 0),
        ("modified_by_id", _ADVISERS, 3, 0),
        ("project_assurance_adviser_id", _ADVISERS, 4, 0),
        ("project_manager_id", _ADVISERS, 5, 0),
        ("team_member_ids", _ADVISERS, 6, 2),
        ("investor_company_id", _COMPANIES, 7, 6),
        ("uk_company_id", _COMPANIES, 8, 6),
        ("client_contact_ids", "contacts", 9, 2),
        ("associated_non_fdi_r_and_d_project_id", "investment_projects_dataset", 10, 4),
        ("eyb_lead_ids", "eyb_leads", 11, 2),  # a dataset the stand-in does not serve
    ),
    "contacts": (
        ("company_id", _COMPANIES, 1, 2),
        ("created_by_id", _ADVISERS, 2, 0),
    ),
}
#: Fields derived from other references.
_DEPENDENT = {
    "omis_dataset": ("created_by__dit_team_id",),
    "investment_projects_dataset": ("client_contact_names", "client_contact_emails"),
    "contacts": (),
}
_ONE, _LIST, _SELF = range(3)
#: Sorted lists (the others keep the order their rows were added in).
_SORTED = frozenset({"client_contact_ids", "eyb_lead_ids"})


class _Layout:
    """Per-dataset plan: index-derived fields first, then each group's fields.

    Keys are emitted derived fields first, then group by group (not in the view's
    order) so that a record's JSON is a handful of pre-joined group strings; JSON key
    order carries no meaning, and clients must not rely on it.
    """

    def __init__(self, dataset: str) -> None:
        self.dataset = dataset
        names = field_names(dataset)
        declared = _GROUPS[dataset]
        self.refs = _REFS[dataset]
        derived = {"id", *(name for name, *_ in self.refs), *_DEPENDENT[dataset]}
        derived |= {"omis_dataset": {"reference"}, "investment_projects_dataset": {"project_reference"}}.get(
            dataset, set())
        grouped = {name for members in declared for name in members}
        rest = tuple(n for n in names if n not in grouped and n not in derived)
        groups = tuple(tuple(n for n in names if n in members) for members in declared) + (rest,)
        assert not grouped & derived and sorted(grouped | derived | set(rest)) == sorted(names), dataset
        assert len(groups) <= len(_PRIMES)
        self.groups: tuple[tuple[str, ...], ...] = groups
        self.derived: tuple[str, ...] = tuple(n for n in names if n in derived)
        self.id_salt = _ID_SALTS[dataset]
        self.last = len(groups) - 1
        self.lists = frozenset(f.name for f in FIELDS[dataset] if f.base.startswith("array"))
        #: Per reference: (field, referenced dataset, salt, shape group, dangling every N or 0, kind).
        self.ref_ops = tuple(
            (name, target, salt, group, related.DANGLING_EVERY.get((dataset, name), 0),
             _LIST if name in self.lists else _SELF if target == dataset else _ONE)
            for name, target, salt, group in self.refs
        )

    def slots(self, index: int) -> list[int]:
        """Pool row per group; group 0 comes from the shared pool for shared indices.

        The multipliers 7919 + 2g are not multiples of their primes, so each
        group's row cycles through its whole pool.
        """
        slots = [(index * (2 * g + 7919) + 31 * g) % _PRIMES[g] for g in range(len(self.groups))]
        if is_shared(index):
            slots[0] = (index // SHARED_EVERY) % _SHARED_POOL
        return slots

    def id_slot(self, index: int) -> int:
        """The pool row (of the last group) whose builder id gives record ``index`` its id's look."""
        g = self.last
        return (index * (2 * g + 7919) + 31 * g) % _PRIMES[g]


_LAYOUTS = {name: _Layout(name) for name in DATASET_PATHS}


class _Pool:
    """Pre-built records, and each group pre-encoded as JSON, for one dataset and seed.

    Pool rows keep the builder's own ids and reference placeholders; those are replaced
    per index. ``*_json[row][g]`` is ``"k1":v1,"k2":v2`` for group ``g``'s fields.
    """

    def __init__(self, dataset: str, seed: int) -> None:
        layout = _LAYOUTS[dataset]
        normal_indices = (i for i in range(10**9) if not is_shared(i))
        shared_indices = (SHARED_AT + SHARED_EVERY * k for k in range(_SHARED_POOL))
        self.normal = [builders.build(dataset, next(normal_indices), seed) for _ in range(max(_PRIMES))]
        self.shared = [builders.build(dataset, i, seed) for i in shared_indices]
        self.normal_json: list[tuple[bytes, ...]] = [_encode_groups(layout, row) for row in self.normal]
        #: The look of record ids (all but their last 12 hex digits; see ``seed_id``).
        self.id_prefixes = [row["id"][:24] for row in self.normal]
        self.shared_json: list[tuple[bytes, ...]] = [_encode_groups(layout, row) for row in self.shared]


def _encode_groups(layout: _Layout, row: dict[str, Any]) -> tuple[bytes, ...]:
    # UTF-8 bytes, not str: joining str pages that mix Latin-1 with emoji widens
    # the whole page to UCS-4, which cost more than generating it.
    return tuple(
        b",".join(f"{json.dumps(name)}:".encode() + dumps(row[name]) for name in members)
        for members in layout.groups
    )


_POOLS: dict[tuple[str, int], _Pool] = {}
#: The universe of a record asked for without one, per seed (it caches id prefixes).
_LONE: dict[int, related.Universe] = {}
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


def seed_id(dataset: str, index: int, seed: int = 0) -> str:
    """The id of record ``index`` of a seed dataset (what ``record(...)["id"]`` is), cheaply."""
    layout = _LAYOUTS[dataset]
    pool = _POOLS.get((dataset, seed)) or _pool(dataset, seed)
    return f"{pool.id_prefixes[layout.id_slot(index)]}{(index * 0x9E3779B97F4B + layout.id_salt) % _NODE_SPACE:012x}"


def _person(universe: related.Universe, contact: int) -> tuple[str, str, str]:
    """First name, last name and email of contact ``contact`` as served unedited in ``universe``."""
    pool = _POOLS.get(("contacts", universe.seed)) or _pool("contacts", universe.seed)
    row = pool.normal[(contact * (2 * _PERSON_GROUP + 7919) + 31 * _PERSON_GROUP) % _PRIMES[_PERSON_GROUP]]
    return row["first_name"], row["last_name"], row["email"]


def _references(layout: _Layout, index: int, universe: related.Universe, rows: list[dict[str, Any]],
                values: dict[str, Any]) -> None:
    """Fill ``values`` with the ids record ``index`` names (see the module docstring)."""
    counts, id_of, seed = universe.counts, universe.id_of, universe.seed
    contacts: list[int] = []
    for name, target, salt, group, every, kind in layout.ref_ops:
        shape = rows[group][name]
        if every and index % every == every - 1:  # dangling on purpose (related.DANGLING_EVERY)
            values[name] = universe.dangling(target, index, salt)
        elif shape is None:
            values[name] = None
        elif kind == _LIST:
            if shape == [None]:
                values[name] = [None]
                continue
            chosen, ids = _many(target, salt, index, len(shape), universe)
            values[name] = sorted(ids) if name in _SORTED else ids
            if name == "client_contact_ids":
                contacts = chosen
        elif kind == _SELF:  # another record of the same dataset
            count = counts.get(target, 0)
            if count <= 1:
                values[name] = None
            else:
                j = mix(index, salt * 1_000_003 + seed) % (count - 1)
                values[name] = id_of(target, j + (j >= index))
        else:
            count = counts.get(target, 0)
            values[name] = (id_of(target, mix(index, salt * 1_000_003 + seed) % count) if count > 0
                            else universe.dangling(target, index, salt))
    if layout.dataset == "omis_dataset":
        if values["created_by_id"] is None:
            values["created_by__dit_team_id"] = None
        else:
            j = universe.pick(_ADVISERS, index, 3)
            values["created_by__dit_team_id"] = universe.adviser_team(
                universe.mix(index, 3) % (1 << 31) if j is None else j)
    elif layout.dataset == "investment_projects_dataset":
        if contacts:
            people = [_person(universe, j) for j in contacts]
            values["client_contact_names"] = [f"{first} {last}" for first, last, _ in sorted(people)]
            values["client_contact_emails"] = sorted(email for _, _, email in people)
        else:
            values["client_contact_names"] = [" "]  # Concat(first, ' ', last) over no rows
            values["client_contact_emails"] = [None]


def _many(target: str, salt: int, index: int, how_many: int, universe: related.Universe,
          ) -> tuple[list[int], list[str]]:
    """``how_many`` distinct ``target`` records (fewer if fewer are served): their indices and ids.

    With none served the ids name no record (the indices then only give them names)."""
    count = universe.count(target)
    if count <= 0 or target not in ALL_PATHS:
        chosen = [universe.mix(index, salt * 64 + k) % (1 << 31) for k in range(how_many)]
        return chosen, [universe.dangling(target, index, salt * 64 + k) for k in range(how_many)]
    chosen = []
    for k in range(how_many * 3):
        j = universe.mix(index, salt * 64 + k) % count
        if j not in chosen:
            chosen.append(j)
            if len(chosen) == how_many:
                break
    return chosen, [universe.id_of(target, j) for j in chosen]


def _compose(dataset: str, index: int, seed: int, universe: related.Universe | None,
             ) -> tuple[_Layout, _Pool, list[int], dict[str, Any]]:
    """Pool rows for ``index`` plus the values derived from the index (and the universe)."""
    layout = _LAYOUTS.get(dataset)
    if layout is None:
        raise ValueError(f"unknown dataset {dataset!r}")
    if index < 0:
        raise ValueError("index must be >= 0")
    if universe is None:  # nothing served: every reference names no record
        universe = _LONE.get(seed) or _LONE.setdefault(seed, related.Universe({}, seed))
    pool = _pool(dataset, seed)
    slots = layout.slots(index)
    # The id and the shape of the references come from the universe's base seed, so that an
    # edit (another seed) changes neither.
    base = pool if universe.seed == seed else _pool(dataset, universe.seed)
    rows = [base.normal[slot] for slot in slots]
    if is_shared(index):
        rows[0] = base.shared[slots[0]]
    values: dict[str, Any] = {"id": seed_id(dataset, index, universe.seed)}
    _references(layout, index, universe, rows, values)
    if dataset == "omis_dataset":
        values["reference"] = omis_reference(index, seed, int(rows[0]["created_on"][:4]))
    elif dataset == "investment_projects_dataset":
        values["project_reference"] = f"DHP-{index + 1:08d}"
    return layout, pool, slots, values


def record(dataset: str, index: int, *, seed: int = 0, universe: related.Universe | None = None) -> dict[str, Any]:
    """Record number ``index`` of ``dataset``: a pure function of its arguments.

    Keys are Data Hub's field names (``standin.fields``); values are JSON-ready. The ids a
    record names are those of records served in ``universe`` (none without one: see the
    module docstring); the datasets of ``standin.related`` need it.
    """
    if dataset in related.PATHS:
        if universe is None:
            raise ValueError(f"{dataset}'s records name other records: give their universe")
        return related.record(dataset, index, universe, seed=seed)
    layout, pool, slots, values = _compose(dataset, index, seed, universe)
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


def _encode_derived(name: str, value: Any) -> str:
    if value is None:
        return f'"{name}":null'
    if type(value) is str:  # ids and references: ASCII, nothing to escape
        return f'"{name}":"{value}"'
    if value[0] is None:  # the empty forms: [null]; [" "] is below
        return f'"{name}":[null]'
    if name in _ID_LISTS:
        return f'"{name}":["' + '","'.join(value) + '"]'
    return f'"{name}":{_ENCODE(value)}'


#: What ``standin.jsonenc.dumps`` writes for lists of strings, as text.
_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
#: Derived lists of ids (ASCII; `[null]` or no null element).
_ID_LISTS = frozenset({"team_member_ids", "client_contact_ids", "eyb_lead_ids"})


def record_json(dataset: str, index: int, *, seed: int = 0, universe: related.Universe | None = None) -> bytes:
    """Exactly ``standin.jsonenc.dumps(record(dataset, index, seed=seed, universe=universe))``.

    Joins pre-encoded group strings from the pools instead of encoding a
    dict, which is what lets the server produce hundreds of pages a second.
    """
    if dataset in related.PATHS:
        return dumps(record(dataset, index, seed=seed, universe=universe))
    layout, pool, slots, values = _compose(dataset, index, seed, universe)
    rows = [pool.normal_json[slot] for slot in slots]
    if is_shared(index):
        rows[0] = pool.shared_json[slots[0]]
    parts = [",".join([_encode_derived(name, values[name]) for name in layout.derived]).encode()]
    parts += [row[g] for g, row in enumerate(rows) if layout.groups[g]]
    return b"{" + b",".join(parts) + b"}"


def records(dataset: str, count: int, *, seed: int = 0, universe: related.Universe | None = None,
            ) -> Iterator[dict[str, Any]]:
    """Records 0..count-1 of ``dataset``, generated lazily (see ``record``)."""
    for index in range(count):
        yield record(dataset, index, seed=seed, universe=universe)
