"""Single sign-on for the Airflow UI and REST API (dataflow/sso.py), against a real OpenID
Connect provider (oidc-provider-mock, which requires Airflow to register as a client with
its callback URL) and a real `airflow api-server` with the FAB auth manager, configured as
docs/airflow.md says. The browser's authorization-code flow runs over HTTP, redirects
followed (no browser on this machine).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
import requests
from airflow_runner import BIN, airflow, base_environment, free_port, make_airflow_environment, started, wait_for
from conftest import ROOT

from dataflow.airflow_local import SSO_SETTINGS

ALLOWED = "allowed.example"
ADMIN = f"carol@{ALLOWED}"


class Deployment:
    def __init__(self, base: str, provider: str, home: Path, env: dict[str, str], log: Path) -> None:
        self.base, self.provider, self.home, self.env, self.log = base, provider, home, env, log

    def sign_in(self, email: str) -> tuple[requests.Session, requests.Response]:
        """The browser's way in: Airflow's sign-in page, the provider's form (who signs in),
        back through Airflow's callback; the session and the last response."""
        browser = requests.Session()
        page = browser.get(f"{self.base}/api/v2/auth/login", params={"next": f"{self.base}/"}, timeout=30)
        assert page.status_code == 200 and "authbroker" in page.text, page.text[:500]
        form = browser.get(f"{self.base}/auth/login/authbroker", params={"next": f"{self.base}/"}, timeout=30)
        assert form.url.startswith(f"{self.provider}/oauth2/authorize") and 'name="sub"' in form.text, form.url
        return browser, browser.post(form.url, data={"sub": email}, timeout=30)

    def user(self, email: str) -> tuple[str, list[str]] | None:
        """The Airflow account of `email` and its roles, or None."""
        connection = sqlite3.connect(self.home / "airflow.db")
        try:
            row = connection.execute("select id, username from ab_user where email = ?", (email,)).fetchone()
            if row is None:
                return None
            roles = connection.execute("select r.name from ab_role r join ab_user_role u on u.role_id = r.id "
                                       "where u.user_id = ? order by 1", (row[0],)).fetchall()
            return row[1], [name for (name,) in roles]
        finally:
            connection.close()


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code < 500
    except requests.RequestException:  # not up yet, or too busy starting to answer
        return False


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("sso")
    provider = f"http://localhost:{free_port()}"
    with started([str(BIN / "oidc-provider-mock"), "--port", provider.rsplit(":", 1)[1],
                  "--require-registration", "true"], dict(os.environ), tmp / "provider.log"):
        wait_for(lambda: answers(f"{provider}/.well-known/openid-configuration"), 60, "the provider",
                 tmp / "provider.log")
        port = free_port()
        base = f"http://localhost:{port}"
        # Airflow registers with the provider under the callback URL docs/airflow.md names.
        client = requests.post(f"{provider}/oauth2/clients", timeout=30, json={
            "redirect_uris": [f"{base}/auth/oauth-authorized/authbroker"],
            "token_endpoint_auth_method": "client_secret_basic"}).json()
        home = tmp / "airflow"
        env = base_environment(
            home, ROOT / "dags", tmp / "work", **SSO_SETTINGS,
            AIRFLOW__API__BASE_URL=base, AIRFLOW__API__PORT=str(port),
            AIRFLOW__API__SECRET_KEY=secrets.token_hex(32), AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_hex(64),
            AUTHBROKER_URL=provider, AUTHBROKER_CLIENT_ID=client["client_id"],
            AUTHBROKER_CLIENT_SECRET=client["client_secret"], AUTHBROKER_ALLOWED_DOMAINS=f"{ALLOWED}, Second.Example",
            AUTHBROKER_ADMIN_EMAILS=f"{ADMIN},dave@{ALLOWED}")
        home.mkdir()
        migrated = airflow(env, "db", "migrate", timeout=300)
        assert migrated.returncode == 0, migrated.stdout[-2000:] + migrated.stderr[-2000:]
        log = tmp / "api-server.log"
        with started([str(BIN / "airflow"), "api-server", "--port", str(port)], env, log):
            wait_for(lambda: answers(f"{base}/auth/login/"), 180, "the API server", log)
            yield Deployment(base, provider, home, env, log)


