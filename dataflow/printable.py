"""Text from Data Hub made safe to print on one line.

Field names and values come from the server: a newline in one would make a fake line in
a warning, in the run history or in a log shipper's input, and other control characters
can move a terminal's cursor. So anything that is not printable is written as its Python
escape (`\\n`, `\\x00`, `\\u2028`), and a backslash as `\\\\` so an escape cannot be faked.
"""

from __future__ import annotations


def escaped(text: str) -> str:
    """`text` with every non-printable character (and the backslash) escaped."""
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(char if char.isprintable() and char != "\\" else char.encode("unicode_escape").decode("ascii")
                   for char in text)


def record_named(key: str | None, value: object) -> str:
    """' (the record with id \'…\')', how a message names the record a value came from; ''
    for a dataset without a key."""
    return f" (the record with {key} {value!r:.60})" if key else ""
