"""Records as Data Hub sent them (raw JSON) -> Arrow tables with the declared raw types.

Typing records in bulk with Arrow instead of handing dlt dicts skips its row-by-row
Python normalizer (the slowest step of a large load); the tables are written as CSV
for dlt to COPY (`convert.py`, in a worker process).

The fast path parses a batch of records with Arrow's JSON reader, single-threaded: it
runs in the conversion worker process while the fetch threads and Data Hub use the other
core, and its thread pool cost more CPU than it saved (2,000 investment projects: 61 ms
of CPU with threads, 47 ms without). Two kinds of field must keep their exact
JSON text and are cut out of each record with msgspec instead: decimals (a JSON number's
digits, such as 1500000.50, must not pass through a binary float) and lists (landed as
JSON). Anything the fast path cannot type (a number where text was declared, say) falls
back to a per-record path that writes such values as text; a value that fits no declared
type fails the run with the field named, rather than being coerced into something Data
Hub did not send.

Schema drift is never silent: `to_table` also says which declared fields any record of
the batch had (a declared field missing from every record fails the extract) and which
fields no declaration names. Those land too, in one JSON column (`EXTRA_FIELDS`) holding
each record's undeclared fields exactly as Data Hub sent them.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.json as pa_json

from dataflow.errors import RunError
from dataflow.printable import escaped, record_named
from extract import json_scan

ARROW_TYPES = {"text": pa.string(), "bool": pa.bool_(), "bigint": pa.int64(), "json": pa.string()}
#: The raw column holding, per record, the fields no declaration names (a JSON object; NULL if none).
EXTRA_FIELDS = "_dataflow_extra_fields"
_READ_OPTIONS = pa_json.ReadOptions(use_threads=False)
_decode_fields = msgspec.json.Decoder(dict[str, msgspec.Raw]).decode
_encode_json = msgspec.json.Encoder().encode
#: A NUL character in JSON text: `\u0000` after an even number of backslashes (after an odd
#: number, the backslash before `u0000` is itself escaped: the text is not a NUL).
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class FieldTypeError(RunError):
    """A field whose value does not fit the raw type declared for it."""


@dataclass(frozen=True)
class Fields:
    """The fields a batch's records had: declared ones present in any record, undeclared ones."""

    present: frozenset[str] = frozenset()
    undeclared: frozenset[str] = frozenset()


def schema(columns: dict[str, str]) -> pa.Schema:
    """The declared columns, then the undeclared fields' column."""
    return pa.schema([(name, ARROW_TYPES[data_type]) for name, data_type in columns.items()]
                     + [(EXTRA_FIELDS, pa.string())])


def to_table(
    dataset: str, records: list[bytes], columns: dict[str, str], exact: frozenset[str], key: str | None = None
) -> tuple[pa.Table, Fields]:
    """One Arrow table for a batch of raw records, in the declared column order (then the
    undeclared fields' column), and the fields the records had.

    `exact` names the fields kept as the exact text of their JSON value (decimals);
    json-typed fields (lists) are always kept that way. `key` names the field a value
    that fits no declared type is reported with. A record PostgreSQL could not store as
    sent (a NUL character anywhere in it) or that is nested deeper than the parser allows
    fails the batch, naming the field and the record.
    """
    if not records:
        return schema(columns).empty_table(), Fields()
    try:
        fields = [_decode_fields(raw) for raw in records]
    except RecursionError:
        record = next(raw for raw in records if not json_scan.parses(raw))
        raise FieldTypeError(json_scan.too_deep_message(dataset, record, key)) from None
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise RunError(f"{dataset}: Data Hub sent a record that is not a JSON object") from None
    for index, raw in enumerate(records):
        if b"\\u0000" in raw and _NUL.search(raw):
            _refuse_nul(dataset, fields[index], key)
    keys = frozenset().union(*fields)
    found = Fields(keys & frozenset(columns), keys - frozenset(columns))
    extra = _extra_fields(fields, found.undeclared)
    try:
        table = _fast_table(dataset, records, fields, columns, exact, key)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        table = _slow_table(dataset, fields, columns, key)
    return table.append_column(EXTRA_FIELDS, extra), found


def _refuse_nul(dataset: str, fields: dict[str, msgspec.Raw], key: str | None) -> None:
    """Fail on a NUL character in a field's name or value: PostgreSQL's text and jsonb
    cannot hold one, and dropping or replacing it would publish something Data Hub did
    not send."""
    for name, value in fields.items():
        part = "name" if "\x00" in name else "value" if _NUL.search(bytes(value)) else None
        if part is not None:
            raise FieldTypeError(f"{dataset}.{escaped(name)}: Data Hub sent a NUL character (\\u0000) in the field's "
                                 f"{part}, which PostgreSQL cannot store{record_named(key, _key_value(fields, key))}")


