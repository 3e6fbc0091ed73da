"""Data Hub datasets beyond the seed's three, whose records name each other, and the rules
by which every stand-in record names another.

The nine datasets the later data-flow moved besides the seed's three: an adviser belongs
to a team; a company is owned and created by advisers, has a core team of advisers and
may have a global headquarters; an event has a lead team, teams and an organiser; an
interaction names a company, the contacts (the seed's contacts dataset), the advisers who
took part, perhaps an event and an investment project (the seed's investment projects);
export countries name interactions or companies; an export country's history row names
the export country it is about (`id`) and its company; a referral names a company, a
contact, advisers and perhaps the interaction that completed it. Fields are those Data
Hub's dataset views send today (`standin.fields`), in the view's order.

A record is a pure function of (dataset, index, seed) and of the `Universe` it lives in:
the record counts and the base seed of every dataset, which decide the ids it names. So a
test computes the same records the stand-in serves, and every id a record names is the id
of a record the stand-in serves, except the dangling ones below. The ids a record names
come from its index and the universe's base seed only, never from the record's own seed:
an edit (`standin.changes`, values from another seed) changes values, not references.

Reference rules (`Universe`): a referenced index is a cheap 64-bit mix of the record's
index, a per-field salt and the base seed, modulo the referenced dataset's count. When
that count is 0 the field names a deterministic id no record has (`Universe.dangling`), so
a record's shape does not depend on what else is served. Dangling on purpose, as when a
company was deleted upstream (`DANGLING_EVERY`): the OMIS order whose index is 52 modulo
53 (every 53rd) names a company no record has, as does every 61st contact (index 60 modulo
61) and every 59th investment project's `project_manager_id` (index 58 modulo 59, never
null there). The export-country history's "delete" rows name an export country that is
gone (no record has that id), as upstream. No other reference dangles.

Shapes follow data-hub-api's dataset views (`datahub/dataset/`): ids are UUID strings;
datetimes are UTC with `Z`; blank text is `""`; decimals are JSON floats (DRF's encoder);
an interaction's `contact_ids` are sorted, while its `adviser_ids` keep the order
participants were added, and either list is `[null]` when empty (an `ArrayAgg`), as are
an event's `team_ids` and a company's `one_list_core_team_advisers`; the `*_names` arrays
of `get_array_agg_subquery` are null when empty. An adviser's name is not sent: Data Hub's
full name joins first and last name skipping blank parts, and some advisers have a blank
first or last name (`ADVISER_BLANK_NAME_EVERY`). Deliberately awkward for what is built
from them: every 7th contact and every 5th adviser take part in no interaction, nor does
every 8th investment project; interactions share dates (one of two times a day).

Teams, advisers and the export-country history ignore `updated_since` on Data Hub
(`UPDATED_SINCE` lists the ones that filter on it). The history is the one dataset that
reports deletions (`history_type` "delete"). Some endpoints filter on a `modified_on` they do
not send (events, referrals, interaction export countries): the stand-in filters those on
`created_on`, which it keeps as their modification time.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from standin import pools

PATHS: dict[str, str] = {
    "data_hub__teams": "/v4/dataset/teams-dataset",
    "data_hub__advisers": "/v4/dataset/advisers-dataset",
    "data_hub__companies": "/v4/dataset/companies-dataset",
    "data_hub__events": "/v4/dataset/events-dataset",
    "data_hub__interactions": "/v4/dataset/interactions-dataset",
    "data_hub__interaction_export_countries": "/v4/dataset/interactions-export-country-dataset",
    "data_hub__company_export_countries": "/v4/dataset/company-export-country-dataset",
    "data_hub__company_export_country_histories": "/v4/dataset/company-export-country-history-dataset",
    "data_hub__company_referrals": "/v4/dataset/company-referrals-dataset",
}
#: How `split_related` shares records out over these datasets (percent).
SHARES = {
    "data_hub__teams": 2, "data_hub__advisers": 8, "data_hub__companies": 15, "data_hub__events": 3,
    "data_hub__interactions": 40, "data_hub__interaction_export_countries": 10,
    "data_hub__company_export_countries": 8, "data_hub__company_export_country_histories": 8,
    "data_hub__company_referrals": 6,
}

#: The endpoints that filter on `updated_since` (`modified_on >`, the record's own or, where
#: it is not sent, as the stand-in keeps it: its created_on); the others ignore it.
UPDATED_SINCE = frozenset(PATHS) - {
    "data_hub__teams", "data_hub__advisers", "data_hub__company_export_country_histories"}

#: Contacts whose index is a multiple of this take part in no interaction; likewise advisers,
#: and investment projects (no interaction names them).
CONTACT_WITHOUT_INTERACTIONS_EVERY = 7
ADVISER_WITHOUT_INTERACTIONS_EVERY = 5
PROJECT_WITHOUT_INTERACTIONS_EVERY = 8
#: The share of interactions about an investment project (so most projects have some).
INTERACTION_PROJECT_RATE = 0.3
#: Advisers whose index is 3 modulo this have a blank first name; 6 modulo this, a blank last name.
ADVISER_BLANK_NAME_EVERY = 29

#: Dangling references, on purpose: (dataset, field) -> N, the record whose index is N - 1
#: modulo N names an id no record has (never null), as after a deletion upstream.
DANGLING_EVERY: dict[tuple[str, str], int] = {
    ("omis_dataset", "company_id"): 53,
    ("contacts", "company_id"): 61,
    ("investment_projects_dataset", "project_manager_id"): 59,
}


def dangles(dataset: str, name: str, index: int) -> bool:
    """Whether record `index`'s `name` names no record on purpose (`DANGLING_EVERY`)."""
    every = DANGLING_EVERY.get((dataset, name))
    return every is not None and index % every == every - 1


