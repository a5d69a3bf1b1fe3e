"""Sign-in, roles, CSRF, throttling and security headers.

Every protected view uses :func:`role_required`, built from the single check :func:`access_denial`,
so pages and the JSON API enforce the same rules: anonymous page visits go to the login page with
``next``; anonymous API calls get 401 JSON; the wrong role gets 403 (JSON or page).
"""
from __future__ import annotations

import hmac
from datetime import timedelta
from functools import wraps
from urllib.parse import urlparse

from flask import Flask, current_app, has_request_context, redirect, request, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from .errors import AppError, error_response, wants_json
from .models import AuditEvent, LoginFailure, User, utcnow

login_manager = LoginManager()
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
    """``<id>:<session token>`` from the session or remember-me cookie → the user, if still valid.

    A deactivated account, or one whose token changed (a password reset), is signed out at once.
    """
    user_id, _, token = session_id.partition(":")
    user = User.get_or_none(User.id == int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active or not hmac.compare_digest(user.session_token, token):
        return None
    return user


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


# --- throttling -----------------------------------------------------------------------------------

def _throttle_keys(email: str, ip: str) -> list[str]:
    return [f"email:{email.strip().lower()}", f"ip:{ip}"]


def login_blocked_for(email: str, ip: str) -> int:
    """Minutes until sign-in may be tried again for this account or address (0 = not blocked)."""
    window = timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    since = utcnow() - window
    longest = 0
    for key in _throttle_keys(email, ip):
        recent = (LoginFailure.select(LoginFailure.created_at)
                  .where(LoginFailure.key == key, LoginFailure.created_at > since)
                  .order_by(LoginFailure.created_at.desc()).limit(limit))
        times = [row.created_at for row in recent]
        if len(times) >= limit:
            free_at = times[-1] + window
            longest = max(longest, int((free_at - utcnow()).total_seconds() // 60) + 1)
    return longest


def record_login_failure(email: str, ip: str) -> None:
    """Count a failed sign-in against the account and the address; old rows are pruned."""
    now = utcnow()
    LoginFailure.insert_many([{"key": key, "created_at": now} for key in _throttle_keys(email, ip)]).execute()
    cutoff = now - timedelta(days=1)
    LoginFailure.delete().where(LoginFailure.created_at < cutoff).execute()


def clear_login_failures(email: str) -> None:
    LoginFailure.delete().where(LoginFailure.key == _throttle_keys(email, "")[0]).execute()


def audit(action: str, target_type: str = "", target_id: object = "", actor: User | None = None,
          **detail) -> None:
    """Write one audit log entry for the current request's user (or ``actor``)."""
    if actor is None and current_user and current_user.is_authenticated:
        actor = current_user._get_current_object()
    ip = (request.remote_addr or "") if has_request_context() else ""
    AuditEvent.create(actor=actor, action=action, target_type=target_type,
                      target_id=str(target_id), detail=detail or None, ip=ip)


def init_app(app: Flask) -> None:
    """Install Flask-Login, CSRF protection and the response headers."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    csrf.init_app(app)

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
