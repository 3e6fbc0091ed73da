"""Find where a JSON text goes wrong without parsing it whole: for messages only.

The parsers the extract uses (msgspec, Arrow) stop at JSON nested deeper than they
allow (msgspec: Python's recursion limit, about 1,000 levels) with an error that names
neither the field nor the record. A dataset must then fail with a message an analyst can
act on, so this module walks the bytes of the page or record that failed, one level at a
time and without recursion, to find the record, its top-level field and its key. It is
slow (pure Python) and runs only after a failure.
"""

from __future__ import annotations

import msgspec

from dataflow.printable import escaped, record_named

_OPEN, _CLOSE = b"[{", b"]}"
_QUOTE, _BACKSLASH = 0x22, 0x5C
_SPACE = b" \t\r\n"


def children(raw: bytes) -> list[tuple[bytes | None, bytes]]:
    """The immediate members of a JSON object or array: (its name's raw JSON, or None in
    an array; its value's raw JSON). Nested values are returned as they are, unparsed."""
    found: list[tuple[bytes | None, bytes]] = []
    depth, in_string, escaped = 0, False, False
    start: int | None = None
    name: bytes | None = None
    for index, byte in enumerate(raw):
        if in_string:
            if escaped:
                escaped = False
            elif byte == _BACKSLASH:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
            continue
        if byte == _QUOTE:
            in_string = True
        if depth == 1 and start is None and byte not in _SPACE and byte not in b",:" and byte not in _CLOSE:
            start = index
        if byte in _OPEN:
            depth += 1
        elif byte in _CLOSE:
            depth -= 1
            if depth == 0:
                if start is not None:
                    found.append((name, raw[start:index].strip()))
                break
        elif depth == 1 and byte == ord(":"):
            name, start = raw[start:index].strip() if start is not None else None, None
        elif depth == 1 and byte == ord(","):
            if start is not None:
                found.append((name, raw[start:index].strip()))
            name, start = None, None
    return found


def parses(raw: bytes) -> bool:
    """Whether msgspec can parse `raw` here (it fails on JSON nested too deep)."""
    try:
        msgspec.json.decode(raw)
    except RecursionError:
        return False
    except msgspec.DecodeError:
        return True  # malformed, not too deep: another message's business
    return True


def name_of(raw: bytes | None) -> str:
    """A member name's text (its raw JSON string), or '?' when it is not one."""
    try:
        return str(msgspec.json.decode(raw)) if raw is not None else "?"
    except msgspec.DecodeError:
        return "?"


def too_deep_field(record: bytes, key: str | None) -> tuple[str, object]:
    """In a record that does not parse for its nesting: the top-level field that is too deep
    and the record's `key` value (None when it has none, or it cannot be read)."""
    members = children(record)
    field = next((name_of(name) for name, value in members if not parses(value)), "?")
    key_value: object = None
    for name, value in members:
        if key is not None and name_of(name) == key and parses(value):
            key_value = msgspec.json.decode(value)
    return field, key_value


def too_deep_record(page: bytes) -> bytes | None:
    """In a DRF page that does not parse for its nesting: the first record that does not."""
    for name, value in children(page):
        if name_of(name) == "results":
            return next((record for _, record in children(value) if not parses(record)), None)
    return None


def too_deep_message(dataset: str, record: bytes, key: str | None) -> str:
    """The one line for a record that does not parse for its nesting: field and record."""
    field, key_value = too_deep_field(record, key)
    return f"{dataset}.{escaped(field)} is nested deeper than the JSON parser allows{record_named(key, key_value)}"
