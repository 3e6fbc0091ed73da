"""The one HTTP step the baseline contenders share: a Hawk-signed GET whose response
signature is verified. Written on its own (requests + mohawk), not with the project's
client, so the baselines measure the network and the server, not our code."""

from __future__ import annotations

import io
import logging

import mohawk
import requests

logging.getLogger("mohawk").setLevel(logging.ERROR)  # it warns on every response check


def signed_get(session: requests.Session, credentials: dict, url: str) -> requests.Response:
    sender = mohawk.Sender(credentials, url, "GET", content="", content_type="")
    response = session.get(url, headers={"Authorization": sender.request_header}, timeout=60)
    response.raise_for_status()
    sender.accept_response(
        response.headers["Server-Authorization"],
        content=io.BytesIO(response.content),
        content_type=response.headers["Content-Type"],
    )
    return response
