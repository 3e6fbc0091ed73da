"""What the warehouse must hold, computed in plain Python from the stand-in's records.

Nothing here uses the project's code: the 2019 tables' columns come from the description
of Data Hub today (datahub_today.json, a copy in tests/fixtures: each column as a field, a
join by id, a full name, a joined list, or retired), the later tables' from the later
data-flow's list (datahub_datasets_later.json), conversions are written out by hand, and
the view filters are re-derived from their definitions in the issue.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from standin.data import ALL_PATHS, record
from standin.related import Universe

MAPPINGS = json.loads((Path(__file__).parent / "fixtures" / "field_mappings.json").read_text())
UTC = dt.UTC

# PostgreSQL's array_out quotes an element that is empty, is NULL (any case), or holds
# a brace, quote, comma, backslash or white space.
_ARRAY_SPECIAL = set('{}",\\ \t\n\r\v\f')


def pg_array_text(items: list[Any]) -> str:
    def element(item: Any) -> str:
        if item is None:
            return "NULL"
        text = str(item)
        if text == "" or text.upper() == "NULL" or any(ch in _ARRAY_SPECIAL for ch in text):
            return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return text

    return "{" + ",".join(element(item) for item in items) + "}"


def parse_timestamp(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("z", "Z"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def convert(value: Any, target_type: str) -> Any:
    """The value the old mapping puts in the target column, without the falsy bug."""
    if value is None:
        return None
    base = target_type.replace(" NOT NULL", "")
    if isinstance(value, list):
        return pg_array_text(value)
    if base == "boolean":
        return bool(value)
    if base == "integer":
        return int(value)
    if base == "decimal":
        return Decimal(str(value))
    if base == "timestamp with time zone":
        return parse_timestamp(value)
    if base == "date":
        return dt.date.fromisoformat(value[:10])
    return value if isinstance(value, str) else str(value)


#: Data Hub as it is today (a copy of the seed's datahub_today.json): every field each endpoint
#: sends, and how each column of the three 2019-named tables derives from them.
TODAY = json.loads((Path(__file__).parent / "fixtures" / "datahub_today.json").read_text())
SEED_TABLES: dict[str, list[dict[str, Any]]] = TODAY["seed_tables"]
#: The stand-in's dataset names, by Data Hub endpoint (what a join names).
ENDPOINT_DATASET = {
    "/v4/dataset/companies-dataset": "data_hub__companies", "/v4/dataset/contacts-dataset": "contacts",
    "/v4/dataset/advisers-dataset": "data_hub__advisers", "/v4/dataset/teams-dataset": "data_hub__teams",
    "/v4/dataset/interactions-dataset": "data_hub__interactions",
}
Served = dict[str, list[dict[str, Any]]]  # dataset -> the records the stand-in serves


def served_records(counts: dict[str, int], seed: int = 0) -> Served:
    """Every record a stand-in with these record counts serves (no edits), by dataset."""
    universe = Universe({d: counts.get(d, 0) for d in ALL_PATHS}, seed)
    return {d: [record(d, i, seed=seed, universe=universe) for i in range(counts.get(d, 0))] for d in ALL_PATHS}


def dataset_rows(dataset: str, counts: dict[str, int], seed: int = 0) -> list[dict[str, Any]]:
    """The published rows of `dataset` for a stand-in serving `counts` records."""
    served = served_records(counts, seed)
    return published_rows(dataset, served[dataset], served)


def _full_name(person: dict[str, Any]) -> str:
    """Data Hub's full name: first and last name, blank (or missing) parts skipped."""
    return " ".join(part for part in (person.get("first_name"), person.get("last_name")) if part)


def _take(found: dict[str, Any], take: Any) -> Any:
    return _full_name(found) if isinstance(take, dict) else found.get(take)


class _Lookup:
    """Served records by the value of one field (a join's `on`)."""

    def __init__(self, served: Served) -> None:
        self.served, self.cache = served, {}

    def find(self, endpoint: str, on: str, value: Any) -> dict[str, Any] | None:
        key = (endpoint, on)
        if key not in self.cache:
            self.cache[key] = {r[on]: r for r in self.served.get(ENDPOINT_DATASET[endpoint], [])}
        return self.cache[key].get(value)