def test_an_allowed_user_signs_in_and_gets_the_default_role(deployment: Deployment):
    browser, landed = deployment.sign_in(f"alice@{ALLOWED}")
    assert landed.status_code == 200 and landed.url == f"{deployment.base}/", landed.url
    callbacks = [r.url for r in landed.history if "/auth/oauth-authorized/" in r.url]
    assert callbacks and callbacks[0].startswith(f"{deployment.base}/auth/oauth-authorized/authbroker?code=")
    assert deployment.user(f"alice@{ALLOWED}") == (f"alice@{ALLOWED}", ["Viewer"])
    assert browser.get(f"{deployment.base}/api/v2/dags", timeout=30).status_code == 200
    # A Viewer reads but changes nothing.
    assert browser.post(f"{deployment.base}/api/v2/pools", json={"name": "p", "slots": 1},
                        timeout=30).status_code == 403
    # Signing in again uses the same account.
    deployment.sign_in(f"ALICE@{ALLOWED.upper()}")
    connection = sqlite3.connect(deployment.home / "airflow.db")
    assert connection.execute("select count(*) from ab_user where email like 'alice@%'").fetchone() == (1,)
    connection.close()


def test_a_listed_admin_gets_admin(deployment: Deployment):
    browser, landed = deployment.sign_in(ADMIN)
    assert landed.status_code == 200
    assert deployment.user(ADMIN) == (ADMIN, ["Admin"])
    created = browser.post(f"{deployment.base}/api/v2/pools", json={"name": "sso_admin_pool", "slots": 1},
                           timeout=30)
    assert created.status_code == 201, created.text


def test_a_user_added_to_the_admin_list_gets_admin_at_the_next_sign_in(deployment: Deployment):
    """dave had an account (a Viewer) before his e-mail was listed in AUTHBROKER_ADMIN_EMAILS."""
    dave = f"dave@{ALLOWED}"
    created = airflow(deployment.env, "users", "create", "--username", dave, "--email", dave, "--firstname", "dave",
                      "--lastname", "d", "--role", "Viewer", "--password", secrets.token_urlsafe(16), timeout=120)
    assert created.returncode == 0, created.stdout[-2000:] + created.stderr[-2000:]
    assert deployment.user(dave) == (dave, ["Viewer"])
    _, landed = deployment.sign_in(dave)
    assert landed.status_code == 200
    assert deployment.user(dave) == (dave, ["Admin", "Viewer"])


def test_everybody_else_is_refused_and_gets_no_account(deployment: Deployment):
    for email in ("bob@other.example", f"mallory@{ALLOWED}.other.example", f"eve@x.{ALLOWED}"):
        browser, page = deployment.sign_in(email)
        assert page.status_code == 403, (email, page.status_code, page.url)
        reason = re.search(r'<p id="refusal">(.*?)</p>', page.text, re.S)
        assert reason and reason[1] == (f"{email} may not use this Airflow: only e-mail addresses at "
                                        f"{ALLOWED}, second.example may sign in."), page.text
        assert "_token" not in browser.cookies
        assert browser.get(f"{deployment.base}/api/v2/dags", timeout=30).status_code == 401
        assert deployment.user(email) is None
    # A listed domain in another case is the same domain.
    _, landed = deployment.sign_in("frank@SECOND.example")
    assert landed.status_code == 200 and deployment.user("frank@second.example") is not None


def test_the_rest_api_takes_only_a_valid_unexpired_token(deployment: Deployment):
    api = f"{deployment.base}/api/v2/dags"
    assert requests.get(api, timeout=30).status_code == 401
    assert requests.get(api, auth=("admin", "admin"), timeout=30).status_code == 401
    browser, _ = deployment.sign_in(f"grace@{ALLOWED}")
    token = browser.cookies["_token"]
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    secret = deployment.env["AIRFLOW__API_AUTH__JWT_SECRET"]

    def status(bearer: str) -> int:
        return requests.get(api, headers={"Authorization": f"Bearer {bearer}"}, timeout=30).status_code

    refused = {401, 403}  # Airflow answers a bad signature 403, an expired token 401

    assert status(token) == 200
    now = int(dt.datetime.now(dt.UTC).timestamp())
    # Re-signed with Airflow's key: accepted while it lasts (so what follows is refused for
    # the one thing changed), refused once expired.
    assert status(jwt.encode({**claims, "exp": now + 600}, secret, algorithm=header["alg"])) == 200
    assert status(jwt.encode({**claims, "exp": now - 60}, secret, algorithm=header["alg"])) in refused
    assert status(jwt.encode(claims, "not-" + secret, algorithm=header["alg"])) in refused  # another key
    head, body, signature = token.split(".")
    forged = jwt.encode({**claims, "sub": "1"}, "x" * 64, algorithm=header["alg"]).split(".")[1]
    assert status(f"{head}.{forged}.{signature}") in refused  # claims changed under the original signature