_MERSENNE61 = (1 << 61) - 1
_NODE_SPACE = 1 << 48
_PREFIXES = 1021  # id prefixes per dataset (a prime)


def mix(index: int, salt: int) -> int:
    """A cheap hash of (index, salt): an affine map modulo the prime 2**61 - 1, folded.

    A handful of integer operations, since the stand-in computes a dozen per record."""
    x = (index * 0x5DEECE66D9E3779B + salt * 0x2545F4914F6CDD1D + 0x632BE59BD9B4E01) % _MERSENNE61
    return x ^ (x >> 31)


def hashed_uuid(text: str) -> str:
    """A v4-shaped UUID from a hash of `text` (the same as uuid.UUID(bytes=digest, version=4))."""
    h = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def _prefixes(name: str) -> tuple[str, ...]:
    """Random-looking v4 UUID beginnings (all but the last 12 hex digits) for the ids of `name`."""
    return tuple(hashed_uuid(f"{name}:{k}")[:24] for k in range(_PREFIXES))


def tagged_uuid(prefixes: tuple[str, ...], index: int, salt: int) -> str:
    """A v4-looking UUID whose last 48 bits are a bijection of `index` (unique per index below 2**48)."""
    return f"{prefixes[index % _PREFIXES]}{(index * 0x9E3779B97F4B + salt) % _NODE_SPACE:012x}"

_FRONTEND = "https://datahub.example.gov.uk/interactions"
_FIRST_DAY = datetime(2018, 1, 1, tzinfo=UTC)
_ROLES = ("Post", "HQ", "ITT", "TAP", None)
_BUSINESS_TYPES = ("Company", "Partnership", "Sole Trader", "Charity", None)
_EXPORT_EXPERIENCE = ("Never exported", "Exported before", "Exporting to growth markets", None)
_HQ_TYPES = ("ukhq", "ehq", "ghq", None)
_TIERS = ("Tier A - Strategic Account", "Tier B - Global Accounts", None, None)
_ARCHIVED_REASONS = ("Company is dissolved", "Duplicate record", "Other: moved abroad")
_AREAS = ("Texas", "California", "Ontario", "New South Wales", "Bavaria")
_EXPORT_SEGMENTS = (("", ""), ("", ""), ("High export potential", "Challenge"),
                    ("High export potential", "Sustain"), ("Medium export potential", "Reassure"),
                    ("Low export potential", "Promote"))
