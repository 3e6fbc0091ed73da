"""DRF-style opaque pagination cursors.

Like Django REST Framework's ``CursorPagination``, the cursor is standard
base64 (with ``=`` padding) of a tiny querystring, and it travels
percent-encoded in the ``next`` link. Clients must treat it as opaque and
follow ``next`` verbatim; re-encoding or decoding it is a client bug this
format exposes (``=`` becomes ``%3D`` on the wire).
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs, parse_qsl, urlencode


class InvalidCursor(ValueError):
    """The cursor could not be decoded; DRF answers 404 "Invalid cursor"."""


def encode_cursor(offset: int) -> str:
    """Cursor text (not yet percent-encoded) for the page starting at ``offset``."""
    return base64.b64encode(f"o={offset}".encode("ascii")).decode("ascii")


def decode_cursor(cursor: str) -> int:
    """Offset encoded in ``cursor``; strict, so malformed cursors are caught."""
    try:
        text = base64.b64decode(cursor.encode("ascii"), validate=True).decode("ascii")
        tokens = parse_qs(text, keep_blank_values=True, strict_parsing=True)
    except (UnicodeError, binascii.Error, ValueError) as exc:
        raise InvalidCursor(cursor) from exc
    values = tokens.get("o", [])
    if set(tokens) != {"o"} or len(values) != 1:
        raise InvalidCursor(cursor)
    if not (values[0].isascii() and values[0].isdigit()):
        raise InvalidCursor(cursor)
    return int(values[0])


def page_url(base_url: str, path: str, query: str, offset: int | None) -> str:
    """Absolute link to ``path`` with the cursor for ``offset`` (None = first page).

    Other query parameters are kept and sorted, as DRF's ``replace_query_param``
    does, so the link is stable.
    """
    params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "cursor"]
    if offset is not None and offset > 0:
        params.append(("cursor", encode_cursor(offset)))
    params.sort()
    return f"{base_url}{path}?{urlencode(params)}" if params else f"{base_url}{path}"
