"""Data Hub datasets beyond the seed's three, whose records name each other.

The nine datasets the later data-flow moved besides the seed's three: an adviser belongs
to a team; a company is owned and created by advisers and may have a global headquarters;
an event has a lead team, teams and an organiser; an interaction names a company, the
contacts (the seed's contacts dataset), the advisers who took part, perhaps an event and
an investment project; export countries name interactions or companies; a referral names
a company, a contact, advisers and perhaps the interaction that completed it. A
record is a pure function of (dataset, index, seed) and of the `Universe` it lives in:
the record counts and the base seed of every dataset, which decide the ids it names. So
a test computes the same records the stand-in serves, and every id an interaction names
is the id of a record the stand-in serves.

Shapes follow data-hub-api's dataset views (`datahub/dataset/`): ids are UUID strings;
an interaction's `date` is a datetime and its `contact_ids` are sorted, while its
`adviser_ids` keep the order participants were added, and either list is `[null]` when
empty; decimals are JSON numbers. Deliberately awkward for what is built from them: every
7th contact and every 5th adviser take part in no interaction, interactions share dates
(one of two times a day), and a few have no date (the "latest interaction" tables order
nulls last).

Teams, advisers and the export-country history ignore `updated_since` on Data Hub
(`UPDATED_SINCE` lists the ones that filter on it). The history is the one dataset that
reports deletions (`history_type` "delete"). Some endpoints filter on a `modified_on` they do
not send (events, referrals, interaction export countries): the stand-in filters those on
`created_on`, which it keeps as their modification time.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
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

#: Contacts whose index is a multiple of this take part in no interaction; likewise advisers.
CONTACT_WITHOUT_INTERACTIONS_EVERY = 7
ADVISER_WITHOUT_INTERACTIONS_EVERY = 5

_FRONTEND = "https://datahub.example.gov.uk/interactions"
_FIRST_DAY = datetime(2018, 1, 1, tzinfo=UTC)
_ROLES = ("Post", "HQ", "ITT", "TAP", None)
_BUSINESS_TYPES = ("Company", "Partnership", "Sole Trader", "Charity", None)
_EXPORT_EXPERIENCE = ("Never exported", "Exported before", "Exporting to growth markets", None)
_HQ_TYPES = ("ukhq", "ehq", "ghq", None)
_TIERS = ("Tier A - Strategic Account", "Tier B - Global Accounts", None, None)
_ARCHIVED_REASONS = ("Company is dissolved", "Duplicate record", "Other: moved abroad")
_CHANNELS = ("Email/Website", "Telephone", "Face to face", "Video/Teleconference", None)
_KINDS = (("interaction", 85), ("service_delivery", 15))
_SERVICES = ("Export Win", "Account Management", "Events - UK based", "Enquiry received", None)
_DELIVERY_STATUSES = ("Offered", "Current", "Completed", None)
_THEMES = ("export", "investment", "other", None)
_POLICY_AREAS = ("Access to Finance", "Tariffs", "Regulation", "Supply chain, \"just in time\"")
_POLICY_ISSUES = ("EU exit", "Covid-19", "Domestic")
_COUNTRIES = (("France", "FR"), ("Germany", "DE"), ("United States", "US"), ("China", "CN"), ("Japan", "JP"),
              ("Côte d'Ivoire", "CI"), ("Korea, Republic of", "KR"), ("Hong Kong (SAR)", "HK"))
_EXPORT_STATUSES = ("currently_exporting", "future_interest", "not_interested")
_HISTORY_TYPES = (("insert", 60), ("update", 30), ("delete", 10))
_EVENT_TYPES = ("Seminar", "Trade mission", "Exhibition", "Outward mission", "Webinar")
_LOCATION_TYPES = ("HQ", "Post", "Regional", None)
_REFERRAL_STATUSES = (("outstanding", 50), ("complete", 40), ("closed", 10))


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
    _seed_ids: dict[tuple[str, int], str] = field(default_factory=dict, compare=False, repr=False)

    def count(self, dataset: str) -> int:
        return self.counts.get(dataset, 0)

    def id_of(self, dataset: str, index: int) -> str:
        """The id of record `index` of `dataset` (a seed dataset's from its own generator)."""
        if dataset in PATHS:
            return _uuid(dataset, self.seed, index)
        cached = self._seed_ids.get((dataset, index))
        if cached is None:
            from standin.data import record  # the seed datasets' generator; imports this module

            cached = self._seed_ids[dataset, index] = record(dataset, index, seed=self.seed)["id"]
        return cached


def _uuid(dataset: str, seed: int, index: int) -> str:
    digest = hashlib.blake2b(f"{dataset}:{seed}:{index}".encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def record(dataset: str, index: int, universe: Universe, *, seed: int | None = None) -> dict[str, Any]:
    """Record `index` of `dataset`; `seed` (default the universe's) varies its values, never
    the ids it names (the stand-in's edits use another seed)."""
    if dataset not in PATHS:
        raise ValueError(f"unknown dataset {dataset!r}")
    if index < 0:
        raise ValueError("index must be >= 0")
    draw = random.Random(f"{dataset}:{universe.seed if seed is None else seed}:{index}")
    return _BUILDERS[dataset](draw, index, universe)


def _pick_index(draw: random.Random, count: int, skip_every: int = 0) -> int | None:
    """A random index below `count`, never a multiple of `skip_every` (when given)."""
    candidates = count - (-(-count // skip_every) if skip_every else 0)
    if candidates <= 0:
        return None
    n = draw.randrange(candidates)
    if not skip_every:
        return n
    return n + n // (skip_every - 1) + 1  # the n-th index that is not a multiple of skip_every


def _team(draw: random.Random, index: int, universe: Universe) -> dict[str, Any]:
    town, _, _, country = draw.choice(pools.PLACES)
    return {
        "id": universe.id_of("data_hub__teams", index),
        "name": f"{draw.choice(pools.TEAMS)} {index}" if draw.random() > 0.02 else "",
        "role__name": draw.choice(_ROLES),
        "uk_region__name": draw.choice(pools.UK_REGIONS) if country == "United Kingdom" else None,
        "country__name": country if draw.random() > 0.1 else None,
        "disabled_on": _stamp(_FIRST_DAY + timedelta(days=draw.randrange(900))) if index % 5 == 4 else None,
    }


def _adviser(draw: random.Random, index: int, universe: Universe) -> dict[str, Any]:
    first, last = draw.choice(pools.FIRST_NAMES), draw.choice(pools.LAST_NAMES)
    joined = _FIRST_DAY + timedelta(days=draw.randrange(900))
    team = _pick_index(draw, universe.count("data_hub__teams")) if draw.random() > 0.05 else None
    login = joined + timedelta(days=draw.randrange(300), seconds=draw.randrange(86_400))
    email = f"{first}.{last}.{index}@trade.example.gov.uk".lower().replace(" ", "").replace("'", "")
    return {
        "id": universe.id_of("data_hub__advisers", index),
        "date_joined": joined.date().isoformat(),
        "first_name": first,
        "last_name": last,
        "telephone_number": f"020 7215 {draw.randrange(10_000):04d}" if draw.random() > 0.3 else "",
        "contact_email": email,
        "dit_team_id": None if team is None else universe.id_of("data_hub__teams", team),
        "is_active": draw.random() > 0.15,
        "last_login": _stamp(login) if draw.random() > 0.2 else None,
        "sso_email_user_id": f"{first[:1]}{last}-{index}@id.trade.example.gov.uk".lower() if draw.random() > 0.1
        else None,
    }


def _company(draw: random.Random, index: int, universe: Universe) -> dict[str, Any]:
    words = (draw.choice(pools.COMPANY_WORDS), draw.choice(pools.COMPANY_NOUNS), draw.choice(pools.COMPANY_SUFFIXES))
    name = " ".join(words)
    town, county, postcode, country = draw.choice(pools.PLACES)
    created = _FIRST_DAY + timedelta(days=draw.randrange(900), seconds=draw.randrange(86_400))
    modified = created + timedelta(days=draw.randrange(200), seconds=draw.randrange(86_400))
    archived = draw.random() < 0.08
    owner = _pick_index(draw, universe.count("data_hub__advisers")) if draw.random() < 0.3 else None
    creator = _pick_index(draw, universe.count("data_hub__advisers")) if draw.random() > 0.1 else None
    headquarters = draw.randrange(index) if index and draw.random() < 0.1 else None
    employees = draw.choice((None, 3, 12, 250, 1_200, 48_000))
    turnover = draw.choice((None, 0, 95_000, 2_500_000, 9_000_000_000_000))  # bigint
    advisers = universe.count("data_hub__advisers")
    return {
        "address_1": f"{draw.randrange(1, 300)} {draw.choice(pools.STREETS)}",
        "address_2": draw.choice(pools.ADDRESS_2) if draw.random() < 0.4 else None,
        "address_county": county,
        "address_country__name": country,
        "address_postcode": postcode,
        "address_town": town,
        "archived": archived,
        "archived_on": _stamp(modified) if archived else None,
        "business_type__name": draw.choice(_BUSINESS_TYPES),
        "company_number": f"{draw.randrange(10**8):08d}" if country == "United Kingdom" else None,
        "created_on": _stamp(created),
        "description": draw.choice(pools.SENTENCES) if draw.random() < 0.5 else None,
        "duns_number": f"{draw.randrange(10**9):09d}" if draw.random() < 0.6 else None,
        "export_experience_category__name": draw.choice(_EXPORT_EXPERIENCE),
        "global_headquarters_id": None if headquarters is None else universe.id_of("data_hub__companies", headquarters),
        "global_ultimate_duns_number": f"{draw.randrange(10**9):09d}" if draw.random() < 0.3 else None,
        "headquarter_type__name": draw.choice(_HQ_TYPES),
        "id": universe.id_of("data_hub__companies", index),
        "is_number_of_employees_estimated": None if employees is None else draw.random() < 0.5,
        "is_turnover_estimated": None if turnover is None else draw.random() < 0.5,
        "modified_on": _stamp(modified),
        "name": name,
        "number_of_employees": employees,
        "one_list_account_owner_id": None if owner is None or not advisers else universe.id_of(
            "data_hub__advisers", owner),
        "one_list_tier__name": draw.choice(_TIERS),
        "reference_code": f"ORG-{index:08d}" if draw.random() < 0.5 else "",
        "registered_address_1": f"{draw.randrange(1, 300)} {draw.choice(pools.STREETS)}" if draw.random() < 0.7
        else None,
        "registered_address_2": draw.choice(pools.ADDRESS_2) if draw.random() < 0.2 else None,
        "registered_address_country__name": country,
        "registered_address_county": county,
        "registered_address_postcode": postcode,
        "registered_address_town": town,
        "sector_name": draw.choice(pools.SECTORS) if draw.random() > 0.05 else None,
        "trading_names": [draw.choice(pools.COMPANY_WORDS) + " Trading"] if draw.random() < 0.2 else [],
        "turnover": turnover,
        "uk_region__name": draw.choice(pools.UK_REGIONS) if country == "United Kingdom" else None,
        "vat_number": f"GB{draw.randrange(10**9):09d}" if draw.random() < 0.4 else "",
        "website": f"https://www.{name.split()[0].lower()}.example" if draw.random() < 0.6 else None,
        "archived_reason": draw.choice(_ARCHIVED_REASONS) if archived else None,
        "created_by_id": None if creator is None else universe.id_of("data_hub__advisers", creator),
    }


def _interaction(draw: random.Random, index: int, universe: Universe) -> dict[str, Any]:
    day = _FIRST_DAY + timedelta(weeks=draw.randrange(120))  # on Mondays: people meet on the same days
    when = day + timedelta(hours=draw.choice((9, 14)), minutes=draw.choice((0, 30)))  # dates tie
    created = when + timedelta(hours=draw.randrange(1, 72))
    modified = created + timedelta(days=draw.randrange(30), seconds=draw.randrange(86_400))
    contacts = sorted({
        universe.id_of("contacts", j) for _ in range(draw.choice((0, 1, 1, 1, 2, 3)))
        if (j := _pick_index(draw, universe.count("contacts"), CONTACT_WITHOUT_INTERACTIONS_EVERY)) is not None
    })
    advisers: list[str | None] = []
    for _ in range(draw.choice((0, 1, 1, 2, 3))):
        j = _pick_index(draw, universe.count("data_hub__advisers"), ADVISER_WITHOUT_INTERACTIONS_EVERY)
        adviser = None if j is None else universe.id_of("data_hub__advisers", j)
        if adviser is not None and adviser not in advisers:
            advisers.append(adviser)  # participants in the order they were added
    if advisers and draw.random() < 0.02:
        advisers.append(None)  # an old participant row with a team and no adviser
    company = _pick_index(draw, universe.count("data_hub__companies")) if draw.random() > 0.03 else None
    creator = _pick_index(draw, universe.count("data_hub__advisers"))
    project = (_pick_index(draw, universe.count("investment_projects_dataset"))
               if draw.random() < 0.1 else None)
    kind = draw.choices([k for k, _ in _KINDS], [w for _, w in _KINDS])[0]
    event = _pick_index(draw, universe.count("data_hub__events")) if draw.random() < 0.1 else None
    money = draw.random() < 0.1
    identifier = universe.id_of("data_hub__interactions", index)
    return {
        "adviser_ids": advisers or [None],
        "communication_channel__name": draw.choice(_CHANNELS),
        "company_id": None if company is None else universe.id_of("data_hub__companies", company),
        "contact_ids": contacts or [None],
        "created_by_id": None if creator is None else universe.id_of("data_hub__advisers", creator),
        "created_on": _stamp(created),
        "date": _stamp(when) if draw.random() > 0.02 else None,
        "event_id": None if event is None else universe.id_of("data_hub__events", event),
        "grant_amount_offered": Decimal(draw.choice(("1500.50", "20000.00", "0.10"))) if money else None,
        "id": identifier,
        "interaction_link": f"{_FRONTEND}/{identifier}",
        "investment_project_id": None if project is None else universe.id_of("investment_projects_dataset", project),
        "kind": kind,
        "modified_on": _stamp(modified),
        "net_company_receipt": Decimal(draw.choice(("250.00", "99999.99"))) if money else None,
        "notes": draw.choice(pools.SENTENCES) if draw.random() < 0.7 else "",
        "sector": draw.choice(pools.SECTORS) if company is not None else None,
        "service_delivery_status__name": draw.choice(_DELIVERY_STATUSES) if kind == "service_delivery" else None,
        "service_delivery": draw.choice(_SERVICES),
        "subject": draw.choice(pools.SENTENCES)[:80],
        "theme": draw.choice(_THEMES),
        "policy_feedback_notes": draw.choice(pools.SENTENCES) if draw.random() < 0.1 else "",
        "policy_area_names": sorted(draw.sample(_POLICY_AREAS, 2)) if draw.random() < 0.1 else None,
        "policy_issue_type_names": [draw.choice(_POLICY_ISSUES)] if draw.random() < 0.1 else None,
        "were_countries_discussed": draw.choice((True, False, None)),
    }


def _event(draw: random.Random, index: int, universe: Universe) -> dict[str, Any]:
    town, county, postcode, country = draw.choice(pools.PLACES)
    start = _FIRST_DAY + timedelta(days=draw.randrange(900))
    created = start - timedelta(days=draw.randrange(1, 90), seconds=draw.randrange(86_400))
    chosen = {_pick_index(draw, universe.count("data_hub__teams")) for _ in range(draw.choice((0, 1, 2)))}
    teams = [universe.id_of("data_hub__teams", j) for j in sorted(chosen - {None})]
    lead = _pick_index(draw, universe.count("data_hub__teams"))
    organiser = _pick_index(draw, universe.count("data_hub__advisers"))
    return {
        "address_1": f"{draw.randrange(1, 300)} {draw.choice(pools.STREETS)}",
        "address_2": draw.choice(pools.ADDRESS_2) if draw.random() < 0.3 else "",
        "address_country__name": country,
        "address_county": county or "",
        "address_postcode": postcode,
        "address_town": town,
        "created_on": _stamp(created),
        "end_date": (start + timedelta(days=draw.randrange(4))).date().isoformat(),
        "event_type__name": draw.choice(_EVENT_TYPES),
        "id": universe.id_of("data_hub__events", index),
        "lead_team_id": None if lead is None else universe.id_of("data_hub__teams", lead),
        "location_type__name": draw.choice(_LOCATION_TYPES),
        "name": f"{draw.choice(pools.SECTORS).split(' : ')[0]} {draw.choice(_EVENT_TYPES).lower()} {index}",
        "notes": draw.choice(pools.SENTENCES) if draw.random() < 0.5 else None,
        "organiser_id": None if organiser is None else universe.id_of("data_hub__advisers", organiser),
        "service_name": draw.choice(_SERVICES),
        "start_date": start.date().isoformat(),
        "team_ids": teams or [None],
        "uk_region__name": draw.choice(pools.UK_REGIONS) if country == "United Kingdom" else None,
        "created_by_id": None if organiser is None else universe.id_of("data_hub__advisers", organiser),
        "disabled_on": _stamp(start + timedelta(days=30)) if index % 7 == 6 else None,
    }


def _interaction_export_country(draw: random.Random, index: int, universe: Universe) -> dict[str, Any]:
    interaction = _pick_index(draw, universe.count("data_hub__interactions"))
    named = None if interaction is None else record("data_hub__interactions", interaction, universe)
    country, code = draw.choice(_COUNTRIES)
    created = _FIRST_DAY + timedelta(days=draw.randrange(900), seconds=draw.randrange(86_400))
    return {
        "country__name": country,
        "country__iso_alpha2_code": code,
        "created_on": _stamp(created if named is None else datetime.fromisoformat(named["created_on"])),
        "id": universe.id_of("data_hub__interaction_export_countries", index),
        "interaction__company_id": None if named is None else named["company_id"],
        "interaction__id": None if named is None else named["id"],
        "status": draw.choice(_EXPORT_STATUSES),
    }


def _company_export_country(draw: random.Random, index: int, universe: Universe) -> dict[str, Any]:
    company = _pick_index(draw, universe.count("data_hub__companies"))
    country, code = draw.choice(_COUNTRIES)
    created = _FIRST_DAY + timedelta(days=draw.randrange(900), seconds=draw.randrange(86_400))
    return {
        "company_id": None if company is None else universe.id_of("data_hub__companies", company),
        "country__name": country,
        "country__iso_alpha2_code": code,
        "created_on": _stamp(created),
        "id": universe.id_of("data_hub__company_export_countries", index),
        "modified_on": _stamp(created + timedelta(days=draw.randrange(100))),
        "status": draw.choice(_EXPORT_STATUSES),
    }


def _company_export_country_history(draw: random.Random, index: int, universe: Universe) -> dict[str, Any]:
    company = _pick_index(draw, universe.count("data_hub__companies"))
    country, code = draw.choice(_COUNTRIES)
    kind = draw.choices([k for k, _ in _HISTORY_TYPES], [w for _, w in _HISTORY_TYPES])[0]
    return {
        "company_id": None if company is None else universe.id_of("data_hub__companies", company),
        "country__name": country,
        "country__iso_alpha2_code": code,
        "history_id": universe.id_of("data_hub__company_export_country_histories", index),
        "history_date": _stamp(_FIRST_DAY + timedelta(days=draw.randrange(900), seconds=draw.randrange(86_400))),
        "history_type": kind,  # Data Hub reports deletions of export countries only here
        "status": draw.choice(_EXPORT_STATUSES),
    }


def _company_referral(draw: random.Random, index: int, universe: Universe) -> dict[str, Any]:
    status = draw.choices([k for k, _ in _REFERRAL_STATUSES], [w for _, w in _REFERRAL_STATUSES])[0]
    created = _FIRST_DAY + timedelta(days=draw.randrange(900), seconds=draw.randrange(86_400))
    advisers = universe.count("data_hub__advisers")
    company, contact = _pick_index(draw, universe.count("data_hub__companies")), _pick_index(
        draw, universe.count("contacts"))
    creator, recipient, completer = (_pick_index(draw, advisers) for _ in range(3))
    interaction = _pick_index(draw, universe.count("data_hub__interactions")) if status == "complete" else None

    def adviser(j: int | None) -> str | None:
        return None if j is None else universe.id_of("data_hub__advisers", j)

    return {
        "company_id": None if company is None else universe.id_of("data_hub__companies", company),
        "completed_by_id": adviser(completer) if status == "complete" else None,
        "completed_on": _stamp(created + timedelta(days=draw.randrange(1, 60))) if status == "complete" else None,
        "contact_id": None if contact is None or draw.random() < 0.2 else universe.id_of("contacts", contact),
        "created_by_id": adviser(creator),
        "created_on": _stamp(created),
        "id": universe.id_of("data_hub__company_referrals", index),
        "interaction_id": None if interaction is None else universe.id_of("data_hub__interactions", interaction),
        "notes": draw.choice(pools.SENTENCES),
        "recipient_id": adviser(recipient),
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
