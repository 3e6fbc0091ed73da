"""Last line of defence for secrets: scrub known secret values from any text we print.

Messages are written not to contain secrets in the first place; this catches what a
library puts into an exception (a DSN in a psycopg2 error, a header in a dlt trace).
"""

from __future__ import annotations

from urllib.parse import quote

from dataflow.settings import Settings

_SECRETS: set[str] = set()


def register(value: str | None) -> None:
    """Remember a secret (and its URL-encoded form) so text() removes it."""
    if value and len(value) >= 4:
        _SECRETS.add(value)
        _SECRETS.add(quote(value, safe=""))


def register_settings(settings: Settings) -> None:
    if settings.hawk_key:
        register(settings.hawk_key.reveal())
    if settings.database_url:
        from dataflow.warehouse import from_url

        try:
            register(from_url(settings.database_url).password.reveal())
        except Exception:  # noqa: BLE001 - an unparsable URL is reported elsewhere
            register(settings.database_url.reveal())


def text(message: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        message = message.replace(secret, "***")
    return message
