"""One-time links (invites, password resets) without their tokens in logs, history or caches.

``GET /<link>/<token>`` checks the token, keeps it in the signed session and answers 303 to the
token-free page, which reads it back from the session. Both send ``no-store`` and ``no-referrer``.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import make_response, redirect, session, url_for

from ..errors import AppError, error_response


def token_page(view):
    """Decorator for pages reached with a one-time token: never cached, and no Referer header leaves
    them, so the token can't travel on to another site or a shared cache."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return wrapped


def open_link(token: str, check: Callable[[str], object], session_key: str, endpoint: str):
    """Check ``token`` (``check`` raises AppError for a bad one, shown at once), keep it in the
    session under ``session_key`` and send the browser on to ``endpoint``."""
    try:
        check(token)
    except AppError as error:
        return error_response(error)
    session[session_key] = token
    return redirect(url_for(endpoint), 303)


def with_opened_link(session_key: str, not_opened: AppError, page: Callable[[str], object]):
    """``page(token)`` for the link opened in this browser, or ``not_opened`` when there is none."""
    token = session.get(session_key)
    if not token:
        return error_response(not_opened)
    return page(token)
