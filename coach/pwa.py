"""The installable web app: ``/manifest.webmanifest``, the service worker at ``/sw.js`` (root scope),
and the ``/offline`` page it shows when a page was never cached.

The service worker's cache version is a hash of itself and of every app-shell file, so changing any
of them installs a new worker that fetches the new shell and deletes the old caches.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template

from .assets import compact_js
from .i18n import N_, TRANSLATIONS, _, language
from .js_words import worker_words

bp = Blueprint("pwa", __name__)

#: Static files every parent page needs, cached when the service worker installs.
SHELL_STATIC = (
    "css/app.css",
    "css/parent.css",
    "js/app.js",
    "js/outbox.js",
    "js/notifications.js",
    "js/checkin.js",
    "js/settings.js",
    "icons/icon.svg",
    "icons/icon-192.png",
    "icons/badge-72.png",
)
SHELL_PAGES = ("/offline", "/manifest.webmanifest")

MANIFEST = {
    "id": "/",
    "name": "Attune",
    "short_name": "Attune",
    "description": N_("One small moment of connection with your child, each day."),
    "lang": "en",
    "start_url": "/",
    "scope": "/",
    "display": "standalone",
    "orientation": "portrait",
    "background_color": "#FBF7F2",
    "theme_color": "#1D5C58",
    "categories": ["health", "lifestyle", "education"],
    "icons": [
        {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
        {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
        {"src": "/static/icons/maskable-512.png", "sizes": "512x512", "type": "image/png",
         "purpose": "maskable"},
        {"src": "/static/icons/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
    ],
}


def _static_dir() -> Path:
    return Path(current_app.static_folder)


def _stamp(paths: list[Path]) -> tuple:
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths if p.exists())


@lru_cache(maxsize=8)
def _build_worker(stamp: tuple) -> str:
    """The service worker source with its cache version, shell list and words filled in."""
    paths = [Path(entry[0]) for entry in stamp]
    words = json.dumps(worker_words(), ensure_ascii=False, sort_keys=True)
    digest = hashlib.sha256(json.dumps(MANIFEST, sort_keys=True).encode() + words.encode())
    for path in paths:
        digest.update(path.read_bytes())
    source = compact_js(paths[0].read_text(encoding="utf-8"))
    shell = list(SHELL_PAGES) + [f"/static/{name}" for name in SHELL_STATIC]
    return (source.replace('"__VERSION__"', json.dumps(digest.hexdigest()[:12]))
            .replace('["__SHELL__"]', json.dumps(shell))
            .replace('{"__WORDS__": 0}', words))


@bp.get("/sw.js")
def service_worker():
    """The service worker, at the root so it controls every page (public: no personal data)."""
    static = _static_dir()
    # The catalogues count too: a new translation makes a new worker with the new words.
    paths = [static / "sw.js"] + [static / name for name in SHELL_STATIC] + sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.mo"))
    response = Response(_build_worker(_stamp(paths)), mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest: name, colours, standalone display and icons (public), in the reader's
    language."""
    words = MANIFEST | {"lang": language(), "description": _(MANIFEST["description"])}
    response = Response(json.dumps(words, indent=1, ensure_ascii=False),
                        mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/offline")
def offline():
    """Shown by the service worker when the phone is offline and the page isn't cached (public)."""
    response = Response(render_template("pwa/offline.html"))
    response.headers["Cache-Control"] = "no-cache"
    return response