def _key_value(fields: dict[str, msgspec.Raw], key: str | None) -> object:
    raw = fields.get(key) if key is not None else None
    try:
        return None if raw is None else msgspec.json.decode(bytes(raw))
    except msgspec.DecodeError:
        return None


def _extra_fields(fields: list[dict[str, msgspec.Raw]], undeclared: frozenset[str]) -> pa.Array:
    """Each record's undeclared fields as one JSON object of their exact values."""
    if not undeclared:
        return pa.nulls(len(fields), pa.string())
    values = []
    for record in fields:
        parts = [_encode_json(name) + b":" + bytes(record[name]) for name in sorted(undeclared & record.keys())]
        values.append(None if not parts else (b"{" + b",".join(parts) + b"}").decode("utf-8"))
    return pa.array(values, pa.string())


def _fast_table(
    dataset: str, records: list[bytes], fields: list[dict[str, msgspec.Raw]], columns: dict[str, str],
    exact: frozenset[str], key: str | None,
) -> pa.Table:
    as_text = tuple(name for name, kind in columns.items() if kind == "json" or name in exact)
    typed = pa.schema([(name, ARROW_TYPES[kind]) for name, kind in columns.items() if name not in as_text])
    parsed = pa_json.read_json(
        io.BytesIO(b"\n".join(records)),
        read_options=_READ_OPTIONS,
        parse_options=pa_json.ParseOptions(explicit_schema=typed, unexpected_field_behavior="ignore"),
    )
    if parsed.num_rows != len(records):
        raise pa.ArrowInvalid("record count changed in parsing")
    arrays: dict[str, pa.Array] = {}
    for name in as_text:
        arrays[name] = pa.array(_values(dataset, name, columns[name], fields, key), pa.string())
    for name in typed.names:
        if name in parsed.column_names:
            arrays[name] = parsed.column(name).combine_chunks()
        else:  # a declared field absent from every record of the batch
            arrays[name] = pa.nulls(len(records), typed.field(name).type)
    return pa.Table.from_arrays([arrays[name] for name in columns], names=list(columns))


def _slow_table(dataset: str, fields: list[dict[str, msgspec.Raw]], columns: dict[str, str], key: str | None,
                ) -> pa.Table:
    """Record by record, for a batch Arrow's reader refused: each value is checked against its
    declared type and kept as Data Hub sent it, or the batch fails naming it."""
    arrays = []
    for name, data_type in columns.items():
        arrays.append(pa.array(_values(dataset, name, data_type, fields, key), ARROW_TYPES[data_type]))
    return pa.Table.from_arrays(arrays, names=list(columns))


#: What each declared type accepts, by the first byte of the JSON value (null is always
#: accepted): a list (json), a string or a number (text: a number's exact digits, which is
#: how decimals arrive), a boolean, an integer.
_KINDS = {"json": ("a list", b"["), "text": ("text", b'"-0123456789'), "bool": ("bool", b"tf"),
          "bigint": ("bigint", b"-0123456789")}
_BIGINT = re.compile(rb"-?(0|[1-9][0-9]*)")
_QUOTE = ord('"')


def _values(dataset: str, name: str, kind: str, fields: list[dict[str, msgspec.Raw]], key: str | None) -> list[Any]:
    """One declared field's values in a batch, typed for its column, or FieldTypeError
    naming the field, the value and the record when one does not fit."""
    wanted, first_bytes = _KINDS[kind]
    values: list[Any] = []
    for record in fields:
        raw = record.get(name)
        value = None if raw is None else bytes(raw)
        if value is None or value == b"null":
            values.append(None)
            continue
        fits = value[0] in first_bytes
        if kind == "bigint" and fits:
            fits = _BIGINT.fullmatch(value) is not None and -(2**63) <= int(value) < 2**63
        if not fits:
            raise FieldTypeError(f"{dataset}.{escaped(name)} should be {wanted}, Data Hub sent "
                                 f"{msgspec.json.decode(value)!r:.60}{record_named(key, _key_value(record, key))}")
        if kind == "json" or (kind == "text" and value[0] != _QUOTE):
            values.append(value.decode("utf-8"))  # the exact JSON text
        elif kind == "bool":
            values.append(value == b"true")
        elif kind == "bigint":
            values.append(int(value))
        else:
            values.append(msgspec.json.decode(value))
    return values
