"""Name the field and a record when a value Data Hub sent does not fit its contract type.

The dataset models cast raw text into the published types (dates, timestamps, numbers,
`varchar(n)`). When a value does not fit, PostgreSQL fails the whole build with the
value but neither the field nor the record, and the analyst's first question is "which
record?". So, after such a failure, this module looks the value up in the dataset's raw
table (which the failed build left as it was) and names the raw field and the record's
key, for example:

    omis_dataset.delivery_date should be a date, Data Hub sent '31/08/2019' (the record with id '…')

It only explains: the build has failed and the dataset's unit is not published either way. A message it
cannot place (not a conversion error, or a value no raw field holds) is left as it was.
"""

from __future__ import annotations

import re

from psycopg2 import sql
from psycopg2.extensions import connection

from dataflow.printable import record_named

#: PostgreSQL's messages for a text that is not a value of the type, quoting the text.
_NOT_OF_TYPE = (
    re.compile(r'invalid input syntax for type (?P<type>[a-z ]+): "(?P<value>.*?)"(?=\s|$)'),
    re.compile(r'date/time field value out of range: "(?P<value>.*?)"(?=\s|$)'),
    re.compile(r'value "(?P<value>.*?)" is out of range for type (?P<type>[a-z ]+)'),
)
#: The conversions macro `to_varchar`'s own message (dbt_project/macros/conversions.sql).
_TOO_LONG = re.compile(r'"(?P<field>\w+) is longer than (?P<length>\d+) characters"')
#: The conversions macro `iso_8601`'s own message: a date or time PostgreSQL would cast
#: leniently but Data Hub never sends ('today', '03/04/2019').
_NOT_ISO = re.compile(r'"(?P<field>\w+) is not an ISO 8601 (?P<form>date|timestamp): (?P<value>.*)"(?=\s|$)',
                      re.DOTALL)
_ISO_FORMS = {"date": "an ISO 8601 date (YYYY-MM-DD)", "timestamp": "an ISO 8601 timestamp with Z or an offset"}
#: How a failed dbt build names the failing model (dataflow.dbt_project.failure_reason).
_MODEL = re.compile(r"dbt build failed: (?P<model>\w+): ")

_ARTICLES = {"date": "a date", "integer": "an integer", "bigint": "a bigint", "numeric": "a number",
             "smallint": "a smallint", "boolean": "a boolean"}


def explain(
    conn: connection, message: str, raw_schema: str, raw_fields: dict[str, list[str]], keys: dict[str, str | None]
) -> str | None:
    """A message naming the field, the value and a record's key; None when `message` is another failure.

    `raw_fields` lists each dataset's raw text fields (where a value that failed a cast
    came from), `keys` each dataset's key field."""
    model = _MODEL.search(message)
    if model is None or model["model"] not in raw_fields:
        return None
    dataset = model["model"]
    key = keys.get(dataset)
    not_iso = _NOT_ISO.search(message)
    if not_iso is not None:
        field, value = not_iso["field"], not_iso["value"]
        if field not in raw_fields[dataset]:
            return None
        found = _first(conn, raw_schema, dataset, key, [(field, sql.SQL("{} = %s").format(sql.Identifier(field)),
                                                          value)])
        which = record_named(key, found[1]) if found else ""
        return f"{dataset}.{field} should be {_ISO_FORMS[not_iso['form']]}, Data Hub sent {value!r:.60}{which}"
    too_long = _TOO_LONG.search(message)
    if too_long is not None:
        field, length = too_long["field"], int(too_long["length"])
        if field not in raw_fields[dataset]:
            return None
        condition = sql.SQL("length({}) > %s").format(sql.Identifier(field))
        found = _first(conn, raw_schema, dataset, key, [(field, condition, length)])
        which = record_named(key, found[1]) if found else ""
        return f"{dataset}.{field} is longer than {length} characters{which}"
    for pattern in _NOT_OF_TYPE:
        match = pattern.search(message)
        if match is None:
            continue
        value = match["value"]
        type_name = match.groupdict().get("type") or "a date or time"
        wanted = _ARTICLES.get(type_name, type_name)
        candidates = [(field, sql.SQL("{} = %s").format(sql.Identifier(field)), value)
                      for field in raw_fields[dataset]]
        found = _first(conn, raw_schema, dataset, key, candidates)
        if found is None:
            return None
        field, key_value = found
        return (f"{dataset}.{field} should be {wanted}, Data Hub sent {value!r:.60}"
                f"{record_named(key, key_value)}")
    return None


def _first(
    conn: connection, schema: str, table: str, key: str | None, candidates: list[tuple[str, sql.Composable, object]]
) -> tuple[str, object] | None:
    """The first raw field whose condition holds in some record, and that record's key."""
    if not candidates:
        return None
    which = sql.SQL(" ").join(sql.SQL("when {} then %s").format(condition) for _, condition, _ in candidates)
    anywhere = sql.SQL(" or ").join(condition for _, condition, _ in candidates)
    query = sql.SQL("select case {} end, {} from {} where {} limit 1").format(
        which, sql.Identifier(key) if key else sql.SQL("null"), sql.Identifier(schema, table), anywhere)
    parameters: list[object] = []
    for field, _, argument in candidates:
        parameters += [argument, field]
    parameters += [argument for _, _, argument in candidates]
    with conn.cursor() as cursor:
        cursor.execute(query, parameters)
        row = cursor.fetchone()
    conn.rollback()
    return (row[0], row[1]) if row else None
