"""Builders that generate one complete, internally consistent record.

A record is drawn from a PRNG seeded with ``dataset:seed:index``, so it is a
pure function of those three values. Dates hang together per record (an order
is created before it is paid, completed or cancelled; a lost project has a
``date_lost``), and the data is deliberately hostile in the ways real Data Hub
data is: awkward text, JSON arrays with commas/quotes/NULL, exact decimals,
timestamps whose UTC month differs from their local month, ties on
``created_on``.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from standin import pools

RANGE_START = datetime(2018, 1, 1, tzinfo=UTC)
RANGE_END = datetime(2020, 6, 30, 23, 59, 59, tzinfo=UTC)

#: Every SHARED_EVERY-th record (from SHARED_AT) gets this exact created_on, so a
#: client/loader that orders or dedupes by created_on meets dozens of ties.
SHARED_EVERY = 12
SHARED_AT = 3
SHARED_CREATED_ON = "2019-08-30T09:15:00Z"
_SHARED_CREATED_DT = datetime(2019, 8, 30, 9, 15, tzinfo=UTC)

#: Probability that an ordinary free-text value is replaced by an awkward one.
AWKWARD_RATE = 0.04


def _tz(hours: int, minutes: int = 0) -> timezone:
    sign = -1 if hours < 0 else 1
    return timezone(timedelta(hours=hours, minutes=sign * minutes))


#: Local times around month ends whose UTC month differs from the local month.
#: A loader that drops the offset (or a report that truncates local time)
#: puts these in the wrong month.
AUGUST_2019_EDGES = (
    datetime(2019, 9, 1, 0, 30, tzinfo=_tz(1)),  # = 2019-08-31 23:30 UTC (August)
    datetime(2019, 7, 31, 22, 0, tzinfo=_tz(-5)),  # = 2019-08-01 03:00 UTC (August)
    datetime(2019, 8, 1, 3, 0, tzinfo=_tz(5, 30)),  # = 2019-07-31 21:30 UTC (July)
    datetime(2019, 8, 31, 23, 30, tzinfo=_tz(-2)),  # = 2019-09-01 01:30 UTC (September)
)
MONTH_EDGE_TIMES = AUGUST_2019_EDGES + (
    datetime(2019, 10, 1, 1, 0, tzinfo=_tz(5, 30)),  # = 2019-09-30 19:30 UTC
    datetime(2019, 6, 30, 21, 0, tzinfo=_tz(-5)),  # = 2019-07-01 02:00 UTC
    datetime(2020, 3, 1, 0, 10, tzinfo=_tz(1)),  # = 2020-02-29 23:10 UTC (leap day)
    datetime(2020, 2, 29, 12, 0, tzinfo=UTC),
)

#: Financial-year boundaries (1 April, and 25 April for the other FY-start
#: setting in use) where cancellations cluster; offsets straddle the boundary.
FY_EDGE_TIMES = (
    datetime(2019, 4, 1, 0, 15, tzinfo=_tz(1)),  # = 2019-03-31 23:15 UTC
    datetime(2019, 3, 31, 23, 30, tzinfo=_tz(-1)),  # = 2019-04-01 00:30 UTC
    datetime(2018, 4, 1, 0, 30, tzinfo=_tz(1)),  # = 2018-03-31 23:30 UTC
    datetime(2019, 4, 25, 0, 20, tzinfo=_tz(1)),  # = 2019-04-24 23:20 UTC
    datetime(2019, 4, 24, 23, 45, tzinfo=_tz(-3)),  # = 2019-04-25 02:45 UTC
    datetime(2020, 4, 1, 0, 5, tzinfo=_tz(1)),  # = 2020-03-31 23:05 UTC
)
FY_EDGE_DAYS = (
    date(2018, 3, 31), date(2018, 4, 1), date(2019, 3, 31), date(2019, 4, 1),
    date(2020, 3, 31), date(2020, 4, 1), date(2018, 4, 25), date(2019, 4, 24),
    date(2019, 4, 25), date(2019, 4, 26), date(2020, 4, 25),
)  # fmt: skip

LEAP_DAY = date(2020, 2, 29)

#: Exact decimals that a float round-trip would corrupt.
AWKWARD_DECIMALS = (
    Decimal("12345678901234567.123456789"),
    Decimal("1500000.50"),
    Decimal("99999999999999.99"),
    Decimal("0.000001"),
    Decimal("0.10"),
    Decimal("2000000.00"),
)

_FIRST_DAY = RANGE_START.date()
_LAST_DAY = RANGE_END.date()
_ZERO = timedelta(0)
_DAY = timedelta(days=1)
_LONG_PATTERN = 'Très long nom — 長い名前 🚀 O\'Brien "quoted" \\ '
_OMIS_REF_SPACE = 26**3 * 1000  # references stay unique below this many records
_UUID_NODE_SPACE = 1 << 48


class _Draw:
    """Thin PRNG wrapper with the few draws the builders need.

    ``random.Random`` seeded with a string is stable across processes and
    Python 3 versions (it hashes the string with SHA-512, not ``hash()``).
    """

    __slots__ = ("rng", "random")

    def __init__(self, key: str) -> None:
        self.rng = random.Random(key)
        self.random = self.rng.random

    def chance(self, p: float) -> bool:
        return self.random() < p

    def pick(self, seq: Sequence[Any]) -> Any:
        return seq[int(self.random() * len(seq))]

    def weighted(self, pairs: Sequence[tuple[str, int]]) -> str:
        total = sum(weight for _, weight in pairs)
        x = self.random() * total
        for value, weight in pairs:
            x -= weight
            if x < 0:
                return value
        return pairs[-1][0]

    def between(self, low: int, high: int) -> int:
        """Uniform integer in [low, high]."""
        return low + int(self.random() * (high - low + 1))

    def text(
        self, value: str, max_length: int | None, *, none: float = 0.0, awkward: float = AWKWARD_RATE
    ) -> str | None:
        """``value``, or sometimes None, or sometimes an awkward string."""
        r = self.random()
        if r < none:
            return None
        if r < none + awkward:
            if self.random() < 0.1:
                return _long_text(max_length or 400)
            return self.pick(pools.AWKWARD_TEXT)
        return value if max_length is None else value[:max_length]

    def flag(self, *, none: float = 0.2, true: float = 0.35) -> bool | None:
        """A nullable boolean in which False is common (falsy-vs-NULL traps)."""
        r = self.random()
        if r < none:
            return None
        return r < none + true

    def count(self, *, none: float = 0.15, zero: float = 0.25, high: int = 500) -> int | None:
        r = self.random()
        if r < none:
            return None
        if r < none + zero:
            return 0
        if r > 0.99:
            return self.between(10_000, 250_000)
        return self.between(1, high)

    def money(self, *, none: float = 0.15, zero: float = 0.12) -> Decimal | None:
        r = self.random()
        if r < none:
            return None
        if r < none + zero:
            return Decimal("0") if r < none + zero / 2 else Decimal("0.00")
        if r < none + zero + 0.08:
            return self.pick(AWKWARD_DECIMALS)
        pounds = int(10 ** (3 + self.random() * 6))
        return Decimal(f"{pounds}.{self.between(0, 99):02d}")

    def moment(self, start: datetime, end: datetime) -> datetime:
        """A UTC instant in [start, end], with microseconds only sometimes."""
        span = max(int((end - start).total_seconds()), 1)
        moment = start + timedelta(seconds=int(self.random() * span))
        if self.random() < 0.3:
            moment = moment.replace(microsecond=self.between(1, 999_999))
        return moment.astimezone(UTC)

    def later(self, after: datetime, *, min_days: int = 1, max_days: int = 200) -> datetime:
        """A UTC instant after ``after`` (capped at the end of the data range)."""
        start = after + timedelta(days=min_days)
        end = max(after + timedelta(days=max_days), start)
        if start >= RANGE_END:
            return (after + timedelta(hours=1)).astimezone(UTC)
        return self.moment(start, min(end, RANGE_END))

    def earlier(self, before: datetime, *, min_days: int = 3, max_days: int = 250) -> datetime:
        """A UTC instant before ``before`` (floored at the start of the data range)."""
        end = before - timedelta(days=min_days)
        start = max(before - timedelta(days=max_days), RANGE_START)
        if end <= start:
            return (before - timedelta(hours=1)).astimezone(UTC)
        return self.moment(start, end)

    def day(self, start: date = _FIRST_DAY, end: date = _LAST_DAY) -> date:
        """A calendar day in [start, end]; the leap day 2020-02-29 turns up often."""
        if self.random() < 0.02:
            return LEAP_DAY
        return start + timedelta(days=int(self.random() * ((end - start).days + 1)))

    def stamp(self, moment: datetime | None) -> str | None:
        """ISO 8601 text: non-UTC instants keep their offset; UTC ones vary in style."""
        if moment is None:
            return None
        if moment.utcoffset() != _ZERO:
            return moment.isoformat()
        text = (
            f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
            f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
        )
        if moment.microsecond:
            text += f".{moment.microsecond:06d}"
        return text + ("Z" if self.random() < 0.65 else "+00:00")

    def names(self, pool: Sequence[str]) -> list[str | None] | None:
        """A JSON-array value: None, [], one item, or several (sometimes awkward)."""
        r = self.random()
        if r < 0.12:
            return None
        if r < 0.24:
            return []
        wanted = 1 if r < 0.5 else self.between(2, 4)
        items: list[str | None] = []
        for _ in range(wanted):
            item = self.pick(pool)
            if item not in items:
                items.append(item)
        if self.random() < 0.15:
            items[int(self.random() * len(items))] = self.pick(pools.AWKWARD_LIST_ITEMS)
        if self.random() < 0.04:
            items.append(None)
        return items

    def person(self) -> tuple[str, str]:
        return self.pick(pools.FIRST_NAMES), self.pick(pools.LAST_NAMES)

    def full_name(self, *, none: float = 0.1) -> str | None:
        first, last = self.person()
        return self.text(f"{first} {last}", 255, none=none)

    def company(self) -> str:
        return (
            f"{self.pick(pools.COMPANY_WORDS)} {self.pick(pools.COMPANY_NOUNS)} "
            f"{self.pick(pools.COMPANY_SUFFIXES)}"
        )

    def email(self, first: str, last: str) -> str:
        local = "".join(c for c in f"{first}.{last}".lower() if c.isascii() and c not in " '")
        return f"{local or 'contact'}@{self.pick(pools.EMAIL_DOMAINS)}"

    def phone(self, *, none: float = 0.1) -> str | None:
        if self.random() < none:
            return None
        return self.pick(
            (
                f"+44 20 7946 0{self.between(0, 999):03d}",
                f"07700 900{self.between(0, 999):03d}",
                f"+1 (555) 010-{self.between(0, 9999):04d} ext. 12",
                f"+81 3-{self.between(1000, 9999)}-{self.between(1000, 9999)}",
                f"0113 496 {self.between(0, 9999):04d}",
            )
        )

    def address(self, prefix: str) -> dict[str, str | None]:
        town, county, postcode, country = self.pick(pools.PLACES)
        line_1 = f"{self.between(1, 250)} {self.pick(pools.STREETS)}"
        line_2 = self.pick(pools.ADDRESS_2) if self.random() < 0.4 else None
        return {
            f"{prefix}_1": self.text(line_1, 255, none=0.03),
            f"{prefix}_2": self.text(line_2, 255) if line_2 is not None else None,
            f"{prefix}_town": self.text(town, 255, none=0.03),
            f"{prefix}_county": county if self.random() < 0.8 else None,
            f"{prefix}_country__name": country,
            f"{prefix}_postcode": self.text(postcode, 255, none=0.05),
        }

    def prose(self, *, none: float = 0.2) -> str | None:
        sentences = [self.pick(pools.SENTENCES) for _ in range(self.between(1, 3))]
        return self.text(self.pick((" ", "\n", "\n\n")).join(sentences), None, none=none)

    def uid(self, index: int, salt: int) -> str:
        """A v4-looking UUID whose low 48 bits are a bijection of ``index``.

        Random-looking like Data Hub's ids, but guaranteed unique per
        (field, index) instead of merely probably unique.
        """
        return retag_uuid(str(uuid.UUID(int=self.rng.getrandbits(128), version=4)), index, salt)


def retag_uuid(base: str, index: int, salt: int) -> str:
    """``base`` with its last 48 bits (the UUID node) replaced by a bijection of ``index``.

    Keeps the random look of Data Hub's v4 ids while making them provably
    unique per (field salt, index) for index < 2**48.
    """
    node = (index * 0x9E3779B97F4B + salt) % _UUID_NODE_SPACE
    return f"{base[:24]}{node:012x}"


def omis_reference(index: int, seed: int, year: int) -> str:
    """Unique (for index < 17,576,000) reference shaped like ``ABC123/19``."""
    n = (index * 7919 + seed * 104_729 + 4_194_301) % _OMIS_REF_SPACE
    letters, digits = divmod(n, 1000)
    a, rest = divmod(letters, 26 * 26)
    b, c = divmod(rest, 26)
    return f"{chr(65 + a)}{chr(65 + b)}{chr(65 + c)}{digits:03d}/{year % 100:02d}"


_LONG_CACHE: dict[int, str] = {}
_TEAM_MEMBERS = tuple(f"{first} {last}" for first in pools.FIRST_NAMES[:8] for last in pools.LAST_NAMES[:6])


def _long_text(length: int) -> str:
    """A mixed-script string of exactly ``length`` characters (varchar limit)."""
    text = _LONG_CACHE.get(length)
    if text is None:
        text = (_LONG_PATTERN * (length // len(_LONG_PATTERN) + 1))[:length]
        _LONG_CACHE[length] = text
    return text


def is_shared(index: int) -> bool:
    return index % SHARED_EVERY == SHARED_AT


def _omis(d: _Draw, index: int, seed: int) -> dict[str, Any]:
    status = d.weighted(pools.OMIS_STATUSES)
    completed = cancelled = paid = None
    if status == "complete":
        if d.chance(0.45):
            completed = (
                d.pick(AUGUST_2019_EDGES)
                if d.chance(0.2)
                else d.moment(datetime(2019, 8, 1, tzinfo=UTC), datetime(2019, 8, 31, 23, 59, tzinfo=UTC))
            )
        else:
            completed = d.moment(RANGE_START + timedelta(days=30), RANGE_END)
    elif status == "cancelled":
        if d.chance(0.3):
            cancelled = d.pick(FY_EDGE_TIMES)
        elif d.chance(0.4):
            day = datetime.combine(d.pick(FY_EDGE_DAYS), datetime.min.time(), UTC)
            cancelled = d.moment(day, day + _DAY - timedelta(seconds=1))
        else:
            cancelled = d.moment(RANGE_START + timedelta(days=30), RANGE_END)

    anchor = completed or cancelled
    if is_shared(index):
        created = _SHARED_CREATED_DT
        if anchor is not None and anchor <= created:
            anchor = d.later(created)
            completed, cancelled = (anchor, None) if completed else (None, anchor)
    elif anchor is not None:
        created = d.earlier(anchor)
    else:
        created = d.moment(RANGE_START, RANGE_END)

    if status in ("paid", "complete"):
        end = completed or min(created + timedelta(days=120), RANGE_END)
        paid = (created + (end - created) * (0.3 + 0.7 * d.random())).astimezone(UTC)

    has_invoice = status not in ("draft", "quote_awaiting_acceptance")
    subtotal = d.count(none=0.0, zero=0.15, high=2_500_000)
    first, last = d.person()
    delivery = None
    if has_invoice or d.chance(0.5):
        delivery = (created + timedelta(days=d.between(14, 180))).date()
        if d.chance(0.02):
            delivery = LEAP_DAY
    services = ", ".join(sorted({d.pick(pools.OMIS_SERVICES) for _ in range(d.between(1, 3))}))

    row: dict[str, Any] = {
        "id": d.uid(index, 11 + seed),
        "reference": omis_reference(index, seed, created.year),
        "company__name": d.text(d.company(), 255, none=0.01),
        "status": status,
        "contact__first_name": d.text(first, 255, none=0.02),
        "contact__last_name": d.text(last, 255, none=0.02),
        "contact__email": d.text(d.email(first, last), 255, none=0.05, awkward=0.01),
        "contact__telephone_number": d.phone(),
        "invoice__subtotal_cost": subtotal if has_invoice else None,
        "subtotal_cost": subtotal if d.chance(0.9) else d.count(none=0.0, zero=0.3),
        "sector_name": d.text(d.pick(pools.SECTORS), 255, none=0.05),
        "primary_market__name": d.text(d.pick(pools.COUNTRIES), None, none=0.03),
        "created_by__dit_team__name": d.text(d.pick(pools.TEAMS), None, none=0.05),
        "uk_region__name": d.pick(pools.UK_REGIONS) if d.chance(0.85) else None,
        "created_on": SHARED_CREATED_ON if is_shared(index) else d.stamp(created),
        "cancelled_on": d.stamp(cancelled),
        "cancellation_reason__name": (
            d.text(d.pick(pools.CANCELLATION_REASONS), None) if cancelled else None
        ),
        "completed_on": d.stamp(completed),
        "delivery_date": delivery.isoformat() if delivery else None,
        "paid_on": d.stamp(paid),
    }
    trading = d.address("company__address")
    row.update(trading)
    if d.chance(0.3):
        for key, value in trading.items():
            row[key.replace("company__address", "company__registered_address")] = value
    else:
        row.update(d.address("company__registered_address"))
    row["services"] = d.text(services, None, none=0.05)
    return row


def _investment(d: _Draw, index: int, seed: int) -> dict[str, Any]:
    if is_shared(index):
        created = _SHARED_CREATED_DT
    elif d.chance(0.6):
        if d.chance(0.15):
            created = d.pick(MONTH_EDGE_TIMES)
        else:
            created = d.moment(
                datetime(2019, 7, 1, tzinfo=UTC), datetime(2019, 9, 30, 23, 59, 59, tzinfo=UTC)
            )
    else:
        created = d.moment(RANGE_START, RANGE_END)
    stage = d.weighted(pools.STAGES)
    status = "won" if stage == "Won" else d.weighted(pools.PROJECT_STATUSES)
    archived = d.chance(0.08)
    investment_type = d.pick(pools.INVESTMENT_TYPES)
    referral = d.pick(pools.REFERRAL_SOURCES) if d.chance(0.9) else None
    created_day = created.astimezone(UTC).date()
    estimated = d.day(created_day, RANGE_END.date()) if d.chance(0.85) else None
    name = f"{d.pick(pools.COMPANY_WORDS)} {d.pick(pools.PROJECT_WORDS)}"
    if d.chance(0.2):
        name += f" — Phase {d.between(2, 4)}"

    return {
        "account_manager_name": d.full_name(none=0.3),
        "account_manager_team": d.text(d.pick(pools.TEAMS), None, none=0.3),
        "actual_land_date": d.day(created_day).isoformat() if status == "won" else None,
        "actual_uk_region_names": d.names(pools.UK_REGIONS),
        "allow_blank_possible_uk_regions": d.flag(),
        "anonymous_description": d.prose(none=0.3),
        "archived": archived,
        "archived_by_name": d.full_name(none=0.0) if archived else None,
        "archived_by__dit_team__name": d.pick(pools.TEAMS) if archived else None,
        "archived_on": d.stamp(d.later(created)) if archived else None,
        "associated_non_fdi_r_and_d_project__id": (d.uid(index, 23 + seed) if d.chance(0.1) else None),
        "average_salary__name": d.pick(pools.AVERAGE_SALARIES) if d.chance(0.7) else None,
        "business_activity_names": d.names(pools.BUSINESS_ACTIVITIES),
        "client_relationship_manager_name": d.full_name(),
        "client_relationship_manager__dit_team__name": d.text(d.pick(pools.TEAMS), None, none=0.1),
        "clint_requirements": d.prose(none=0.4),
        "competing_countries": d.names(pools.COUNTRIES),
        "country_lost_to__name": d.pick(pools.COUNTRIES) if status == "lost" else None,
        "created_by_name": d.full_name(none=0.05),
        "created_by__dit_team__name": d.text(d.pick(pools.TEAMS), None, none=0.05),
        "created_on": SHARED_CREATED_ON if is_shared(index) else d.stamp(created),
        "date_abandoned": d.day(created_day).isoformat() if status == "abandoned" else None,
        "date_lost": d.day(created_day).isoformat() if status == "lost" else None,
        "date_of_latest_interaction": d.day().isoformat() if d.chance(0.7) else None,
        "delivery_partner_names": d.names(pools.DELIVERY_PARTNERS),
        "description": d.prose(none=0.02),
        "estimated_land_date": estimated.isoformat() if estimated else None,
        "export_revenue": d.flag(),
        "fdi_type__name": d.pick(pools.FDI_TYPES) if investment_type == "FDI" else None,
        "fdi_value__name": d.pick(pools.FDI_VALUES) if d.chance(0.6) else None,
        "foreign_equity_investment": d.money(),
        "government_assistance": d.flag(),
        "gross_value_added": d.money(none=0.3),
        "gva_multiplier__multiplier": (Decimal(f"0.{d.between(0, 999_999):06d}") if d.chance(0.7) else None),
        "id": d.uid(index, 37 + seed),
        "investment_type__name": investment_type,
        "investor_company__headquarter_type__name": (d.pick(pools.HQ_TYPES) if d.chance(0.5) else None),
        "investor_company__id": d.uid(index, 41 + seed),
        "investor_company__one_list_tier__name": (d.pick(pools.ONE_LIST_TIERS) if d.chance(0.3) else None),
        "investor_company_sector": d.text(d.pick(pools.SECTORS), 255, none=0.1),
        "investor_company__uk_region__name": (d.pick(pools.UK_REGIONS) if d.chance(0.4) else None),
        "investor_type__name": d.pick(pools.INVESTOR_TYPES) if d.chance(0.8) else None,
        "level_of_involvement_name": d.pick(pools.INVOLVEMENT) if d.chance(0.8) else None,
        "likelihood_to_land__name": d.pick(pools.LIKELIHOODS) if d.chance(0.7) else None,
        "modified_by_name": d.full_name(none=0.1),
        "modified_by__dit_team__name": d.text(d.pick(pools.TEAMS), None, none=0.1),
        "modified_on": d.stamp(d.later(created, min_days=0, max_days=300)),
        "name": d.text(name, 255),
        "new_tech_to_uk": d.flag(),
        "non_fdi_r_and_d_budget": d.flag(),
        "number_new_jobs": d.count(),
        "number_safeguarded_jobs": d.count(zero=0.4),
        "project_arrived_in_triage_on": d.day().isoformat() if d.chance(0.4) else None,
        "project_assurance_adviser_name": d.full_name(none=0.5),
        "project_assurance_adviser__dit_team__name": (d.pick(pools.TEAMS) if d.chance(0.5) else None),
        "project_manager_name": d.full_name(none=0.4),
        "project_manager__dit_team__name": d.pick(pools.TEAMS) if d.chance(0.6) else None,
        "project_reference": f"DHP-{index + 1:08d}",
        "proposal_deadline": d.day().isoformat() if d.chance(0.3) else None,
        "quotable_as_public_case_study": d.flag(),
        "r_and_d_budget": d.flag(),
        "referral_source_activity__name": referral,
        "referral_source_activity_marketing__name": (
            d.pick(pools.REFERRAL_MARKETING) if referral == "Marketing" else None
        ),
        "referral_source_activity_website__name": (
            d.pick(pools.REFERRAL_WEBSITE) if referral == "Website" else None
        ),
        "sector_name": d.text(d.pick(pools.SECTORS), 255, none=0.05),
        "some_new_jobs": d.flag(),
        "specific_programme__name": (d.pick(pools.SPECIFIC_PROGRAMMES) if d.chance(0.25) else None),
        "stage__name": stage,
        "status": status,
        "strategic_driver_names": d.names(pools.STRATEGIC_DRIVERS),
        "team_member_names": d.names(_TEAM_MEMBERS),
        "total_investment": d.money(),
        "uk_company__id": d.uid(index, 43 + seed) if d.chance(0.4) else None,
        "uk_company__uk_region__name": d.pick(pools.UK_REGIONS) if d.chance(0.4) else None,
        "uk_company_decided": d.flag(),
        "uk_company_sector": d.text(d.pick(pools.SECTORS), 255, none=0.5),
    }


def _contact(d: _Draw, index: int, seed: int) -> dict[str, Any]:
    first, last = d.person()
    # Data Hub sends a timestamp here although the target column is a date; some sit on
    # month edges with non-UTC offsets, where the date as written differs from UTC's.
    if is_shared(index):
        created = SHARED_CREATED_ON
    elif d.chance(0.05):
        created = d.stamp(d.pick(MONTH_EDGE_TIMES))
    else:
        created = d.stamp(d.moment(RANGE_START, RANGE_END))
    company_number = d.pick((f"{d.between(0, 99_999_999):08d}", f"SC{d.between(0, 999_999):06d}", "", None))
    return {
        "id": d.uid(index, 53 + seed),
        "accepts_dit_email_marketing": d.flag(none=0.1, true=0.3),
        "address_country__name": d.text(d.pick(pools.COUNTRIES), None, none=0.1),
        "company__company_number": company_number,
        "company__name": d.text(d.company(), 255, none=0.05),
        "company__uk_region__name": d.pick(pools.UK_REGIONS) if d.chance(0.7) else None,
        "company_sector": d.text(d.pick(pools.SECTORS), None, none=0.1),
        "created_on": created,
        "email": d.text(d.email(first, last), 255, none=0.05, awkward=0.01),
        "email_alternative": d.email(last, first) if d.chance(0.2) else None,
        "job_title": d.text(d.pick(pools.JOB_TITLES), 255, none=0.2),
        "name": d.text(f"{first} {last}", None),
        "notes": d.prose(none=0.6),
        "telephone_alternative": d.phone(none=0.8),
        "telephone_number": d.phone(),
    }


BUILDERS = {
    "omis_dataset": _omis,
    "investment_projects_dataset": _investment,
    "contacts": _contact,
}


def build(dataset: str, index: int, seed: int) -> dict[str, Any]:
    """Generate one complete record from scratch (slow path, ~100 µs).

    ``standin.data`` calls this to fill its per-seed pools; index-derived
    fields (ids, references, shared created_on) are decided here and
    re-derived there for the real index.
    """
    return BUILDERS[dataset](_Draw(f"{dataset}:{seed}:{index}"), index, seed)
