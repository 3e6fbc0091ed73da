"""Single sign-on for the Airflow UI and REST API: the department's OpenID Connect provider
("authbroker"), through Airflow 3's FAB auth manager, configured from the old system's
variables.

`dataflow/webserver_config.py` (what AIRFLOW__FAB__CONFIG_FILE names) takes its settings
from `fab_settings()`. Only people whose e-mail domain is in AUTHBROKER_ALLOWED_DOMAINS
get in: a user is created at their first sign-in with AUTHBROKER_DEFAULT_ROLE (Viewer),
or Admin when their e-mail is in AUTHBROKER_ADMIN_EMAILS (checked at every sign-in, so
adding an e-mail there and restarting the API server makes that person an admin). Anyone
else sees a page saying why, and no account is made.

The seam: `FabAirflowSecurityManagerOverride` (subclassed as FAB's documentation does for
OAuth) and `CustomAuthOAuthView`, whose OAuth callback is wrapped to answer a refusal
with that page (FAB alone flashes "Invalid login"). Both come from
apache-airflow-providers-fab, pinned below 4 in the `sso` extra;
tests/test_airflow_sso.py signs in through them against a real OpenID Connect provider.
"""

from __future__ import annotations

import html
import logging
import os
from typing import Any

from dataflow.errors import UsageError

PROVIDER = "authbroker"  # in the callback URL: <Airflow>/auth/oauth-authorized/authbroker
ADMIN_ROLE = "Admin"
DEFAULT_ROLE = "Viewer"
REQUIRED = ("AUTHBROKER_URL", "AUTHBROKER_CLIENT_ID", "AUTHBROKER_CLIENT_SECRET", "AUTHBROKER_ALLOWED_DOMAINS")

log = logging.getLogger(__name__)

REFUSAL_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Access denied - data-flow Airflow</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>Access denied</h1>
<p id="refusal">{reason}</p>
<p>No Airflow account was made. If you need access, ask the data-flow team.</p>
<p><a href="{login}">Back to the sign-in page</a></p>
</body></html>
"""


class SsoSettingsError(UsageError):
    """A required AUTHBROKER_* variable is missing: the API server (or `make airflow`) does
    not start."""


def _listed(raw: str | None) -> set[str]:
    """A comma-separated list, lower case."""
    return {item.strip().lower() for item in (raw or "").split(",") if item.strip()}


def enabled() -> bool:
    """Whether single sign-on is configured (AUTHBROKER_URL set)."""
    return bool(os.environ.get("AUTHBROKER_URL", "").strip())


def require() -> None:
    """Refuse single sign-on with a required AUTHBROKER_* variable unset, naming each."""
    unset = [name for name in REQUIRED if not (os.environ.get(name) or "").strip()]
    if unset:
        raise SsoSettingsError(f"single sign-on needs {', '.join(unset)} (see docs/airflow.md)")


def refusal(email: str, verified: object, allowed: set[str]) -> str | None:
    """Why `email` may not sign in, or None. The domain must match one listed exactly
    (`a.example` does not let `x.a.example` or `a.example.evil` in)."""
    domain = email.rpartition("@")[2] if "@" in email else ""
    if not email or domain not in allowed:
        return (f"{email or 'An account without an e-mail address'} may not use this Airflow: "
                f"only e-mail addresses at {', '.join(sorted(allowed))} may sign in.")
    if verified is False:
        return f"The identity provider has not verified the e-mail address {email}."
    return None


def fab_settings() -> dict[str, Any]:
    """The FAB settings (upper-case names) for webserver_config.py."""
    require()
    from airflow.providers.fab.auth_manager.security_manager.override import FabAirflowSecurityManagerOverride
    from airflow.providers.fab.auth_manager.views.auth_oauth import CustomAuthOAuthView
    from flask import g, session
    from flask_appbuilder import expose
    from flask_appbuilder.const import AUTH_OAUTH

    allowed = _listed(os.environ.get("AUTHBROKER_ALLOWED_DOMAINS"))
    admins = _listed(os.environ.get("AUTHBROKER_ADMIN_EMAILS"))
    default_role = os.environ.get("AUTHBROKER_DEFAULT_ROLE", "").strip() or DEFAULT_ROLE

    class AuthBrokerView(CustomAuthOAuthView):
        @expose("/oauth-authorized/<provider>")
        def oauth_authorized(self, provider: str) -> Any:
            response = super().oauth_authorized(provider)
            reason = getattr(g, "sso_refusal", None)
            if reason is None:
                return response
            session.pop("_flashes", None)  # FAB's "Invalid login": this page says why
            page = REFUSAL_PAGE.format(reason=html.escape(reason), login=html.escape(self.appbuilder.get_url_for_login))
            return page, 403, {"Content-Type": "text/html; charset=utf-8"}

    class AuthBrokerSecurityManager(FabAirflowSecurityManagerOverride):
        authoauthview = AuthBrokerView

        def get_oauth_user_info(self, provider: str, resp: dict[str, Any]) -> dict[str, Any]:
            """The user from the ID token's claims (and the userinfo endpoint if it lacks
            the e-mail): the e-mail is the user name, as providers need not send any other."""
            claims = dict(resp.get("userinfo") or {})
            if not claims.get("email"):
                claims.update(self.oauth_remotes[provider].userinfo(token=resp))
            email = str(claims.get("email") or "").strip().lower()
            first, last = claims.get("given_name") or "", claims.get("family_name") or ""
            if not (first or last) and claims.get("name"):
                first, _, last = str(claims["name"]).partition(" ")
            return {"username": email, "email": email, "email_verified": claims.get("email_verified"),
                    "first_name": first or email.partition("@")[0], "last_name": last,
                    "airflow_role": ADMIN_ROLE if email in admins else default_role}

        def auth_user_oauth(self, userinfo: dict[str, Any], rotate_session_id: bool = True) -> Any:
            email = str(userinfo.get("email") or "")
            reason = refusal(email, userinfo.get("email_verified"), allowed)
            if reason is not None:
                g.sso_refusal = reason
                log.warning("single sign-on refused %r: %s", email, reason)
                return None
            user = super().auth_user_oauth(userinfo, rotate_session_id=rotate_session_id)
            if user and email in admins and not any(role.name == ADMIN_ROLE for role in user.roles):
                user.roles.append(self.find_role(ADMIN_ROLE))  # an admin named after their first sign-in
                self.update_user(user)
            return user

    issuer = os.environ["AUTHBROKER_URL"].strip().rstrip("/")
    return {
        "AUTH_TYPE": AUTH_OAUTH,
        "AUTH_USER_REGISTRATION": True,
        "AUTH_USER_REGISTRATION_ROLE": default_role,
        "AUTH_USER_REGISTRATION_ROLE_JMESPATH": "airflow_role",  # from get_oauth_user_info
        "WTF_CSRF_ENABLED": True,
        "OAUTH_PROVIDERS": [{
            "name": PROVIDER, "icon": "fa-sign-in", "token_key": "access_token",
            "remote_app": {
                "client_id": os.environ["AUTHBROKER_CLIENT_ID"].strip(),
                "client_secret": os.environ["AUTHBROKER_CLIENT_SECRET"].strip(),
                "server_metadata_url": f"{issuer}/.well-known/openid-configuration",
                "client_kwargs": {"scope": "openid email profile"},
            },
        }],
        "SECURITY_MANAGER_CLASS": AuthBrokerSecurityManager,
    }
