"""Contender (a), the fetch floor: Hawk-fetch every page of every dataset, serially, and
discard it. Nothing can load the data faster than it can be fetched this way.

Each request is signed with mohawk, each response's Server-Authorization verified
(bench/signed_get.py), and only `next` is read from the body.

    python bench/fetch_floor.py BASE_URL      (HAWK_ID, HAWK_KEY from the environment)
prints one JSON line: {"records": N, "pages": P, "seconds": S}.
"""

from __future__ import annotations

import json
import os
import sys
import time

import msgspec
import requests
from signed_get import signed_get

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
            page = decode(signed_get(session, credentials, url).content)
            records += len(page.results)
            pages += 1
            url = page.next
    print(json.dumps({"records": records, "pages": pages, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
