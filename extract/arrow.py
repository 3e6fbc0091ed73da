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
from dataclasses import dataclass
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.json as pa_json

from dataflow.errors import RunError

ARROW_TYPES = {"text": pa.string(), "bool": pa.bool_(), "bigint": pa.int64(), "json": pa.string()}
#: The raw column holding, per record, the fields no declaration names (a JSON object; NULL if none).
EXTRA_FIELDS = "_dataflow_extra_fields"
_READ_OPTIONS = pa_json.ReadOptions(use_threads=False)
_decode_record = msgspec.json.Decoder(float_hook=str).decode
_decode_fields = msgspec.json.Decoder(dict[str, msgspec.Raw]).decode
_encode_json = msgspec.json.Encoder().encode


class FieldTypeError(RunError):
    """A field whose value does not fit the raw type declared for it."""


@dataclass(frozen=True)
class Fields:
    """The fields a batch's records had: declared ones present in any record, undeclared ones."""

    present: frozenset[str] = frozenset()
    undeclared: frozenset[str] = frozenset()


def _raw_text(raw: bytes | None) -> str | None:
    if raw is None or raw == b"null":
        return None
    if raw[:1] == b'"':  # a JSON string: its value, not its quoted form
        return msgspec.json.decode(raw)
    return raw.decode("utf-8")


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
    that fits no declared type is reported with.
    """
    if not records:
        return schema(columns).empty_table(), Fields()
    try:
        fields = [_decode_fields(raw) for raw in records]
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise RunError(f"{dataset}: Data Hub sent a record that is not a JSON object") from None
    keys = frozenset().union(*fields)
    found = Fields(keys & frozenset(columns), keys - frozenset(columns))
    extra = _extra_fields(fields, found.undeclared)
    try:
        table = _fast_table(records, fields, columns, exact)
    except (pa.ArrowInvalid, pa.ArrowTypeError, msgspec.DecodeError, UnicodeDecodeError):
        table = _slow_table(dataset, [_decode_record(raw) for raw in records], columns, key)
    return table.append_column(EXTRA_FIELDS, extra), found


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
    records: list[bytes], fields: list[dict[str, msgspec.Raw]], columns: dict[str, str], exact: frozenset[str]
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
        arrays[name] = pa.array([_raw_text(_raw(row.get(name))) for row in fields], pa.string())
    for name in typed.names:
        if name in parsed.column_names:
            arrays[name] = parsed.column(name).combine_chunks()
        else:  # a declared field absent from every record of the batch
            arrays[name] = pa.nulls(len(records), typed.field(name).type)
    return pa.Table.from_arrays([arrays[name] for name in columns], names=list(columns))


def _raw(value: msgspec.Raw | None) -> bytes | None:
    return None if value is None else bytes(value)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return _encode_json(value).decode("utf-8")  # a number, boolean, list or object sent as text


def _slow_table(dataset: str, records: list[dict[str, Any]], columns: dict[str, str], key: str | None) -> pa.Table:
    arrays = []
    for name, data_type in columns.items():
        values = [record.get(name) for record in records]
        if data_type == "json":
            values = [None if value is None else _encode_json(value).decode("utf-8") for value in values]
        try:
            arrays.append(_array(values, data_type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            index, bad = next((i, v) for i, v in enumerate(values) if v is not None and not _fits(v, data_type))
            which = f" (the record with {key} {records[index].get(key)!r:.60})" if key else ""
            raise FieldTypeError(f"{dataset}.{name} should be {data_type}, Data Hub sent {bad!r:.60}{which}") from None
    return pa.Table.from_arrays(arrays, names=list(columns))


def _array(values: list[Any], data_type: str) -> pa.Array:
    try:
        return pa.array(values, ARROW_TYPES[data_type])
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        if data_type == "text":  # text takes anything, written as Data Hub sent it
            return pa.array([_text(value) for value in values], pa.string())
        raise


def _fits(value: Any, data_type: str) -> bool:
    if data_type == "bool":
        return isinstance(value, bool)
    if data_type == "bigint":
        return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63
    return True
