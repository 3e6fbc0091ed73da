"""The Data Hub to talk to: the configured one, or the local stand-in with demo data.

For a demo run (`Settings.demo`: nothing configured, or --demo) the stand-in
(`python -m standin`) is started as a separate process, so it serves pages from its own
core while this process loads them, and is given a random Hawk key for this run only.
It starts with a day of Data Hub's activity (`--activity`: edited, new and deleted records
and an undeclared field), so a repeated demo shows incremental runs and a drift report.
"""

from __future__ import annotations

import os
import secrets
import selectors
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from dataflow.errors import RunError
from dataflow.settings import PROJECT_ROOT, Secret, Settings

DEMO_RECORDS = 3000  # over OMIS, investment projects and contacts
DEMO_RELATED_RECORDS = 1000  # over the datasets whose records name each other (teams, advisers, ...)
STARTUP_TIMEOUT = 30.0


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    hawk_id: str
    hawk_key: Secret
    is_standin: bool


@contextmanager
def standin(records: int = DEMO_RECORDS) -> Iterator[Endpoint]:
    """Run the stand-in on a free loopback port for the duration of the block."""
    hawk_id = "data-flow-demo"
    hawk_key = secrets.token_urlsafe(32)
    env = {**os.environ, "HAWK_ID": hawk_id, "HAWK_KEY": hawk_key}
    command = [sys.executable, "-m", "standin", "--port", "0", "--records", str(records),
               "--related-records", str(DEMO_RELATED_RECORDS), "--activity"]
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        base_url = _wait_for_url(process)
        yield Endpoint(base_url, hawk_id, Secret(hawk_key), is_standin=True)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_url(process: subprocess.Popen[str]) -> str:
    """Read the stand-in's 'standin listening on URL' line, with a deadline."""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=STARTUP_TIMEOUT):
            raise RunError("the local Data Hub stand-in did not start in time")
    line = process.stdout.readline().strip()
    prefix = "standin listening on "
    if not line.startswith(prefix):
        error = (process.stderr.read() if process.poll() is not None else "").strip()
        raise RunError(f"the local Data Hub stand-in failed to start: {error or line or 'no output'}")
    return line[len(prefix):]


@contextmanager
def datahub_endpoint(settings: Settings, demo_records: int = DEMO_RECORDS) -> Iterator[Endpoint]:
    """The configured Data Hub, or for a demo a stand-in for the length of the run."""
    if not settings.demo:
        yield Endpoint(settings.datahub_base_url, settings.hawk_id, settings.hawk_key, False)
        return
    with standin(demo_records) as endpoint:
        yield endpoint
