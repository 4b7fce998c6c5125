"""Accounts in the browser: login, logout, sessions, CSRF tokens and the edit permission.

Anyone can read. Editing needs an account: an *éditeur* edits its own commune's district
only, an *administrateur* edits everything. The permission is checked here, on the
server, for every write, whatever the page showed.

A session (Flask's signed cookie) holds the account name, the account's session epoch
and the login time. It is valid while the epoch is the account's current one (a logout,
a password change or the account's removal changes it, ending every session of the
account, copied cookies included) and for ``PERMANENT_SESSION_LIFETIME`` after the login,
however active the session is.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlparse

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from geoapp.errors import GeoappError
from geoapp.web.context import can_edit, csrf_token, get_store

bp = Blueprint("auth", __name__)

_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_SESSION_KEYS = ("user", "epoch", "login_at")
_CLOCK_SKEW_S = 60  # a login stamped this far in the future is still accepted


def _now() -> float:
    """Epoch seconds on the store's clock (tests move it)."""
    return get_store().now().timestamp()


def _session_account() -> dict | None:
    """The account of a still valid session, else ``None`` (and the session forgets it)."""
    username, epoch, login_at = (session.get(k) for k in _SESSION_KEYS)
    if not username:
        return None
    user = None
    if isinstance(epoch, int) and isinstance(login_at, int | float):
        age = _now() - login_at
        if -_CLOCK_SKEW_S <= age <= current_app.permanent_session_lifetime.total_seconds():
            user = get_store().session_user(username, epoch)
    if user is None:
        for key in _SESSION_KEYS:
            session.pop(key, None)
    return user


@bp.before_app_request
def load_user_and_check_csrf() -> None:
    """Attach the logged-in account to ``g.user``; refuse unsafe requests without token."""
    g.user = _session_account()
    refusal = getattr(current_app.view_functions.get(request.endpoint), "account_only", None)
    if refusal and g.user is None:  # before anything reads the body (see account_only)
        raise GeoappError(refusal, 401)
    if request.method in _UNSAFE:
        sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
        expected = session.get("csrf", "")
        # Compared as bytes: compare_digest raises TypeError on non-ASCII str (a 500).
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            raise GeoappError(
                "Jeton de sécurité (CSRF) absent ou expiré : rechargez la page puis recommencez.",
                400,
            )


@bp.app_context_processor
def inject_auth() -> dict:
    return {
        "csrf_token": csrf_token,
        "current_user": g.get("user"),
        "can_edit": lambda district: can_edit(g.get("user"), district),
    }


def _safe_next(target: str | None) -> str:
    """Only redirect to a path of this site after login (no open redirect)."""
    if (
        target
        and urlparse(target).netloc == ""
        and target.startswith("/")
        and not target.startswith("//")
    ):
        return target
    return url_for("pages.index")


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    """The login form; an attempt made too soon after failures is a 429 with Retry-After.

    The address is ``request.remote_addr``: the client's, or the one the trusted proxies
    forwarded (``TRUSTED_PROXIES``, applied by werkzeug's ProxyFix in `geoapp.web`).
    """
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        store = get_store()
        # Read before the check: a password changed meanwhile yields a dead session.
        epoch = store.session_epoch(username)
        try:
            user = store.authenticate(
                username, request.form.get("password", ""), ip=request.remote_addr or "?"
            )
        except GeoappError as exc:
            if exc.status != 429:
                raise
            return _login_form(exc.message, username, 429, retry_after=exc.details["retry_after"])
        if user and epoch is not None:
            session.clear()  # a new session: nothing planted before the login survives
            session.permanent = True
            session.update(user=user["username"], epoch=epoch, login_at=_now())
            flash(f"Bienvenue, {user['username']}.", "info")
            return redirect(_safe_next(request.form.get("next")))
        error = "Identifiant ou mot de passe incorrect."
    return _login_form(error, username, 401 if error else 200)


def _login_form(error: str | None, username: str, status: int, *, retry_after: int = 0):
    page = render_template(
        "auth/login.html", error=error, username=username, next=request.values.get("next", "")
    )
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return page, status, headers


@bp.post("/deconnexion")
def logout():
    """End every session of the account (all devices), then this one."""
    if g.get("user"):
        get_store().end_sessions(g.user["username"])
    session.clear()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("pages.index"))
