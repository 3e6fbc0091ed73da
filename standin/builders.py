"""Builders that generate the values of one internally consistent seed-dataset record.

A record of the seed's three datasets (OMIS orders, investment projects, contacts) is
drawn from a PRNG seeded with ``dataset:seed:index``, so it is a pure function of those
three values. Its fields are those Data Hub's dataset views send today (``standin.fields``).
Dates hang together per record (an order is quoted, accepted and paid after it is created;
a won project has an ``actual_land_date``), and the data is deliberately hostile in the
ways real Data Hub data is: awkward text, JSON arrays with commas and quotes, floats too
big for an exact integer (DRF renders decimals as floats: ``1e+16``), instants on month
and financial-year edges where UK local time falls in another month than UTC, the leap
day, ties on ``created_on``. Datetimes are UTC with ``Z`` (a fraction only when the
microseconds are not zero), blank text is ``""``, as Data Hub sends them.

The ids a record names (companies, contacts, advisers, ...) are placeholders here: only
whether they are null, or how many a list holds, counts. ``standin.data`` replaces them
per index with ids of records the stand-in serves (``standin.related.Universe``).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
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


#: Instants around month ends, in the zone where they happened. Sent in UTC (``Z``), as
#: Data Hub sends them, they fall in another month than in that zone, and some in another
#: month than in UK time: a report that buckets by local (UK) month puts them elsewhere.
AUGUST_2019_EDGES = (
    datetime(2019, 9, 1, 0, 30, tzinfo=_tz(1)),  # = 2019-08-31 23:30 UTC (August; September in UK time)
    datetime(2019, 7, 31, 22, 0, tzinfo=_tz(-5)),  # = 2019-08-01 03:00 UTC (August)
    datetime(2019, 8, 1, 3, 0, tzinfo=_tz(5, 30)),  # = 2019-07-31 21:30 UTC (July; August where it happened)
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

#: Amounts (Data Hub's whole-pound decimals, sent as floats) that render awkwardly or lost
#: digits on the way: ``1e+16``, ``2e+18``, 12345678901234567 -> ``1.2345678901234568e+16``,
#: 2**53 + 1 -> ``9007199254740992.0``.
AWKWARD_AMOUNTS = (
    1e16,
    12345678901234567.0,
    99999999999999.0,
    2e18,
    1500000.0,
    9007199254740993.0,
)

_FIRST_DAY = RANGE_START.date()
_LAST_DAY = RANGE_END.date()
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

    def amount(self, *, none: float = 0.15, zero: float = 0.12) -> float | None:
        """A whole-pound amount as Data Hub sends a Decimal(19, 0): a JSON float."""
        r = self.random()
        if r < none:
            return None
        if r < none + zero:
            return 0.0
        if r < none + zero + 0.08:
            return self.pick(AWKWARD_AMOUNTS)
        return float(int(10 ** (3 + self.random() * 6)))

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
        """ISO 8601 in UTC with ``Z``, a fraction only when there are microseconds (as DRF)."""
        return None if moment is None else stamp(moment)

    def names(self, pool: Sequence[str], *, empty: list[None] | None = None) -> list[Any] | None:
        """An aggregated list of names, ordered (code points): ``empty`` (None for
        ``get_array_agg_subquery``, ``[None]`` for an ``ArrayAgg``) or 1-4 names, sometimes awkward."""
        r = self.random()
        if r < 0.25:
            return None if empty is None else list(empty)
        wanted = 1 if r < 0.55 else self.between(2, 4)
        items = {self.pick(pool) for _ in range(wanted)}
        if self.random() < 0.15:
            items.add(self.pick(pools.AWKWARD_LIST_ITEMS))
        return sorted(items)

    def person(self) -> tuple[str, str]:
        return self.pick(pools.FIRST_NAMES), self.pick(pools.LAST_NAMES)

    def company(self) -> str:
        return (
            f"{self.pick(pools.COMPANY_WORDS)} {self.pick(pools.COMPANY_NOUNS)} "
            f"{self.pick(pools.COMPANY_SUFFIXES)}"
        )

    def email(self, first: str, last: str) -> str:
        local = "".join(c for c in f"{first}.{last}".lower() if c.isascii() and c not in " '")
        return f"{local or 'contact'}@{self.pick(pools.EMAIL_DOMAINS)}"

    def phone(self, *, blank: float = 0.1) -> str:
        """A full international number (``full_telephone_number``), ``""`` when blank."""
        if self.random() < blank:
            return ""
        return self.pick(
            (
                f"+44 20 7946 0{self.between(0, 999):03d}",
                f"+44 7700 900{self.between(0, 999):03d}",
                f"+1 (555) 010-{self.between(0, 9999):04d} ext. 12",
                f"+81 3-{self.between(1000, 9999)}-{self.between(1000, 9999)}",
                f"+44113 496 {self.between(0, 9999):04d}",
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


def stamp(moment: datetime) -> str:
    """``moment`` in UTC as DRF renders a datetime: ``...Z``, a fraction only when not zero."""
    moment = moment.astimezone(UTC)
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


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

    # A quote is created soon after the order (drafts mostly have none), accepted before payment.
    quoted = status != "draft" or d.chance(0.2)
    quote_created = created + timedelta(minutes=d.between(5, 600)) if quoted else None
    accepted = status in ("quote_accepted", "paid", "complete") or (status == "cancelled" and d.chance(0.4))
    quote_accepted = quote_created + timedelta(minutes=d.between(5, 600)) if accepted and quote_created else None
    if anchor is not None and quote_created is not None and (quote_accepted or quote_created) > anchor:
        quote_created = created + (anchor - created) / 4  # an order completed or cancelled within hours
        quote_accepted = created + (anchor - created) / 3 if quote_accepted else None
    if status in ("paid", "complete"):
        end = completed or min(created + timedelta(days=120), RANGE_END)
        paid = (created + (end - created) * (0.3 + 0.7 * d.random())).astimezone(UTC)
        if quote_accepted is not None and paid < quote_accepted:
            paid = quote_accepted + (paid - created) / 10

    # Money is in pence (PositiveIntegerField): JSON integers.
    has_invoice = quote_accepted is not None
    subtotal = d.count(none=0.0, zero=0.15, high=2_500_000)
    net = subtotal if d.chance(0.9) else d.count(none=0.0, zero=0.3)
    vat = 0 if d.chance(0.3) else round(net * 0.2)
    refunded = status == "cancelled" and has_invoice and d.chance(0.5)
    refund_created = d.later(cancelled or created, min_days=0, max_days=40) if refunded else None
    delivery = None
    if has_invoice or d.chance(0.5):
        delivery = (created + timedelta(days=d.between(14, 180))).date()
        if d.chance(0.02):
            delivery = LEAP_DAY
    services = ", ".join(sorted({d.pick(pools.OMIS_SERVICES) for _ in range(d.between(1, 3))}))

    return {
        "cancellation_reason__name": (
            d.text(d.pick(pools.CANCELLATION_REASONS), None, none=0.05) if cancelled else None
        ),
        "cancelled_on": d.stamp(cancelled),
        "company_id": d.uid(index, 101),  # placeholders: standin.data names served records
        "completed_on": d.stamp(completed),
        "contact_id": d.uid(index, 102),
        "created_by__dit_team_id": None,  # the team of created_by (standin.data)
        "created_by_id": d.uid(index, 103) if d.chance(0.95) else None,
        "created_on": SHARED_CREATED_ON if is_shared(index) else d.stamp(created),
        "delivery_date": delivery.isoformat() if delivery else None,
        "id": d.uid(index, 11 + seed),
        "invoice__subtotal_cost": subtotal if has_invoice else None,
        "paid_on": d.stamp(paid),
        "primary_market__name": d.text(d.pick(pools.COUNTRIES), None, none=0.03),
        "quote__accepted_on": d.stamp(quote_accepted),
        "quote__created_on": d.stamp(quote_created),
        "reference": omis_reference(index, seed, created.year),
        "refund_created": d.stamp(refund_created),
        "refund_total_amount": (net + vat if d.chance(0.6) else (net + vat) // 2) if refunded else None,
        "sector_name": d.text(d.pick(pools.SECTORS), 255, none=0.05),
        "services": d.text(services, None, none=0.05),
        "status": status,
        "subtotal_cost": net,
        "total_cost": net + vat,
        "uk_region__name": d.pick(pools.UK_REGIONS) if d.chance(0.85) else None,
        "vat_cost": vat,
    }


#: Country ids as Data Hub's metadata has them (fixed per name).
_COUNTRY_IDS = {name: str(uuid.uuid5(uuid.NAMESPACE_URL, f"datahub:country:{name}")) for name in pools.COUNTRIES}


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
    investment_type = d.pick(pools.INVESTMENT_TYPES)
    referral = d.pick(pools.REFERRAL_SOURCES) if d.chance(0.9) else None
    created_day = created.astimezone(UTC).date()
    estimated = d.day(created_day, RANGE_END.date()) if d.chance(0.85) else None
    won = d.later(created, min_days=10, max_days=400) if stage == "Won" else None
    name = f"{d.pick(pools.COMPANY_WORDS)} {d.pick(pools.PROJECT_WORDS)}"
    if d.chance(0.2):
        name += f" — Phase {d.between(2, 4)}"
    origin = d.pick(pools.COUNTRIES) if d.chance(0.85) else None
    sited = d.chance(0.4)
    site = d.address("address")
    has_uk_company = d.chance(0.4)
    contacts = d.pick((0, 0, 1, 1, 1, 2, 3))
    members = d.pick((0, 0, 0, 1, 1, 2, 3))
    leads = d.pick((0,) * 18 + (1, 2))

    return {
        "actual_land_date": d.day(created_day).isoformat() if status == "won" else None,
        "actual_uk_region_names": d.names(pools.UK_REGIONS),
        "address_1": site["address_1"] if sited else None,
        "address_2": site["address_2"] if sited else None,
        "address_town": site["address_town"] if sited else None,
        "address_postcode": site["address_postcode"] if sited else None,
        "anonymous_description": d.prose(none=0.3) or "",
        "associated_non_fdi_r_and_d_project_id": d.uid(index, 23) if d.chance(0.1) else None,
        "average_salary__name": d.pick(pools.AVERAGE_SALARIES) if d.chance(0.7) else None,
        "business_activity_names": d.names(pools.BUSINESS_ACTIVITIES),
        "client_relationship_manager_id": d.uid(index, 201) if d.chance(0.9) else None,  # placeholders
        "client_requirements": d.prose(none=0.4),
        "client_contact_ids": [d.uid(index, 210 + k) for k in range(contacts)] or [None],
        "client_contact_names": [" "],  # standin.data: the names of the client contacts
        "client_contact_emails": [None],
        "competing_countries": d.names(pools.COUNTRIES, empty=[None]),
        "country_investment_originates_from_id": _COUNTRY_IDS[origin] if origin else None,
        "country_investment_originates_from__name": origin,
        "created_by_id": d.uid(index, 202) if d.chance(0.95) else None,
        "created_on": SHARED_CREATED_ON if is_shared(index) else d.stamp(created),
        "delivery_partner_names": d.names(pools.DELIVERY_PARTNERS),
        "description": d.prose(none=0.02) or "",
        "estimated_land_date": estimated.isoformat() if estimated else None,
        "export_revenue": d.flag(),
        "fdi_type__name": d.pick(pools.FDI_TYPES) if investment_type == "FDI" else None,
        "fdi_value__name": d.pick(pools.FDI_VALUES) if d.chance(0.6) else None,
        "foreign_equity_investment": d.amount(),
        "government_assistance": d.flag(),
        "gross_value_added": d.amount(none=0.3),
        "gva_multiplier__multiplier": round(d.between(0, 999_999) / 1e6, 6) if d.chance(0.7) else None,
        "id": d.uid(index, 37 + seed),
        "investment_type__name": investment_type,
        "investor_company_id": d.uid(index, 41) if d.chance(0.95) else None,
        "investor_company_sector": d.text(d.pick(pools.SECTORS), 255, none=0.1),
        "investor_type__name": d.pick(pools.INVESTOR_TYPES) if d.chance(0.8) else None,
        "level_of_involvement_name": d.pick(pools.INVOLVEMENT) if d.chance(0.8) else "",
        "likelihood_to_land__name": d.pick(pools.LIKELIHOODS) if d.chance(0.7) else None,
        "modified_by_id": d.uid(index, 203) if d.chance(0.9) else None,
        "modified_on": d.stamp(d.later(created, min_days=0, max_days=300)),
        "name": d.text(name, 255) or name,
        "new_tech_to_uk": d.flag(),
        "non_fdi_r_and_d_budget": d.flag(),
        "number_new_jobs": d.count(),
        "number_safeguarded_jobs": d.count(zero=0.4),
        "other_business_activity": d.text(d.pick(pools.BUSINESS_ACTIVITIES), 255) if d.chance(0.1) else None,
        "project_arrived_in_triage_on": d.day().isoformat() if d.chance(0.4) else None,
        "project_assurance_adviser_id": d.uid(index, 204) if d.chance(0.5) else None,
        "project_first_moved_to_won": d.stamp(won),
        "project_manager_id": d.uid(index, 205) if stage != "Prospect" and d.chance(0.75) else None,
        "project_reference": f"DHP-{index + 1:08d}",
        "proposal_deadline": d.day().isoformat() if d.chance(0.3) else None,
        "r_and_d_budget": d.flag(),
        "referral_source_activity__name": referral,
        "referral_source_activity_marketing__name": (
            d.pick(pools.REFERRAL_MARKETING) if referral == "Marketing" else None
        ),
        "referral_source_activity_website__name": (
            d.pick(pools.REFERRAL_WEBSITE) if referral == "Website" else None
        ),
        "sector_name": d.text(d.pick(pools.SECTORS), 255, none=0.05),
        "specific_programme_names": d.names(pools.SPECIFIC_PROGRAMMES) if d.chance(0.4) else None,
        "stage__name": stage,
        "status": status,
        "strategic_driver_names": d.names(pools.STRATEGIC_DRIVERS),
        "team_member_ids": [d.uid(index, 220 + k) for k in range(members)] or [None],
        "total_investment": d.amount(),
        "uk_company_id": d.uid(index, 43) if has_uk_company else None,
        "uk_company_sector": d.text(d.pick(pools.SECTORS), 255, none=0.2) if has_uk_company else None,
        "uk_region_location_names": d.names(pools.UK_REGIONS) if d.chance(0.5) else None,
        "eyb_lead_ids": sorted(d.uid(index, 230 + k) for k in range(leads)) or None,
    }


def _contact(d: _Draw, index: int, seed: int) -> dict[str, Any]:
    first, last = d.person()
    email = d.text(d.email(first, last), 255, none=0.0, awkward=0.01) if d.chance(0.95) else ""
    first, last = d.text(first, 255, none=0.0) or "", d.text(last, 255, none=0.0) or ""
    if d.chance(0.03):
        first = ""
    elif d.chance(0.03):
        last = ""
    # Some creations sit on month edges, where the date in UTC (as sent) is not the date in the
    # zone where they happened, nor always the date in UK time.
    if is_shared(index):
        created = _SHARED_CREATED_DT
    elif d.chance(0.05):
        created = d.pick(MONTH_EDGE_TIMES)
    else:
        created = d.moment(RANGE_START, RANGE_END)
    archived = d.chance(0.06)
    same_address = d.chance(0.6)
    address = d.address("address")
    if same_address:  # the contact's address is the company's: Data Hub keeps none of its own
        address = dict.fromkeys(address)
    address["address_country__name"] = d.text(d.pick(pools.COUNTRIES), None, none=0.1) if not same_address else None
    return {
        "address_1": address["address_1"],
        "address_2": address["address_2"],
        "address_country__name": address["address_country__name"],
        "address_county": address["address_county"],
        "address_postcode": address["address_postcode"],
        "address_same_as_company": same_address,
        "address_town": address["address_town"],
        "archived": archived,
        "archived_on": d.stamp(d.later(created)) if archived else None,
        "company_id": d.uid(index, 301) if d.chance(0.9) else None,  # placeholders
        "created_by_id": d.uid(index, 302) if d.chance(0.9) else None,
        "created_on": SHARED_CREATED_ON if is_shared(index) else d.stamp(created),
        "email": email,
        "first_name": first,
        "id": d.uid(index, 53 + seed),
        "job_title": d.text(d.pick(pools.JOB_TITLES), 255, none=0.2),
        "last_name": last,
        "modified_on": d.stamp(d.later(created, min_days=0, max_days=400)),
        "name": " ".join(part for part in (first, last) if part),  # concat_ws of the non-blank parts
        "notes": d.prose(none=0.6),
        "primary": d.chance(0.7),
        "full_telephone_number": d.phone(),
        "valid_email": d.flag(none=0.5, true=0.45),
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
    re-derived there for the real index (the references here are placeholders:
    only their nullness, or a list's length, is kept).
    """
    return BUILDERS[dataset](_Draw(f"{dataset}:{seed}:{index}"), index, seed)
