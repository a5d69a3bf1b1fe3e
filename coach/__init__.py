"""Attune: one small attunement prompt a day for parents, with caseloads for family workers."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
#: ``flask --app coach <command>`` commands that serve no page: their process builds only the
#: configuration, the database and the commands (no blueprints, templates, login or CSRF), so a
#: cron ``send-due`` starts pushing sooner (bench/README.md "Start-up").
TICK_COMMANDS = frozenset({"send-due", "scheduler"})
_FLASK_VALUE_OPTIONS = frozenset({"--app", "-A", "--env-file", "-e"})


def create_app(test_config: dict | None = None, *, web: bool | None = None) -> Flask:
    """Build the app as a list of named steps: config → db → i18n → security → errors → blueprints → metrics → assets → cli.

    ``web=False`` builds only config → db → i18n → cli (what a delivery tick needs); by default that is
    chosen when this process is ``flask … send-due`` or ``flask … scheduler``.
    """
    if web is None:
        web = test_config is not None or cli_command(sys.argv) not in TICK_COMMANDS
    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("COACH_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    from . import cli, config, db, i18n

    config.load_config(app, test_config)
    db.init_app(app)
    i18n.init_app(app)  # each person's language (Flask-Babel); pushes need it too
    if web:
        from . import assets, errors, inputs, security, views
        from .services.delivery import operations

        security.init_app(app)
        errors.init_app(app)
        inputs.init_app(app)  # before the blueprints: their routes use its <int:…> converter
        views.register_blueprints(app)
        operations.init_app(app)  # GET /metrics behind COACH_METRICS_TOKEN
        assets.init_app(app)  # /static/*.css and *.js without comments or indentation
    cli.init_app(app)
    return app


def cli_command(argv: list[str]) -> str | None:
    """The command a ``flask`` (or ``python -m flask``) process runs: the first word after the
    flask CLI's own options; None for any other program (gunicorn, pytest, a script)."""
    program = Path(argv[0]) if argv else Path()
    if program.name != "flask" and program.parent.name != "flask":  # …/flask/__main__.py for -m flask
        return None
    words = iter(argv[1:])
    for word in words:
        if word in _FLASK_VALUE_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None