def _joined(rec: dict[str, Any], column: dict[str, Any], lookup: _Lookup, served: Served) -> Any:
    join = column["join"]
    if column["column"] == "date_of_latest_interaction":  # an aggregate over the interactions naming it
        days = [i["date"][:10] for i in served.get("data_hub__interactions", [])
                if i.get("investment_project_id") == rec["id"] and i.get("date")]
        return max(days) if days else None
    if isinstance(join, dict) and join.get("each"):  # ids, each to a name: ', '-joined in name order (bytes)
        people = [lookup.find(join["endpoint"], join["on"], i) for i in rec.get(column["from"]) or [] if i]
        people = sorted((p for p in people if p is not None), key=lambda p: (
            p.get("first_name") is None, p.get("first_name") or "",
            p.get("last_name") is None, p.get("last_name") or ""))
        return ", ".join(_full_name(p) for p in people) if people else None
    value = rec.get(column["from"])
    for step in join if isinstance(join, list) else [join]:
        found = lookup.find(step["endpoint"], step["on"], value) if value is not None else None
        if found is None:
            return None
        value = _take(found, step["take"])
    return value


def _today_value(rec: dict[str, Any], column: dict[str, Any], lookup: _Lookup, served: Served) -> Any:
    kind, target = column["kind"], column["type"]
    if kind == "retired":
        return None
    if kind == "join":
        return convert(_joined(rec, column, lookup, served), target)
    value = rec.get(column["from"])
    if isinstance(value, list) and "joined with ', '" in column.get("form", ""):
        value = ", ".join(str(v) for v in value if v is not None)
    if value is not None and target == "date" and column.get("wire", "").startswith("datetime"):
        return parse_timestamp(value).astimezone(UTC).date()  # a timestamp's UTC date
    return convert(value, target)


def published_rows(dataset: str, source_records: Iterable[dict[str, Any]], served: Served) -> list[dict[str, Any]]:
    """The published rows of these Data Hub records, by today's derivations (`SEED_TABLES`);
    `served` holds the records of the datasets they are joined to."""
    lookup = _Lookup(served)
    return [
        {column["column"]: _today_value(rec, column, lookup, served) for column in SEED_TABLES[dataset]}
        for rec in source_records
    ]


def columns(dataset: str) -> list[tuple[str, str]]:
    """(column, declared type) in the table's order."""
    return [(c["column"], c["type"].replace(" NOT NULL", "")) for c in SEED_TABLES[dataset]]


#: Every id field of the 2019 tables' raw records whose ids are checked to name a record
#: (dbt tests of severity warn): (dataset, field, the endpoint it names).
CHECKED_IDS = [
    ("omis_dataset", "company_id", "/v4/dataset/companies-dataset"),
    ("omis_dataset", "contact_id", "/v4/dataset/contacts-dataset"),
    ("omis_dataset", "created_by__dit_team_id", "/v4/dataset/teams-dataset"),
    ("contacts", "company_id", "/v4/dataset/companies-dataset"),
    *(("investment_projects_dataset", field, endpoint) for field, endpoint in (
        ("investor_company_id", "/v4/dataset/companies-dataset"), ("uk_company_id", "/v4/dataset/companies-dataset"),
        ("client_relationship_manager_id", "/v4/dataset/advisers-dataset"),
        ("created_by_id", "/v4/dataset/advisers-dataset"), ("modified_by_id", "/v4/dataset/advisers-dataset"),
        ("project_assurance_adviser_id", "/v4/dataset/advisers-dataset"),
        ("project_manager_id", "/v4/dataset/advisers-dataset"), ("team_member_ids", "/v4/dataset/advisers-dataset"))),
]


def dangling(dataset: str, field: str, served: Served, endpoint: str) -> int:
    """How many of `dataset`'s `field` values name no record of `endpoint` (ids in a list each count)."""
    known = {r["id"] for r in served.get(ENDPOINT_DATASET[endpoint], [])}
    count = 0
    for rec in served[dataset]:
        values = rec.get(field)
        for value in values if isinstance(values, list) else [values]:
            count += value is not None and value not in known
    return count


# ---------------------------------------------------------------- periods

