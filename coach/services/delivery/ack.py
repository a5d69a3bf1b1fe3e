"""Per-delivery acknowledgement tokens for the notification's one-tap "I tried it" action.

The service worker posts the token with the check-in, so no session cookie or CSRF token is needed:
an HMAC of the delivery id under the app's secret key proves the push came from us.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app


def make_ack_token(delivery_id: int) -> str:
    """The token sent in a delivery's push payload."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"ack:{delivery_id}".encode(), hashlib.sha256).hexdigest()[:32]


def verify_ack_token(delivery_id: int, token: str) -> bool:
    """True when ``token`` was made for ``delivery_id`` with this app's key (constant-time)."""
    return hmac.compare_digest(make_ack_token(delivery_id), str(token or ""))
