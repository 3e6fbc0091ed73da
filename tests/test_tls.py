"""Data Hub over HTTPS: real TLS between the client and the stand-in, a real PostgreSQL.

The certificates come from a throwaway CA made for the session (trustme). The machine's
own trust store does not know it, so a run trusts the stand-in only through the CA
variables data-flow reads: DATAHUB_CA_BUNDLE, else REQUESTS_CA_BUNDLE, else SSL_CERT_FILE.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import certifi
import pytest
import requests
import trustme
from conftest import HAWK_ID, ROOT, new_database
from runner import fingerprint, run_orchestrate
from test_faults import COUNTS, HAWK_KEY, PAGE_SIZE, assert_one_line_failure, with_password

from dataflow.settings import CA_BUNDLE_VARIABLES, Secret
from extract.sources.datahub.client import HawkClient, iter_pages
from standin.server import StandIn, server_context


@dataclass(frozen=True)
class Tls:
    ca_file: Path  # the CA's certificate, what a client must trust
    cert_file: Path  # the stand-in's certificate chain
    key_file: Path
    context: ssl.SSLContext  # the stand-in's server side


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    ca = trustme.CA()
    leaf = ca.issue_cert("localhost", "127.0.0.1")
    folder = tmp_path_factory.mktemp("tls")
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "standin.pem", folder / "standin.key"
    ca.cert_pem.write_to_path(str(ca_file))
    cert_file.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(key_file))
    return Tls(ca_file, cert_file, key_file, server_context(str(cert_file), str(key_file)))


@pytest.fixture(autouse=True)
def no_ca_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sets the CA variables it means; none comes from the machine running the tests."""
    for name in CA_BUNDLE_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def https_standin(tls: Tls, seed: int = 0) -> StandIn:
    return StandIn(counts=COUNTS, page_size=PAGE_SIZE, seed=seed, hawk_id=HAWK_ID, hawk_key=HAWK_KEY,
                   ssl_context=tls.context)


def env(standin: StandIn, database: str, **extra: str) -> dict[str, str]:
    """A real run's settings, addressing the stand-in by host name (what its certificate names)."""
    return {"DATAHUB_BASE_URL": f"https://localhost:{standin.port}", "HAWK_ID": HAWK_ID, "HAWK_KEY": HAWK_KEY,
            "DATABASE_URL": with_password(database), **extra}


# ---------------------------------------------------------------- the client on its own

def test_client_fetches_over_https_with_the_ca_bundle(tls: Tls) -> None:
    with https_standin(tls) as standin:
        client = HawkClient(HAWK_ID, Secret(HAWK_KEY), "sha256", timeout=10, retry_seconds=30,
                            verify=str(tls.ca_file))
        url = f"https://localhost:{standin.port}/v4/dataset/contacts-dataset"
        assert url == standin.url("contacts").replace("127.0.0.1", "localhost")
        rows = [raw for page in iter_pages(client.session, url) for raw in page]
        assert len(rows) == COUNTS["contacts"]
        assert {e["status"] for e in standin.requests_log} == {200}


def test_untrusted_certificate_fails_at_once_without_retrying(tls: Tls, caplog: pytest.LogCaptureFixture) -> None:
    with https_standin(tls) as standin:
        client = HawkClient(HAWK_ID, Secret(HAWK_KEY), "sha256", timeout=10, retry_seconds=30)
        with caplog.at_level(logging.WARNING, logger="data_flow"), \
                pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
            list(iter_pages(client.session, standin.url("contacts")))
        assert standin.requests_log == [], "no request may get through an untrusted connection"
    assert not [r for r in caplog.records if "retrying" in r.getMessage()], "a certificate problem is not transient"


def standin_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "standin", "--port", "0", "--records", "30", *args], cwd=ROOT,
                            env={**os.environ, "HAWK_ID": HAWK_ID, "HAWK_KEY": HAWK_KEY},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_standin_command_serves_https_with_tls_cert_and_key(tls: Tls) -> None:
    process = standin_cli("--tls-cert", str(tls.cert_file), "--tls-key", str(tls.key_file))
    try:
        line = process.stdout.readline()
        match = re.fullmatch(r"standin listening on (https://127\.0\.0\.1:\d+)\n", line)
        assert match, line
        client = HawkClient(HAWK_ID, Secret(HAWK_KEY), "sha256", timeout=10, retry_seconds=30,
                            verify=str(tls.ca_file))
        rows = [raw for page in iter_pages(client.session, match[1] + "/v4/dataset/contacts-dataset") for raw in page]
        assert len(rows) == 12
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)  # a hang guard
    assert process.returncode == 0, err


def test_standin_command_needs_both_tls_files(tls: Tls) -> None:
    process = standin_cli("--tls-cert", str(tls.cert_file))
    out, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert out == "" and err.strip() == "standin: --tls-cert and --tls-key go together"


# ---------------------------------------------------------------- orchestrate.py over HTTPS

@dataclass
class Published:
    url: str
    work: Path
    stdout: str


@pytest.fixture(scope="module")
def published(server_url: str, tls: Tls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    """A warehouse published by a full run over HTTPS, trusting the CA through REQUESTS_CA_BUNDLE."""
    work = tmp_path_factory.mktemp("work")
    with new_database(server_url) as url, https_standin(tls) as standin, pytest.MonkeyPatch.context() as patch:
        for name in CA_BUNDLE_VARIABLES:
            patch.delenv(name, raising=False)
        result = run_orchestrate(["--ds", "2019-08-01"], env(standin, url, REQUESTS_CA_BUNDLE=str(tls.ca_file)),
                                 work)
        assert result.returncode == 0, result.stderr
        yield Published(url, work, result.stdout)


def test_run_trusting_the_ca_through_requests_ca_bundle_publishes(published: Published) -> None:
    for dataset, count in COUNTS.items():
        assert dataset in published.stdout and f"{count:,} rows" in published.stdout
    tables = {name for name, *_ in fingerprint(published.url)["relations"]}
    assert set(COUNTS) <= tables
    assert "completed_omis_orders_2019_08_31" in tables


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "DATAHUB_CA_BUNDLE"])
def test_run_trusting_the_ca_through_other_variables(published: Published, tls: Tls, variable: str) -> None:
    extra = {variable: str(tls.ca_file)}
    if variable == "DATAHUB_CA_BUNDLE":
        extra["REQUESTS_CA_BUNDLE"] = certifi.where()  # a bundle without our CA: DATAHUB_CA_BUNDLE wins
    with https_standin(tls) as standin:
        result = run_orchestrate(["--ds", "2019-08-01", "--datasets", "contacts", "--full-refresh"],
                                 env(standin, published.url, **extra), published.work)
        assert result.returncode == 0, result.stderr
        assert any(e["dataset"] == "contacts" and e["status"] == 200 for e in standin.requests_log)
    assert f"{COUNTS['contacts']:,} rows" in result.stdout


def test_untrusted_certificate_is_one_line_and_publishes_nothing(published: Published, tls: Tls) -> None:
    before = fingerprint(published.url)
    with https_standin(tls, seed=1) as standin:  # other data: publishing any of it would show
        result = run_orchestrate(["--ds", "2019-08-01"], env(standin, published.url), published.work)
        assert standin.requests_log == []
    assert_one_line_failure(result, 1, "cannot verify Data Hub's TLS certificate at https://localhost:",
                            "certificate verify failed", "DATAHUB_CA_BUNDLE")
    assert fingerprint(published.url) == before
