"""One error type for the domain and the API, and HTML-or-JSON error handlers.

Services raise :class:`AppError`; the handler answers JSON ``{"error", "message", "fields"?}`` to API
clients and a friendly page to browsers.
"""
from __future__ import annotations

from flask import Flask, flash, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .i18n import N_, _

MESSAGES = {
    400: ("bad_request", N_("The request could not be understood.")),
    401: ("unauthorized", N_("Please sign in first.")),
    403: ("forbidden", N_("You don't have access to this page.")),
    404: ("not_found", N_("We couldn't find that page.")),
    405: ("method_not_allowed", N_("That action isn't allowed here.")),
    409: ("conflict", N_("That conflicts with something already saved.")),
    410: ("gone", N_("That link is no longer available.")),
    413: ("too_large", N_("That upload is too large.")),
    415: ("unsupported_media_type", N_("Please send JSON.")),
    422: ("invalid", N_("Some of the details need another look.")),
    429: ("too_many_requests", N_("Too many attempts. Please wait a little and try again.")),
    500: ("server_error", N_("Something went wrong on our side. Please try again.")),
}


class AppError(Exception):
    """A domain error with an HTTP status, a stable code and a human sentence."""

    def __init__(self, status: int, message: str | None = None, code: str | None = None,
                 fields: dict | None = None):
        default_code, default_message = MESSAGES.get(status, ("error", N_("Something went wrong.")))
        # Written in the reader's language: a sentence marked in the catalogue (``_`` or ``N_`` where
        # it was raised) is looked up here, so one already translated, or not in it, stays as it is.
        message = _(message or default_message)
        super().__init__(message)
        self.status = status
        self.code = code or default_code
        self.message = message
        self.fields = {name: _(text) if isinstance(text, str) else text
                       for name, text in fields.items()} if fields else None

    def payload(self) -> dict:
        body = {"error": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return body


def wants_json() -> bool:
    """API paths, JSON bodies and clients preferring JSON get JSON errors."""
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def show_on_form(form, error: AppError) -> None:
    """Put an AppError's field sentences next to their fields on a WTForms ``form``; an error
    without fields becomes a flash message (the page re-renders with both)."""
    for name, message in (error.fields or {}).items():
        if name in form:
            form[name].errors = [message]
    if not error.fields:
        flash(error.message, "error")


def error_response(error: AppError):
    """Render an AppError for whoever asked: JSON for API clients, a page for browsers."""
    if wants_json():
        response = jsonify(error.payload())
    else:
        template = f"errors/{error.status}.html" if error.status in (403, 404, 410) else "errors/generic.html"
        response = render_template(template, error=error)
    return response, error.status


def init_app(app: Flask) -> None:
    """Register the handlers for AppError, CSRF failures and every HTTP error."""

    @app.errorhandler(AppError)
    def _app_error(error: AppError):
        return error_response(error)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        return error_response(AppError(
            400, N_("Your session's security token was missing or out of date. Reload the page and try "
                    "again."),
            code="csrf_failed"))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        return error_response(AppError(error.code or 500))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("Unhandled error on %s", request.path)
        return error_response(AppError(500))
