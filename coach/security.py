"""Sign-in, roles, CSRF, throttling and security headers.

Every protected view uses :func:`role_required`, built from the single check :func:`access_denial`,
so pages and the JSON API enforce the same rules: anonymous page visits go to the login page with
``next``; anonymous API calls get 401 JSON; the wrong role gets 403 (JSON or page).
"""
from __future__ import annotations

import hmac
import secrets
import time
from datetime import UTC, datetime
from functools import wraps
from urllib.parse import urlparse

from flask import Flask, current_app, g, has_request_context, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect, generate_csrf
from itsdangerous import BadData, URLSafeTimedSerializer
from peewee import JOIN
from werkzeug.middleware.proxy_fix import ProxyFix

from .errors import AppError, error_response, wants_json
from .models import AuditEvent, Caregiver, Family, User, utcnow
from .prepared import Prepared

login_manager = LoginManager()
#: The attribute the signed-in user's own family is read into (taken once by ``family_for``).
OWN_FAMILY = "own_family"
#: The session check of every signed-in request, with the family the person is a caregiver in (as
#: ``household.family_of`` finds it) in the same statement: every parent page and API call reads it
#: next (``checkins.family_for``). Built once (coach/prepared.py).
_USER_BY_ID = Prepared(lambda user_id: (
    User.select(User, Family)
    .join(Caregiver, JOIN.LEFT_OUTER, on=(Caregiver.user == User.id))
    .join_from(User, Family, JOIN.LEFT_OUTER, on=(Family.id == Caregiver.family), attr=OWN_FAMILY)
    .where(User.id == user_id).limit(1)), User.id)
csrf = CSRFProtect()

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "manifest-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

#: Which roles may enter each area. Admins can do everything a worker can.
AREA_ROLES = {
    "parent": ("parent",),
    "worker": ("worker", "admin"),
    "admin": ("admin",),
}


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    """``<id>:<session token>:<signed-in epoch>`` from the session or remember-me cookie → the user,
    if still valid.

    A deactivated account, one whose token changed (sign-out, a new password), or a sign-in older
    than ``REMEMBER_COOKIE_DURATION`` is refused: the cookie's own expiry lives in the browser, so a
    copy kept elsewhere would otherwise work for ever.
    """
    user_id, token, signed_in = (session_id.split(":") + ["", ""])[:3]
    if not (user_id.isdigit() and signed_in.isdigit()):
        return None  # also the id format used before sign-in times were recorded
    started = datetime.fromtimestamp(int(signed_in), UTC).replace(tzinfo=None)
    if utcnow() - started > current_app.config["REMEMBER_COOKIE_DURATION"]:
        return None
    user = _USER_BY_ID.first(int(user_id))
    if user is None or not user.active or not hmac.compare_digest(user.session_token, token):
        return None
    user.signed_in_at = int(signed_in)  # keeps get_id() equal to the id the cookie carries
    return user


#: Signed values this process has already checked (session cookies, CSRF tokens), each kept up to
#: this many: every request of a signed-in parent carries the same cookie and page token again.
SIGNED_KEPT = 8192


class RememberedSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, without checking and decoding the same cookie again.

    A cookie this process has already verified (the signature over the whole value) is looked up by
    that exact value, and only its age is checked again, as itsdangerous checks it: older than the
    session lifetime, or signed in the future, and it is no session at all. Only sessions holding
    plain values (text, numbers) are kept, so no request can change another's copy; a changed
    session is a new cookie value. Kept per app, and by secret key.
    """

    def __init__(self) -> None:
        self._opened: dict[tuple, tuple[dict, int]] = {}

    def open_session(self, app, request):
        value = request.cookies.get(self.get_cookie_name(app))
        if not value or not app.secret_key:
            return super().open_session(app, request)
        max_age = int(app.permanent_session_lifetime.total_seconds())
        key = (app.secret_key, value)
        found = self._opened.get(key)
        if found is None:
            try:
                data, signed_at = self.get_signing_serializer(app).loads(value, max_age=max_age,
                                                                         return_timestamp=True)
            except BadData:
                return self.session_class()
            if isinstance(data, dict) and all(isinstance(v, (str, int, float, bool)) or v is None
                                              for v in data.values()):
                if len(self._opened) >= SIGNED_KEPT:
                    self._opened.clear()
                self._opened[key] = (data, int(signed_at.timestamp()))
            return self.session_class(data)
        data, signed_at = found
        if not 0 <= int(time.time()) - signed_at <= max_age:
            self._opened.pop(key, None)
            return self.session_class()
        return self.session_class(data)  # a copy: the request may change its own


_signed_tokens: dict[tuple, str] = {}


def page_csrf_token() -> str:
    """Flask-WTF's ``generate_csrf`` for pages, signing each session's token once per process.

    The signed form of a session's CSRF token only proves it was made with the secret key, and with
    no time limit (``WTF_CSRF_TIME_LIMIT`` None) one made earlier is as valid as a new one, so the
    first is kept and put in later pages of that session. With a time limit, or a separate CSRF
    secret, every page signs its own as Flask-WTF does.
    """
    config = current_app.config
    field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    raw = session.get(field)
    if (field in g or not isinstance(raw, str) or config.get("WTF_CSRF_TIME_LIMIT") is not None
            or config.get("WTF_CSRF_SECRET_KEY")):
        return generate_csrf()
    key = (current_app.secret_key, raw)
    signed = _signed_tokens.get(key)
    if signed is None:
        signed = generate_csrf()
        if len(_signed_tokens) >= SIGNED_KEPT:
            _signed_tokens.clear()
        _signed_tokens[key] = signed
    setattr(g, field, signed)  # what generate_csrf would keep for the rest of the request
    return signed


def access_denial(roles: tuple[str, ...]) -> AppError | None:
    """The one access check: None when the current user holds one of ``roles``."""
    if not current_user.is_authenticated:
        return AppError(401)
    if current_user.role not in roles:
        return AppError(403)
    return None


def role_required(*roles: str):
    """Decorator: the view runs only for signed-in users holding one of ``roles``."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            denial = access_denial(roles)
            if denial is None:
                return view(*args, **kwargs)
            if denial.status == 401 and not wants_json():
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            return error_response(denial)

        return wrapped

    return decorator


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after sign-in (no open redirects).

    Control characters, spaces and backslashes are refused too: a CR/LF can't go into a
    ``Location`` header, and browsers drop tabs and newlines and read ``\\`` as ``/``, which turns
    ``/\\evil.example`` or ``/<tab>/evil.example`` into ``//evil.example``."""
    if not target or len(target) > 2000 or not target.isprintable() or " " in target or "\\" in target:
        return None
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(user: User) -> str:
    """Each role's landing page."""
    return {"parent": "parent.home", "worker": "worker.caseload", "admin": "admin.dashboard"}[user.role]


# --- throttling and known devices --------------------------------------------------------------

KNOWN_DEVICE_COOKIE = "known_device"


def _device_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="known-device")


def known_device_for(user: User | None) -> str | None:
    """The nonce of this browser's signed known-device cookie when it was issued to ``user`` by a
    successful sign-in within ``REMEMBER_COOKIE_DURATION``; else None."""
    cookie = request.cookies.get(KNOWN_DEVICE_COOKIE)
    if user is None or not cookie:
        return None
    max_age = int(current_app.config["REMEMBER_COOKIE_DURATION"].total_seconds())
    try:
        data = _device_signer().loads(cookie, max_age=max_age)
    except BadData:
        return None
    if not isinstance(data, dict) or data.get("u") != user.id or not isinstance(data.get("n"), str):
        return None
    return data["n"]


def remember_device(response, user: User) -> None:
    """Mark this browser as one that signed in to ``user``'s account (throttling lets it through)."""
    value = _device_signer().dumps({"u": user.id, "n": secrets.token_urlsafe(12)})
    config = current_app.config
    response.set_cookie(KNOWN_DEVICE_COOKIE, value, max_age=config["REMEMBER_COOKIE_DURATION"],
                        secure=config.get("REMEMBER_COOKIE_SECURE", False), httponly=True,
                        samesite="Lax")


def audit(action: str, target_type: str = "", target_id: object = "", actor: User | None = None,
          **detail) -> None:
    """Write one audit log entry for the current request's user (or ``actor``)."""
    if actor is None and current_user and current_user.is_authenticated:
        actor = current_user._get_current_object()
    ip = (request.remote_addr or "") if has_request_context() else ""
    AuditEvent.create(actor=actor, action=action, target_type=target_type,
                      target_id=str(target_id), detail=detail or None, ip=ip)


def init_app(app: Flask) -> None:
    """Install the trusted-proxy fix, Flask-Login, CSRF protection and the response headers."""
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Only the last ``proxies`` X-Forwarded-For hops are believed; a client can't pick its address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    app.session_interface = RememberedSessions()
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    app.jinja_env.globals["csrf_token"] = page_csrf_token
    app.context_processor(lambda: {"csrf_token": page_csrf_token})  # after Flask-WTF's, so it wins

    @login_manager.unauthorized_handler
    def _unauthorized():
        if wants_json():
            return error_response(AppError(401))
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if current_app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if current_user.is_authenticated and "Cache-Control" not in headers:
            headers["Cache-Control"] = "private, no-store"  # personal pages never sit in shared caches
        return response