_STRATEGIES = ("", "", "", "Grow exports to the Gulf; \"partner first\".", "Consolidate the EU base\nthen Asia.")
#: USD -> GBP as Data Hub's latest ExchangeRate; turnover_gbp = turnover * this (a float).
USD_TO_GBP = 0.813186
_CHANNELS = ("Email/Website", "Telephone", "Face to face", "Video/Teleconference", None)
_KINDS = (("interaction", 85), ("service_delivery", 15))
_SERVICES = ("Export Win", "Account Management", "Events - UK based", "Enquiry received", None)
_DELIVERY_STATUSES = ("Offered", "Current", "Completed", None)
_THEMES = ("export", "investment", "other", None)
_POLICY_AREAS = ("Access to Finance", "Tariffs", "Regulation", "Supply chain, \"just in time\"")
_POLICY_ISSUES = ("EU exit", "Covid-19", "Domestic")
_TRADE_AGREEMENTS = ("UK-Japan Comprehensive Economic Partnership Agreement", "UK-Australia FTA",
                     "EU-UK Trade and Cooperation Agreement")
_BARRIER_TYPES = ("Tariffs", "Regulatory", "Other")
_PROGRAMMES = ("GREAT Branded", "Trade Access Programme", "Tradeshow Access Programme (TAP)")
_COUNTRIES = (("France", "FR"), ("Germany", "DE"), ("United States", "US"), ("China", "CN"), ("Japan", "JP"),
              ("Côte d'Ivoire", "CI"), ("Korea, Republic of", "KR"), ("Hong Kong (SAR)", "HK"))
_EXPORT_STATUSES = ("currently_exporting", "future_interest", "not_interested")
_HISTORY_TYPES = (("insert", 60), ("update", 30), ("delete", 10))
_EVENT_TYPES = ("Seminar", "Trade mission", "Exhibition", "Outward mission", "Webinar")
_LOCATION_TYPES = ("HQ", "Post", "Regional", None)
_REFERRAL_STATUSES = (("outstanding", 50), ("complete", 40), ("closed", 10))
_ADVISER_TEAM_SALT = 7


def split_related(total: int) -> dict[str, int]:
    """`total` records shared out over these datasets (`SHARES`); interactions get the rest."""
    if total < 0:
        raise ValueError("related records must be >= 0")
    counts = {name: total * share // 100 for name, share in SHARES.items()}
    counts["data_hub__interactions"] += total - sum(counts.values())
    return counts


@dataclass(frozen=True)
class Universe:
    """What records name each other in: every dataset's record count and the base seed."""

    counts: dict[str, int]
    seed: int = 0
    _prefixes: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    def count(self, dataset: str) -> int:
        return self.counts.get(dataset, 0)

    def id_of(self, dataset: str, index: int) -> str:
        """The id of record `index` of `dataset` (a seed dataset's from its own generator)."""
        prefixes = self._prefixes.get(dataset)
        if prefixes is None:
            if dataset not in PATHS:
                return _seed_id(dataset, index, self.seed)
            prefixes = self._prefixes[dataset] = _prefixes(f"{dataset}:{self.seed}")
        return f"{prefixes[index % _PREFIXES]}{(index * 0x9E3779B97F4B) % _NODE_SPACE:012x}"  # tagged_uuid

    def mix(self, index: int, salt: int) -> int:
        """`mix` of a record's index and a field's salt, in this universe (its base seed)."""
        return mix(index, salt * 1_000_003 + self.seed)

    def pick(self, dataset: str, index: int, salt: int) -> int | None:
        """The index of the `dataset` record that record `index` names by field `salt`; None if none."""
        count = self.counts.get(dataset, 0)
        return self.mix(index, salt) % count if count > 0 else None

    def ref(self, dataset: str, index: int, salt: int) -> str:
        """The id of the `dataset` record `pick` chooses, else (none served) a `dangling` one."""
        count = self.counts.get(dataset, 0)
        if count <= 0:
            return self.dangling(dataset, index, salt)
        return self.id_of(dataset, self.mix(index, salt) % count)

    def dangling(self, dataset: str, index: int, salt: int) -> str:
        """An id shaped like a `dataset` id that no record has (a record deleted upstream)."""
        name = f"deleted {dataset}"
        prefixes = self._prefixes.get(name)
        if prefixes is None:
            prefixes = self._prefixes[name] = _prefixes(f"{name}:{self.seed}")
        return tagged_uuid(prefixes, index, salt + 1)

    def adviser_team(self, adviser: int) -> str | None:
        """The `dit_team_id` of adviser `adviser` (a cheap function of its index: OMIS orders
        send their creator's team); None for one adviser in 20."""
        h = self.mix(adviser, _ADVISER_TEAM_SALT)
        if h % 20 == 0:
            return None
        teams = self.counts.get("data_hub__teams", 0)
        if teams <= 0:
            return self.dangling("data_hub__teams", adviser, _ADVISER_TEAM_SALT)
        return self.id_of("data_hub__teams", (h >> 8) % teams)


def _seed_id(dataset: str, index: int, seed: int) -> str:
    """The id of a seed dataset's record, from its own generator (which imports this module)."""
    global _seed_id
    from standin.data import seed_id

    _seed_id = seed_id
    return seed_id(dataset, index, seed)


def _stamp(moment: datetime) -> str:
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond:06d}Z" if moment.microsecond else text + "Z"