def month_bounds(ds: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(ds.year, ds.month, 1, tzinfo=UTC)
    end = dt.datetime(ds.year + ds.month // 12, ds.month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def month_end(ds: dt.date) -> dt.date:
    return (month_bounds(ds)[1] - dt.timedelta(days=1)).date()


def financial_year_start(ds: dt.date, month_day: str = "04-01") -> dt.date:
    month, day = (int(part) for part in month_day.split("-"))
    start = dt.date(ds.year, month, day)
    return start if ds > start else dt.date(ds.year - 1, month, day)


def in_month(value: dt.datetime | None, ds: dt.date) -> bool:
    start, end = month_bounds(ds)
    return value is not None and start <= value < end


def pounds(pence: int | None) -> Decimal | None:
    return None if pence is None else Decimal(pence) / 100


def view_rows(
    view: str, data: dict[str, list[dict[str, Any]]], ds: dt.date, fy_month_day: str = "04-01"
) -> list[tuple]:
    """The exact rows (as tuples, in the view's column order) a period view must return."""
    omis = data["omis_dataset"]
    completed = [r for r in omis if r["order_status"] == "complete" and in_month(r["completion_date"], ds)]
    if view == "completed_omis_orders":
        return [
            (r["company_name"], r["dit_team"], pounds(r["subtotal"]), r["uk_region"], r["market"],
             r["sector"], r["services"], r["delivery_date"], r["payment_received_date"],
             r["completion_date"])
            for r in completed
        ]
    if view == "cancelled_omis_orders":
        fy_start = dt.datetime.combine(financial_year_start(ds, fy_month_day), dt.time(), tzinfo=UTC)
        return [
            (r["omis_order_reference"], r["company_name"], pounds(r["net_price"]), r["dit_team"],
             r["market"], r["sector"], r["created_date"], r["cancelled_date"], r["cancellation_reason"])
            for r in omis
            if r["order_status"] == "cancelled"
            and r["cancelled_date"] is not None
            and r["cancelled_date"] >= fy_start
        ]
    if view == "omis_client_survey":
        keys = [
            "company_name", "contact_first_name", "contact_last_name", "contact_email",
            "company_trading_address_line_1", "company_trading_address_line_2",
            "company_trading_address_town", "company_trading_address_county",
            "company_trading_address_postcode", "company_registered_address_1",
            "company_registered_address_2", "company_registered_address_town",
            "company_registered_address_county", "company_registered_address_country",
            "company_registered_address_postcode",
        ]
        return [tuple(r[k] for k in keys) for r in completed]
    if view == "investment_projects":
        names = [c for c, _ in columns("investment_projects_dataset")]
        return [
            tuple(r[n] for n in names)
            for r in data["investment_projects_dataset"]
            if in_month(r["created_on"], ds)
        ]
    raise KeyError(view)


VIEW_COLUMNS = {
    "completed_omis_orders": [
        "Company Name", "DIT Team", "Subtotal", "UK Region", "Market", "Sector", "Services",
        "Delivery Date", "Payment Received Date", "Completion Date",
    ],
    "cancelled_omis_orders": [
        "OMIS Order Reference", "Company Name", "Net Price", "DIT Team", "Market", "Sector",
        "Created Date", "Cancelled Date", "Cancellation Reason",
    ],
    "omis_client_survey": [
        "Company Name", "Contact First Name", "Contact Last Name", "Contact Email",
        "Company Trading Address Line 1", "Company Trading Address Line 2",
        "Company Trading Address Town", "Company Trading Address County",
        "Company Trading Address Postcode", "Company Registered Address 1",
        "Company Registered Address 2", "Company Registered Address Town",
        "Company Registered Address County", "Company Registered Address Country",
        "Company Registered Address Postcode",
    ],
}


# ---------------------------------------------------------------- the later datasets

#: The later data-flow's datasets, tables and fields (a copy of the seed's list).
LATER = json.loads((Path(__file__).parent / "fixtures" / "datahub_datasets_later.json").read_text())
LATER_DATASETS = {
    d["later_table_name"]: d for d in LATER["datasets"]
    if d["later_table_name"] not in ("data_hub__orders", "data_hub__investment_projects", "data_hub__contacts")
}
#: The fields Data Hub sends today that the later data-flow did not move (datahub_today.json's
#: `new_fields`), as (source field, column, type): published after the later columns.
NEW_LATER_FIELDS = {
    "data_hub__companies": [
        ("address_area__name", "address_area", "String"),
        ("registered_address_area__name", "registered_address_area", "String"),
        ("export_segment", "export_segment", "String"), ("export_sub_segment", "export_sub_segment", "String"),
        ("is_out_of_business", "is_out_of_business", "Boolean"), ("strategy", "strategy", "Text"),
        ("one_list_core_team_advisers", "one_list_core_team_adviser_ids", "ARRAY(Text)"),
        ("turnover_gbp", "turnover_gbp", "Numeric"),
    ],
    "data_hub__interactions": [
        ("company_export_id", "company_export_id", "UUID"),
        ("related_trade_agreement_names", "related_trade_agreements", "ARRAY(Text)"),
        ("export_barrier_type_names", "export_barrier_types", "ARRAY(Text)"),
        ("export_barrier_notes", "export_barrier_notes", "Text"),
    ],
    "data_hub__company_export_country_histories": [("id", "company_export_country_id", "UUID")],
    "data_hub__events": [("related_programme_names", "related_programmes", "ARRAY(Text)")],
}
for _name, _fields in NEW_LATER_FIELDS.items():
    LATER_DATASETS[_name] = {**LATER_DATASETS[_name], "fields": [*LATER_DATASETS[_name]["fields"], *_fields]}
#: SQLAlchemy type -> PostgreSQL's name of the column type (information_schema.columns.data_type).
LATER_TYPES = {"UUID": "uuid", "String": "character varying", "Text": "text", "DateTime": "timestamp without time zone",
               "Date": "date", "ARRAY(Text)": "ARRAY", "Numeric": "numeric", "BigInteger": "bigint",
               "Integer": "integer", "Boolean": "boolean"}


def later_value(value: Any, later_type: str) -> Any:
    """A Data Hub value as the later data-flow's column holds it (psycopg2's Python value)."""
    if value is None:
        return None
    if isinstance(value, list) and later_type != "ARRAY(Text)":
        return pg_array_text(value)  # a list in a String column: PostgreSQL's array text form
    if later_type == "DateTime":
        return parse_timestamp(value).astimezone(UTC).replace(tzinfo=None)
    if later_type == "Date":
        return dt.date.fromisoformat(value[:10])
    if later_type == "Numeric":
        return Decimal(str(value))
    if later_type in ("Integer", "BigInteger"):
        return int(value)
    if later_type == "Boolean":
        return bool(value)
    return value  # text, uuid (as psycopg2 returns it, a string) and text[] (a list)


def later_rows(dataset: str, source_records: Iterable[dict[str, Any]]) -> list[tuple]:
    """The rows of a later dataset's table, columns in the later system's order."""
    fields = LATER_DATASETS[dataset]["fields"]
    return [tuple(later_value(record.get(source), kind) for source, _, kind, *_ in fields) for record in source_records]

#: Data Hub's endpoints that ignore `updated_since` (data-hub-api's BaseDatasetView): fetched whole.
NO_UPDATED_SINCE = frozenset({"data_hub__teams", "data_hub__advisers", "data_hub__company_export_country_histories"})


def full_reason(dataset: str, reason: str) -> str:
    """The reason an extract gives for a full fetch of `dataset`, where `reason` is why others were."""
    return "its endpoint has no updated_since" if dataset in NO_UPDATED_SINCE else reason


def latest_interactions(people: Iterable[str], interactions: Iterable[dict[str, Any]], field: str) -> dict[str, Any]:
    """For each person id, the id of the latest interaction whose `field` list names them, or None.

    Latest: the latest date (the day of Data Hub's `date`), interactions without one last;
    on the same day the latest created_on, then the greatest id (the rule the tables document).
    """
    best: dict[str, tuple] = {}
    for interaction in interactions:
        day = interaction["date"][:10] if interaction["date"] else None
        rank = (day is not None, day or "", parse_timestamp(interaction["created_on"]), interaction["id"])
        for person in interaction[field] or []:
            if person is not None and (person not in best or rank > best[person][0]):
                best[person] = (rank, interaction["id"])
    return {person: best[person][1] if person in best else None for person in people}
