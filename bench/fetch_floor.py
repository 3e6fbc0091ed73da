"""Contender (a), the fetch floor: Hawk-fetch every page of every dataset, serially, and
discard it. Nothing can load the data faster than it can be fetched this way.

Each request is signed with mohawk, each response's Server-Authorization verified, and
only `next` is read from the body. Written on its own (requests + mohawk), not with the
project's client, so it measures the network and the server, not our code.

    python bench/fetch_floor.py BASE_URL      (HAWK_ID, HAWK_KEY from the environment)
prints one JSON line: {"records": N, "pages": P, "seconds": S}.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import time

import mohawk
import msgspec
import requests

logging.getLogger("mohawk").setLevel(logging.ERROR)  # it warns on every response check

PATHS = ["/v4/dataset/omis-dataset", "/v4/dataset/investment-projects-dataset", "/v4/dataset/contacts-dataset"]


class Page(msgspec.Struct):
    next: str | None
    results: list[msgspec.Raw]


def main(base_url: str) -> None:
    credentials = {"id": os.environ["HAWK_ID"], "key": os.environ["HAWK_KEY"], "algorithm": "sha256"}
    session = requests.Session()
    decode = msgspec.json.Decoder(Page).decode
    records = pages = 0
    started = time.perf_counter()
    for path in PATHS:
        url: str | None = base_url + path
        while url:
            sender = mohawk.Sender(credentials, url, "GET", content="", content_type="")
            response = session.get(url, headers={"Authorization": sender.request_header}, timeout=60)
            response.raise_for_status()
            sender.accept_response(
                response.headers["Server-Authorization"],
                content=io.BytesIO(response.content),
                content_type=response.headers["Content-Type"],
            )
            page = decode(response.content)
            records += len(page.results)
            pages += 1
            url = page.next
    print(json.dumps({"records": records, "pages": pages, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
