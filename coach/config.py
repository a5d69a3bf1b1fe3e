"""Configuration: defaults, then ``COACH_*`` environment variables, then instance secrets.

Secrets that are missing are generated once into the instance folder (never into git), so a
fresh clone works with no set-up and a restart keeps sessions and push subscriptions valid.
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask

#: The public push services of Google, Mozilla, Apple and Microsoft (DESIGN.md, delivery step 6).
DEFAULT_PUSH_HOSTS = (
    "fcm.googleapis.com",
    "android.googleapis.com",
    "updates.push.services.mozilla.com",
    "web.push.apple.com",
    "*.notify.windows.com",
)

DEFAULTS = {
    "BASE_URL": "http://127.0.0.1:5000",
    "REPEAT_DAYS": 60,
    "INVITE_DAYS": 14,
    "VAPID_SUBJECT": "mailto:admin@attune.example",
    "PUSH_ALLOWED_HOSTS": ",".join(DEFAULT_PUSH_HOSTS),
    "PUSH_TIMEOUT": 10,
    "PUSH_CONCURRENCY": 128,  # pushes in flight; latency-bound, so many in flight (bench/README.md)
    "PUSH_TTL_HOURS": 12,
    "PUSH_LEASE_SECONDS": 20,  # a sender renews its leases every third of this while it is alive
    "MAX_DEVICES": 10,
    # Pooled database connections per process (coach/db.py): at least gunicorn's --threads.
    "DB_POOL_SIZE": 16,
    "DB_POOL_RECYCLE_SECONDS": 300,  # a connection this old is closed when it comes back
    "DB_POOL_TIMEOUT": 10,  # seconds a thread waits for a free connection  # per account; a new device past it replaces the one seen longest ago
    "LOGIN_MAX_FAILURES": 10,
    "LOGIN_WINDOW_MINUTES": 15,
    # Reverse proxies in front of the app whose X-Forwarded-For is believed (0: the socket address).
    "TRUSTED_PROXIES": 0,
    # Email (DESIGN "Email"): unset SMTP_URL means nothing is mailed; /admin/ and `make run` say so.
    "SMTP_URL": "",
    "MAIL_FROM": "Attune <attune@localhost>",
    "SMTP_TIMEOUT": 10,
    # Urgent and escalated support requests; empty: every active admin's email instead.
    "DUTY_EMAIL": "",
    "SUPPORT_RESPONSE_HOURS": 24,
    # Text messages (DESIGN "Reach → Text messages"): unset SID, token or FROM means nothing is texted.
    "TWILIO_ACCOUNT_SID": "",
    "TWILIO_AUTH_TOKEN": "",
    "TWILIO_FROM": "",  # the sending number (E.164) or a Messaging Service SID (MG…)
    "TWILIO_API_BASE": "https://api.twilio.com",  # tests aim it at a loopback fake (http only there)
    "TWILIO_CONCURRENCY": 16,  # texts in flight per scheduler
    "TWILIO_TIMEOUT": 10,
    "SMS_FALLBACK_MINUTES": 30,  # push_then_sms: text when the push is not through this long after due
    # GET /metrics answers only `Authorization: Bearer <this>`; empty: /metrics is a 404.
    "METRICS_TOKEN": "",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_DURATION": timedelta(days=90),
    "PERMANENT_SESSION_LIFETIME": timedelta(days=30),
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session; forms left open overnight still work
    "MAX_CONTENT_LENGTH": 1024 * 1024,
}

SECRET_FILES = {"SECRET_KEY": "secret_key", "VAPID_PRIVATE_KEY": "vapid_private.pem"}
#: ``make run`` writes the address it serves on here, so ``flask invite`` in another shell prints
#: links to the port the server really listens on; ``COACH_BASE_URL`` always wins over it.
SERVED_URL_FILE = "base_url"


def load_config(app: Flask, test_config: dict | None) -> None:
    """Fill ``app.config`` from defaults, the environment (or ``test_config``) and the instance folder."""
    app.config.update(DEFAULTS)
    before = dict(app.config)
    if test_config is None:
        app.config.from_prefixed_env("COACH")
    else:
        app.config.update(test_config)
    explicit = {key for key, value in app.config.items() if key not in before or before[key] is not value}
    app.config.setdefault(
        "DATABASE_URL", "sqlite:///" + str(Path(app.instance_path) / "attune.db")
    )
    if "BASE_URL" not in explicit:
        app.config["BASE_URL"] = served_base_url(Path(app.instance_path)) or app.config["BASE_URL"]
    base_url = str(app.config["BASE_URL"]).rstrip("/")
    app.config["BASE_URL"] = base_url
    # Secure cookies whenever the app is served over https (production); plain http is local development.
    secure = base_url.startswith("https://")
    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if key not in explicit:
            app.config[key] = secure
    for key in ("REPEAT_DAYS", "INVITE_DAYS", "PUSH_TIMEOUT", "PUSH_CONCURRENCY", "PUSH_TTL_HOURS",
                "SMTP_TIMEOUT", "SUPPORT_RESPONSE_HOURS", "PUSH_LEASE_SECONDS", "MAX_DEVICES",
                "DB_POOL_SIZE", "DB_POOL_RECYCLE_SECONDS", "DB_POOL_TIMEOUT", "TWILIO_CONCURRENCY",
                "TWILIO_TIMEOUT", "SMS_FALLBACK_MINUTES"):
        app.config[key] = int(app.config[key])
    hosts = app.config["PUSH_ALLOWED_HOSTS"]
    if isinstance(hosts, str):
        hosts = [h.strip().lower() for h in hosts.split(",") if h.strip()]
    app.config["PUSH_ALLOWED_HOSTS"] = tuple(hosts)
    read_instance_secrets(app)


def served_base_url(folder: Path) -> str | None:
    """The base URL ``make run`` recorded in the instance folder, if it looks like one."""
    try:
        text = (folder / SERVED_URL_FILE).read_text().strip()
    except OSError:
        return None
    return text if text.startswith(("http://", "https://")) and not any(c.isspace() for c in text) else None


def keep_instance_private(folder: Path) -> None:
    """The instance folder is the owner's alone (0700), its secrets and database files 0600: an
    earlier release, or a hand-made folder, may have left them readable by other local users."""
    if not folder.is_dir():
        return
    if folder.stat().st_mode & 0o077:
        folder.chmod(0o700)
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_mode & 0o077:
            path.chmod(0o600)


def read_instance_secrets(app: Flask) -> None:
    """Use secrets stored in the instance folder where the environment gave none."""
    folder = Path(app.instance_path)
    keep_instance_private(folder)
    for key, filename in SECRET_FILES.items():
        if app.config.get(key):
            continue
        path = folder / filename
        if path.exists():
            app.config[key] = path.read_text().strip()
    if not app.config.get("SECRET_KEY"):
        # Until init-db writes one, a process-local key keeps the app usable (sessions end on restart).
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        app.config["SECRET_KEY_EPHEMERAL"] = True


def ensure_instance_secrets(app: Flask) -> list[str]:
    """Create the secret key and VAPID key pair in the instance folder when missing.

    Returns the names of the files created. Files are written owner-readable only.
    """
    from py_vapid import Vapid  # imported here: only init-db needs key generation

    folder = Path(app.instance_path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    keep_instance_private(folder)
    created = []
    key_path = folder / SECRET_FILES["SECRET_KEY"]
    if not key_path.exists() and not os.environ.get("COACH_SECRET_KEY"):
        _write_private(key_path, secrets.token_hex(32))
        created.append(key_path.name)
    vapid_path = folder / SECRET_FILES["VAPID_PRIVATE_KEY"]
    if not vapid_path.exists() and not os.environ.get("COACH_VAPID_PRIVATE_KEY"):
        vapid = Vapid()
        vapid.generate_keys()
        _write_private(vapid_path, vapid.private_pem().decode())
        created.append(vapid_path.name)
    read_instance_secrets(app)
    if created and app.config.pop("SECRET_KEY_EPHEMERAL", False):
        app.config["SECRET_KEY"] = key_path.read_text().strip()
    return created


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")
