"""Contender (a), the fetch floor: Hawk-fetch every page of every dataset, serially, and
discard it. Nothing can load the data faster than it can be fetched this way.

Every dataset the project declares is fetched as the extract asks for it: the endpoint
and query parameters (interactions' `page_size=10000`) come from the sources file, read
here on its own.

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
from pathlib import Path
from urllib.parse import urlencode

import msgspec
import requests
import yaml
from signed_get import signed_get

SOURCES = Path(__file__).resolve().parent.parent / "dbt_project" / "models" / "datasets" / "_datahub__sources.yml"


def paths() -> list[str]:
    """Each declared dataset's endpoint, with its query parameters."""
    tables = yaml.safe_load(SOURCES.read_text())["sources"][0]["tables"]
    return [table["meta"]["endpoint"] + (f"?{urlencode(table['meta']['query'])}" if table["meta"].get("query") else "")
            for table in tables]


class Page(msgspec.Struct):
    next: str | None
    results: list[msgspec.Raw]


def main(base_url: str) -> None:
    credentials = {"id": os.environ["HAWK_ID"], "key": os.environ["HAWK_KEY"], "algorithm": "sha256"}
    session = requests.Session()
    decode = msgspec.json.Decoder(Page).decode
    records = pages = 0
    started = time.perf_counter()
    for path in paths():
        url: str | None = base_url + path
        while url:
            page = decode(signed_get(session, credentials, url).content)
            records += len(page.results)
            pages += 1
            url = page.next
    print(json.dumps({"records": records, "pages": pages, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
