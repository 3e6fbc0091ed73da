"""Turn any failure into the one line the user sees, and an exit code.

dlt wraps what went wrong inside its step and resource exceptions; the useful part is
at the bottom of the chain, so we walk it and describe the root cause.
"""

from __future__ import annotations

import re
import ssl
from urllib.parse import urlsplit

import requests

from dataflow.errors import DataFlowError


def causes(exc: BaseException) -> list[BaseException]:
    """The exception and everything it wraps, outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        wrapped = getattr(current, "exception", None)  # dlt's PipelineStepFailed
        current = wrapped if isinstance(wrapped, BaseException) else (
            current.__cause__ or current.__context__
        )
    return chain


def _where(url: str | None) -> str:
    if not url:
        return "Data Hub"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def describe(exc: BaseException) -> tuple[str, int]:
    """(message, exit code) for a failure; our own errors carry their own wording."""
    chain = causes(exc)
    for cause in chain:
        if isinstance(cause, DataFlowError):
            return str(cause), cause.exit_code
    for cause in chain:
        if isinstance(cause, requests.HTTPError) and cause.response is not None:
            response = cause.response
            return (
                f"Data Hub answered HTTP {response.status_code} for {_where(response.url)}",
                1,
            )
        if isinstance(cause, requests.exceptions.SSLError):
            return _describe_tls(cause, chain), 1
        if isinstance(cause, requests.Timeout):
            return f"Data Hub did not answer in time ({_where(_url_of(cause))})", 1
        if isinstance(cause, requests.ConnectionError):
            return f"cannot reach Data Hub at {_where(_url_of(cause))}", 1
    root = chain[-1]
    detail = " ".join(str(root).split())[:300]
    return f"{type(root).__name__}: {detail}" if detail else type(root).__name__, 1


def _describe_tls(error: requests.exceptions.SSLError, chain: list[BaseException]) -> str:
    """An untrusted certificate names the fix; any other TLS failure its reason.

    requests keeps the ssl module's error only inside the text of urllib3's, so the short
    reason is taken from the ssl error when the chain holds it, else from that text."""
    where = _where(_url_of(error))
    verify = next((c for c in chain if isinstance(c, ssl.SSLCertVerificationError)), None)
    text = " ".join(str(error).split())
    if verify is not None or "CERTIFICATE_VERIFY_FAILED" in text:
        found = re.search(r"certificate verify failed: ([^(')\]]+)", text)
        reason = (getattr(verify, "verify_message", None) or (found[1] if found else "")).strip().rstrip(".")
        detail = f"certificate verify failed: {reason}" if reason else "certificate verify failed"
        fix = (
            "DATAHUB_BASE_URL must name a host the certificate is for"
            if "mismatch" in reason.lower()  # the certificate is for another host or address
            else "set DATAHUB_CA_BUNDLE or REQUESTS_CA_BUNDLE to your CA's certificates"
        )
        return f"cannot verify Data Hub's TLS certificate at {where} ({detail}); {fix}"
    found = re.search(r"\[SSL: [A-Z_]+\] ([^(')\]]+)", text)
    reason = found[1].strip() if found else text[:200]
    return f"TLS with Data Hub failed at {where} ({reason})"


def _url_of(exc: requests.RequestException) -> str | None:
    request = getattr(exc, "request", None)
    return getattr(request, "url", None)