def test_api_clients_use_a_service_account_token(deployment: Deployment):
    """The documented token flow for scripts: a service account and POST /auth/token."""
    password = secrets.token_urlsafe(16)
    created = airflow(deployment.env, "users", "create", "--username", "reports-bot", "--email",
                      f"reports-bot@{ALLOWED}", "--firstname", "reports", "--lastname", "bot", "--role", "Viewer",
                      "--password", password, timeout=120)
    assert created.returncode == 0, created.stdout[-2000:] + created.stderr[-2000:]
    issued = requests.post(f"{deployment.base}/auth/token", json={"username": "reports-bot", "password": password},
                           timeout=30)
    assert issued.status_code == 201, issued.text
    token = issued.json()["access_token"]
    assert requests.get(f"{deployment.base}/api/v2/dags", headers={"Authorization": f"Bearer {token}"},
                        timeout=30).status_code == 200
    # A signed-in person has no password: the same endpoint gives them nothing.
    deployment.sign_in(f"heidi@{ALLOWED}")
    refused = requests.post(f"{deployment.base}/auth/token", json={"username": f"heidi@{ALLOWED}", "password": ""},
                            timeout=30)
    assert refused.status_code in (400, 401)


def test_the_client_secret_never_reaches_the_log(deployment: Deployment):
    assert deployment.env["AUTHBROKER_CLIENT_SECRET"] not in deployment.log.read_text()


def test_make_airflow_signs_people_in_through_the_provider(deployment: Deployment, tmp_path: Path):
    """`python -m dataflow.airflow_local` (what `make airflow` runs) with the AUTHBROKER_*
    variables set: Airflow's parts with the FAB auth manager, not standalone's own sign-in."""
    port = free_port()
    base = f"http://localhost:{port}"
    client = requests.post(f"{deployment.provider}/oauth2/clients", timeout=30, json={
        "redirect_uris": [f"{base}/auth/oauth-authorized/authbroker"],
        "token_endpoint_auth_method": "client_secret_basic"}).json()
    env = make_airflow_environment(
        tmp_path / "work", port, AIRFLOW__API__BASE_URL=base, AUTHBROKER_URL=deployment.provider,
        AUTHBROKER_CLIENT_ID=client["client_id"], AUTHBROKER_CLIENT_SECRET=client["client_secret"],
        AUTHBROKER_ALLOWED_DOMAINS=ALLOWED)
    log = tmp_path / "make-airflow.log"
    with started([sys.executable, "-m", "dataflow.airflow_local"], env, log) as process:
        def signs_in() -> bool:
            assert process.poll() is None, log.read_text()[-3000:]
            return answers(f"{base}/auth/login/")

        wait_for(signs_in, 180, "make airflow's API server", log)
        local = Deployment(base, deployment.provider, tmp_path / "work" / "airflow", env, log)
        _, landed = local.sign_in(f"ivan@{ALLOWED}")
        assert landed.status_code == 200 and local.user(f"ivan@{ALLOWED}") == (f"ivan@{ALLOWED}", ["Viewer"])
    output = log.read_text()
    assert "Password for user 'admin'" not in output and client["client_secret"] not in output


def test_single_sign_on_needs_all_four_variables(monkeypatch: pytest.MonkeyPatch):
    from dataflow import sso

    for name in sso.REQUIRED:
        monkeypatch.setenv(name, "set")
    monkeypatch.delenv("AUTHBROKER_CLIENT_SECRET")
    monkeypatch.setenv("AUTHBROKER_ALLOWED_DOMAINS", " ")
    with pytest.raises(sso.SsoSettingsError) as refused:
        sso.fab_settings()
    assert str(refused.value) == ("single sign-on needs AUTHBROKER_CLIENT_SECRET, AUTHBROKER_ALLOWED_DOMAINS "
                                  "(see docs/airflow.md)")


def test_make_airflow_switches_to_single_sign_on_only_when_configured(monkeypatch: pytest.MonkeyPatch):
    from dataflow.airflow_local import airflow_environment

    monkeypatch.delenv("AUTHBROKER_URL", raising=False)
    assert "AIRFLOW__CORE__AUTH_MANAGER" not in airflow_environment()  # the demo's generated admin password
    monkeypatch.setenv("AUTHBROKER_URL", "https://sso.example")
    env = airflow_environment()
    assert {name: env[name] for name in SSO_SETTINGS} == SSO_SETTINGS
    assert Path(env["AIRFLOW__FAB__CONFIG_FILE"]).is_file()
