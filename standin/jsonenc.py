"""JSON encoding as DRF's renderer does it, plus exact ``Decimal`` literals.

Compact, raw UTF-8 like DRF's JSONRenderer; floats as Python writes them (``100.0``,
``1e+16``): Data Hub sends its decimals as floats. A ``Decimal`` (the stand-in sends
none, but a test may add one as a new field, whose digits must survive) is written as
its exact number literal: each Decimal is first encoded as a marker string
(NUL-delimited, which no generated text contains) and the marker is then replaced by
the bare literal. This keeps the fast C encoder in the loop.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

_MARKER = re.compile(r'"\\u0000(-?[0-9]+(?:\.[0-9]+)?)\\u0000"')


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot encode non-finite decimal {value!r} as JSON")
        return f"\x00{value:f}\x00"
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# Compact separators and raw UTF-8 (no \u escapes) like DRF's JSONRenderer.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_default)


def dumps(value: Any) -> bytes:
    """Encode ``value`` as UTF-8 JSON bytes, Decimals as exact number literals."""
    text = _ENCODER.encode(value)
    if "\\u0000" in text:
        text = _MARKER.sub(r"\1", text)
    return text.encode("utf-8")
