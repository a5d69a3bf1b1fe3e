"""Attune: one small attunement prompt a day for parents, with caseloads for family workers."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app as a list of named steps: config → db → security → i18n → errors → blueprints → metrics → assets → cli."""
    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("COACH_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    from . import assets, cli, config, db, errors, i18n, inputs, security, views
    from .services.delivery import operations

    config.load_config(app, test_config)
    db.init_app(app)
    security.init_app(app)
    i18n.init_app(app)  # each person's language (Flask-Babel)
    errors.init_app(app)
    inputs.init_app(app)  # before the blueprints: their routes use its <int:…> converter
    views.register_blueprints(app)
    operations.init_app(app)  # GET /metrics behind COACH_METRICS_TOKEN
    assets.init_app(app)  # /static/*.css and *.js without comments or indentation
    cli.init_app(app)
    return app
