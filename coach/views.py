"""Blueprint registry and the app-wide template helpers. Find a URL's code: see DESIGN.md's map."""
from __future__ import annotations

from flask import Flask, jsonify

from .i18n import _l
from .models import THEME_NAMES, utcnow


def register_blueprints(app: Flask) -> None:
    """One blueprint per role or surface; ``/healthz`` lives here."""
    from .admin.views import bp as admin_bp
    from .api import bp as api_bp
    from .auth.account import bp as account_bp
    from .auth.reset import bp as reset_bp
    from .auth.views import bp as auth_bp
    from .help.views import bp as help_bp
    from .parent.views import bp as parent_bp
    from .pwa import bp as pwa_bp
    from .sms.views import bp as sms_bp
    from .worker.views import bp as worker_bp

    for blueprint in (auth_bp, account_bp, parent_bp, help_bp, worker_bp, admin_bp, api_bp, pwa_bp, sms_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(reset_bp)  # /reset/<token>: one-time password links

    @app.get("/healthz")
    def healthz():
        """Liveness probe for load balancers and `make run`; 200 whatever the scheduler's state
        (this is the web process's liveness), with the scheduler's for whoever watches it."""
        from peewee import PeeweeException

        from .services.delivery.operations import scheduler_health

        try:
            scheduler = scheduler_health()
        except PeeweeException:
            scheduler = {"last_tick_age_s": None, "ok": False}
        return jsonify(status="ok", scheduler=scheduler)

    # A global, not a context variable, so imported macros see it too.
    # Each name is written in the reader's language when shown (lazy, like a form label).
    app.jinja_env.globals["theme_names"] = {theme: _l(name) for theme, name in THEME_NAMES.items()}

    @app.context_processor
    def _template_globals():
        return {"now_utc": utcnow()}