def record(dataset: str, index: int, universe: Universe, *, seed: int | None = None) -> dict[str, Any]:
    """Record `index` of `dataset`; `seed` (default the universe's) varies its values, never
    the ids it names (those come from the universe's base seed: the stand-in's edits use
    another seed)."""
    if dataset not in PATHS:
        raise ValueError(f"unknown dataset {dataset!r}")
    if index < 0:
        raise ValueError("index must be >= 0")
    draw = random.Random(f"{dataset}:{universe.seed if seed is None else seed}:{index}")
    ref = random.Random(f"{dataset}:refs:{universe.seed}:{index}")
    return _BUILDERS[dataset](draw, ref, index, universe)


def _pick_index(draw: random.Random, count: int, skip_every: int = 0) -> int | None:
    """A random index below `count`, never a multiple of `skip_every` (when given)."""
    candidates = count - (-(-count // skip_every) if skip_every else 0)
    if candidates <= 0:
        return None
    n = draw.randrange(candidates)
    if not skip_every:
        return n
    return n + n // (skip_every - 1) + 1  # the n-th index that is not a multiple of skip_every


def _named(ref: random.Random, universe: Universe, dataset: str, index: int, salt: int) -> str:
    """The id of a random served `dataset` record, else (none served) a dangling one."""
    j = _pick_index(ref, universe.count(dataset))
    return universe.dangling(dataset, index, salt) if j is None else universe.id_of(dataset, j)


def _team(draw: random.Random, ref: random.Random, index: int, universe: Universe) -> dict[str, Any]:
    town, _, _, country = draw.choice(pools.PLACES)
    role = draw.choice(_ROLES)
    region = draw.choice(pools.UK_REGIONS) if country == "United Kingdom" else None
    country_name = country if draw.random() > 0.1 else None
    return {
        "country__name": country_name,
        "disabled_on": _stamp(_FIRST_DAY + timedelta(days=draw.randrange(900))) if index % 5 == 4 else None,
        "id": universe.id_of("data_hub__teams", index),
        "name": f"{draw.choice(pools.TEAMS)} {index}" if draw.random() > 0.02 else "",
        "role__name": role,
        "uk_region__name": region,
    }


def _adviser(draw: random.Random, ref: random.Random, index: int, universe: Universe) -> dict[str, Any]:
    first, last = draw.choice(pools.FIRST_NAMES), draw.choice(pools.LAST_NAMES)
    joined = _FIRST_DAY + timedelta(days=draw.randrange(900), seconds=draw.randrange(86_400))
    login = joined + timedelta(days=draw.randrange(300), seconds=draw.randrange(86_400))
    email = f"{first}.{last}.{index}@trade.example.gov.uk".lower().replace(" ", "").replace("'", "")
    if index % ADVISER_BLANK_NAME_EVERY == 3:
        first = ""  # Data Hub's full name is then the last name alone
    elif index % ADVISER_BLANK_NAME_EVERY == 6:
        last = ""
    return {
        "id": universe.id_of("data_hub__advisers", index),
        "date_joined": _stamp(joined),
        "first_name": first,
        "last_login": _stamp(login) if draw.random() > 0.2 else None,
        "last_name": last,
        "telephone_number": f"020 7215 {draw.randrange(10_000):04d}" if draw.random() > 0.3 else "",
        "contact_email": email,
        "dit_team_id": universe.adviser_team(index),
        "is_active": draw.random() > 0.15,
        "sso_email_user_id": f"{email.split('@')[0]}@id.trade.example.gov.uk" if draw.random() > 0.1 else None,
    }


def _company(draw: random.Random, ref: random.Random, index: int, universe: Universe) -> dict[str, Any]:
    words = (draw.choice(pools.COMPANY_WORDS), draw.choice(pools.COMPANY_NOUNS), draw.choice(pools.COMPANY_SUFFIXES))
    name = " ".join(words)
    town, county, postcode, country = draw.choice(pools.PLACES)
    created = _FIRST_DAY + timedelta(days=draw.randrange(900), seconds=draw.randrange(86_400))
    modified = created + timedelta(days=draw.randrange(200), seconds=draw.randrange(86_400))
    archived = draw.random() < 0.08
    employees = draw.choice((None, 3, 12, 250, 1_200, 48_000))
    turnover = draw.choice((None, 0, 95_000, 2_500_000, 9_000_000_000_000))  # bigint, USD
    segment, sub_segment = draw.choice(_EXPORT_SEGMENTS)
    advisers = universe.count("data_hub__advisers")
    owner = _named(ref, universe, "data_hub__advisers", index, 1) if ref.random() < 0.3 else None
    creator = _named(ref, universe, "data_hub__advisers", index, 2) if ref.random() > 0.1 else None
    headquarters = ref.randrange(index) if index and ref.random() < 0.1 else None
    core = []
    for k in range(ref.choice((0, 0, 0, 1, 2, 3)) if advisers else 0):
        adviser = _named(ref, universe, "data_hub__advisers", index, 10 + k)
        if adviser not in core:
            core.append(adviser)
    area = draw.choice(_AREAS) if country == "United States" or draw.random() < 0.05 else None
    return {
        "address_1": f"{draw.randrange(1, 300)} {draw.choice(pools.STREETS)}",
        "address_2": draw.choice(pools.ADDRESS_2) if draw.random() < 0.4 else "",
        "address_county": county or "",
        "address_country__name": country,
        "address_postcode": postcode,
        "address_area__name": area,
        "address_town": town,
        "archived": archived,
        "archived_on": _stamp(modified) if archived else None,
        "archived_reason": draw.choice(_ARCHIVED_REASONS) if archived else None,
        "business_type__name": draw.choice(_BUSINESS_TYPES),
        "company_number": f"{draw.randrange(10**8):08d}" if country == "United Kingdom" else None,
        "created_by_id": creator,
        "created_on": _stamp(created),
        "description": draw.choice(pools.SENTENCES) if draw.random() < 0.5 else None,
        "duns_number": f"{draw.randrange(10**9):09d}" if draw.random() < 0.6 else None,
        "export_experience_category__name": draw.choice(_EXPORT_EXPERIENCE),
        "global_headquarters_id": None if headquarters is None else universe.id_of("data_hub__companies", headquarters),
        "global_ultimate_duns_number": f"{draw.randrange(10**9):09d}" if draw.random() < 0.3 else "",
        "headquarter_type__name": draw.choice(_HQ_TYPES),
        "id": universe.id_of("data_hub__companies", index),
        "is_number_of_employees_estimated": None if employees is None else draw.random() < 0.5,
        "is_turnover_estimated": None if turnover is None else draw.random() < 0.5,
        "modified_on": _stamp(modified),
        "name": name,
        "number_of_employees": employees,
        "one_list_account_owner_id": owner,
        "one_list_tier__name": draw.choice(_TIERS),
        "one_list_core_team_advisers": core or [None],
        "reference_code": f"ORG-{index:08d}" if draw.random() < 0.5 else "",
        "registered_address_1": f"{draw.randrange(1, 300)} {draw.choice(pools.STREETS)}" if draw.random() < 0.7
        else "",
        "registered_address_2": draw.choice(pools.ADDRESS_2) if draw.random() < 0.2 else "",
        "registered_address_country__name": country,
        "registered_address_county": county or "",
        "registered_address_postcode": postcode,
        "registered_address_area__name": area if draw.random() < 0.5 else None,
        "registered_address_town": town,
        "sector_name": draw.choice(pools.SECTORS) if draw.random() > 0.05 else None,
        "export_segment": segment,
        "export_sub_segment": sub_segment,
        "trading_names": [draw.choice(pools.COMPANY_WORDS) + " Trading"] if draw.random() < 0.2 else [],
        "turnover": turnover,
        "uk_region__name": draw.choice(pools.UK_REGIONS) if country == "United Kingdom" else None,
        "vat_number": f"GB{draw.randrange(10**9):09d}" if draw.random() < 0.4 else "",
        "website": f"https://www.{name.split()[0].lower()}.example" if draw.random() < 0.6 else None,
        "is_out_of_business": draw.random() < 0.04,
        "strategy": draw.choice(_STRATEGIES),
        "turnover_gbp": None if turnover is None else turnover * USD_TO_GBP,  # appended by _enrich_data: last
    }


def _interaction(draw: random.Random, ref: random.Random, index: int, universe: Universe) -> dict[str, Any]:
    day = _FIRST_DAY + timedelta(weeks=draw.randrange(120))  # on Mondays: people meet on the same days
    when = day + timedelta(hours=draw.choice((9, 14)), minutes=draw.choice((0, 30)))  # dates tie
    created = when + timedelta(hours=draw.randrange(1, 72), microseconds=draw.choice((0, draw.randrange(10**6))))
    modified = created + timedelta(days=draw.randrange(30), seconds=draw.randrange(86_400))
    contacts = sorted({
        universe.id_of("contacts", j) for _ in range(ref.choice((0, 1, 1, 1, 2, 3)))
        if (j := _pick_index(ref, universe.count("contacts"), CONTACT_WITHOUT_INTERACTIONS_EVERY)) is not None
    })
    advisers: list[str | None] = []
    for _ in range(ref.choice((0, 1, 1, 2, 3))):
        j = _pick_index(ref, universe.count("data_hub__advisers"), ADVISER_WITHOUT_INTERACTIONS_EVERY)
        adviser = None if j is None else universe.id_of("data_hub__advisers", j)
        if adviser is not None and adviser not in advisers:
            advisers.append(adviser)  # participants in the order they were added
    if advisers and ref.random() < 0.02:
        advisers.append(None)  # an old participant row with a team and no adviser
    company = _named(ref, universe, "data_hub__companies", index, 1) if ref.random() > 0.03 else None
    creator = _named(ref, universe, "data_hub__advisers", index, 2) if ref.random() > 0.05 else None
    project = (_pick_index(ref, universe.count("investment_projects_dataset"), PROJECT_WITHOUT_INTERACTIONS_EVERY)
               if ref.random() < INTERACTION_PROJECT_RATE else None)
    event = _pick_index(ref, universe.count("data_hub__events")) if ref.random() < 0.1 else None
    export = universe.dangling("company_exports", index, 3) if ref.random() < 0.05 else None  # not served here
    kind = draw.choices([k for k, _ in _KINDS], [w for _, w in _KINDS])[0]
    money = draw.random() < 0.1
    identifier = universe.id_of("data_hub__interactions", index)
    barrier = draw.random() < 0.05
    return {
        "adviser_ids": advisers or [None],
        "communication_channel__name": draw.choice(_CHANNELS),
        "company_id": company,
        "contact_ids": contacts or [None],
        "created_by_id": creator,
        "created_on": _stamp(created),
        "date": _stamp(when),
        "event_id": None if event is None else universe.id_of("data_hub__events", event),
        "grant_amount_offered": draw.choice((1500.5, 20000.0, 0.1, 1113.87)) if money else None,
        "id": identifier,
        "interaction_link": f"{_FRONTEND}/{identifier}",
        "investment_project_id": None if project is None else universe.id_of("investment_projects_dataset", project),
        "company_export_id": export,
        "kind": kind,
        "modified_on": _stamp(modified),
        "net_company_receipt": draw.choice((250.0, 99999.99, 6077.73)) if money else None,
        "notes": draw.choice(pools.SENTENCES) if draw.random() < 0.7 else "",
        "policy_area_names": sorted(draw.sample(_POLICY_AREAS, 2)) if draw.random() < 0.1 else None,
        "policy_feedback_notes": draw.choice(pools.SENTENCES) if draw.random() < 0.1 else "",
        "policy_issue_type_names": [draw.choice(_POLICY_ISSUES)] if draw.random() < 0.1 else None,
        "related_trade_agreement_names": sorted(draw.sample(_TRADE_AGREEMENTS, draw.choice((1, 2))))
        if draw.random() < 0.05 else None,
        "sector": draw.choice(pools.SECTORS) if company is not None else None,
        "service_delivery_status__name": draw.choice(_DELIVERY_STATUSES) if kind == "service_delivery" else None,
        "service_delivery": draw.choice(_SERVICES),
        "subject": draw.choice(pools.SENTENCES)[:80],
        "theme": draw.choice(_THEMES),
        "were_countries_discussed": draw.choice((True, False, None)),
        "export_barrier_type_names": [draw.choice(_BARRIER_TYPES)] if barrier else None,
        "export_barrier_notes": draw.choice(pools.SENTENCES) if barrier and draw.random() < 0.5 else "",
    }


def _event(draw: random.Random, ref: random.Random, index: int, universe: Universe) -> dict[str, Any]:
    town, county, postcode, country = draw.choice(pools.PLACES)
    start = _FIRST_DAY + timedelta(days=draw.randrange(900))
    created = start - timedelta(days=draw.randrange(1, 90), seconds=draw.randrange(86_400))
    chosen = {_pick_index(ref, universe.count("data_hub__teams")) for _ in range(ref.choice((0, 1, 2)))}
    teams = [universe.id_of("data_hub__teams", j) for j in sorted(chosen - {None})]
    lead = _named(ref, universe, "data_hub__teams", index, 1) if ref.random() < 0.95 else None
    organiser = _named(ref, universe, "data_hub__advisers", index, 2) if ref.random() < 0.95 else None
    programmes = sorted(draw.sample(_PROGRAMMES, draw.choice((1, 2)))) if draw.random() < 0.4 else None
    return {
        "address_1": f"{draw.randrange(1, 300)} {draw.choice(pools.STREETS)}",
        "address_2": draw.choice(pools.ADDRESS_2) if draw.random() < 0.3 else "",
        "address_country__name": country,
        "address_county": county or "",
        "address_postcode": postcode,
        "address_town": town,
        "created_by_id": organiser,
        "created_on": _stamp(created),
        "disabled_on": _stamp(start + timedelta(days=30)) if index % 7 == 6 else None,
        "end_date": (start + timedelta(days=draw.randrange(4))).date().isoformat(),
        "event_type__name": draw.choice(_EVENT_TYPES),
        "id": universe.id_of("data_hub__events", index),
        "lead_team_id": lead,
        "location_type__name": draw.choice(_LOCATION_TYPES),
        "name": f"{draw.choice(pools.SECTORS).split(' : ')[0]} {draw.choice(_EVENT_TYPES).lower()} {index}",
        "notes": draw.choice(pools.SENTENCES) if draw.random() < 0.5 else "",
        "organiser_id": organiser,
        "service_name": draw.choice(_SERVICES),
        "start_date": start.date().isoformat(),
        "team_ids": teams or [None],
        "uk_region__name": draw.choice(pools.UK_REGIONS) if country == "United Kingdom" else None,
        "related_programme_names": programmes,
    }


def _interaction_export_country(draw: random.Random, ref: random.Random, index: int,
                                universe: Universe) -> dict[str, Any]:
    interaction = _pick_index(ref, universe.count("data_hub__interactions"))
    named = None if interaction is None else record("data_hub__interactions", interaction, universe)
    country, code = draw.choice(_COUNTRIES)
    created = _FIRST_DAY + timedelta(days=draw.randrange(900), seconds=draw.randrange(86_400))
    return {
        "country__name": country,
        "country__iso_alpha2_code": code,
        "created_on": _stamp(created) if named is None else named["created_on"],
        "id": universe.id_of("data_hub__interaction_export_countries", index),
        "interaction__company_id": None if named is None else named["company_id"],
        "interaction__id": universe.dangling("data_hub__interactions", index, 1) if named is None else named["id"],
        "status": draw.choice(_EXPORT_STATUSES),
    }


def _company_export_country(draw: random.Random, ref: random.Random, index: int,
                            universe: Universe) -> dict[str, Any]:
    company = _named(ref, universe, "data_hub__companies", index, 1)
    country, code = _COUNTRIES[ref.randrange(len(_COUNTRIES))]  # what it is about: a reference, kept on edit
    created = _FIRST_DAY + timedelta(days=draw.randrange(900), seconds=draw.randrange(86_400))
    return {
        "id": universe.id_of("data_hub__company_export_countries", index),
        "company_id": company,
        "country__name": country,
        "country__iso_alpha2_code": code,
        "created_on": _stamp(created),
        "modified_on": _stamp(created + timedelta(days=draw.randrange(100))),
        "status": draw.choice(_EXPORT_STATUSES),
    }


def _company_export_country_history(draw: random.Random, ref: random.Random, index: int,
                                    universe: Universe) -> dict[str, Any]:
    # What the row records (its type, the export country) is what it names: kept on an edit.
    kind = ref.choices([k for k, _ in _HISTORY_TYPES], [w for _, w in _HISTORY_TYPES])[0]
    about = _pick_index(ref, universe.count("data_hub__company_export_countries"))
    if kind == "delete" or about is None:  # the export country is gone: no record has its id
        identifier = universe.dangling("data_hub__company_export_countries", index, 1)
        company = _named(ref, universe, "data_hub__companies", index, 2)
        country, code = _COUNTRIES[ref.randrange(len(_COUNTRIES))]
    else:
        named = record("data_hub__company_export_countries", about, universe)
        identifier, company = named["id"], named["company_id"]
        country, code = named["country__name"], named["country__iso_alpha2_code"]
    return {
        "id": identifier,
        "company_id": company,
        "country__name": country,
        "country__iso_alpha2_code": code,
        "history_date": _stamp(_FIRST_DAY + timedelta(days=draw.randrange(900), seconds=draw.randrange(86_400))),
        "history_id": universe.id_of("data_hub__company_export_country_histories", index),
        "history_type": kind,  # Data Hub reports deletions of export countries only here
        "status": draw.choice(_EXPORT_STATUSES),
    }


def _company_referral(draw: random.Random, ref: random.Random, index: int, universe: Universe) -> dict[str, Any]:
    # The status decides who completed it and with which interaction: kept on an edit, as those are.
    status = ref.choices([k for k, _ in _REFERRAL_STATUSES], [w for _, w in _REFERRAL_STATUSES])[0]
    created = _FIRST_DAY + timedelta(days=draw.randrange(900), seconds=draw.randrange(86_400))
    company = _named(ref, universe, "data_hub__companies", index, 1)
    contact = _pick_index(ref, universe.count("contacts")) if ref.random() > 0.2 else None
    creator = _named(ref, universe, "data_hub__advisers", index, 2) if ref.random() > 0.05 else None
    recipient = _named(ref, universe, "data_hub__advisers", index, 3)
    completer = _named(ref, universe, "data_hub__advisers", index, 4)
    interaction = _pick_index(ref, universe.count("data_hub__interactions"))
    complete = status == "complete"
    return {
        "company_id": company,
        "completed_by_id": completer if complete else None,
        "completed_on": _stamp(created + timedelta(days=draw.randrange(1, 60))) if complete else None,
        "contact_id": None if contact is None else universe.id_of("contacts", contact),
        "created_on": _stamp(created),
        "created_by_id": creator,
        "id": universe.id_of("data_hub__company_referrals", index),
        "interaction_id": None if interaction is None or not complete
        else universe.id_of("data_hub__interactions", interaction),
        "notes": draw.choice(pools.SENTENCES) if draw.random() < 0.8 else "",
        "recipient_id": recipient,
        "status": status,
        "subject": draw.choice(pools.SENTENCES)[:60],
    }


_BUILDERS = {
    "data_hub__teams": _team,
    "data_hub__advisers": _adviser,
    "data_hub__companies": _company,
    "data_hub__interactions": _interaction,
    "data_hub__events": _event,
    "data_hub__interaction_export_countries": _interaction_export_country,
    "data_hub__company_export_countries": _company_export_country,
    "data_hub__company_export_country_histories": _company_export_country_history,
    "data_hub__company_referrals": _company_referral,
}
