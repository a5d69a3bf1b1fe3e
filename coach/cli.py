"""Command line: ``flask --app coach <command>`` (DESIGN.md "Command line")."""
from __future__ import annotations

import json

import click
from flask import Flask, current_app

from .db import db, init_db
from .errors import AppError


def init_app(app: Flask) -> None:
    """Register every command on the app."""
    for command in (init_db_command, create_user_command, invite_command):
        app.cli.add_command(command)
    from .delivery_cli import register as register_delivery_commands  # send-due, scheduler, send-test-push
    register_delivery_commands(app)


@click.command("init-db")
def init_db_command() -> None:
    """Create or upgrade the schema, seed the support resources when empty, load or update the
    starter prompt library (never a prompt an admin edited), create missing secrets. Idempotent."""
    from .config import ensure_instance_secrets
    from .services.families.resources import seed_resources_if_empty
    from .services.programme.library import upgrade_starter_library

    created = ensure_instance_secrets(current_app)
    result = init_db()
    with db.connection_context():
        library = upgrade_starter_library()
        seeded_resources = seed_resources_if_empty()
    if result["from"] is None:
        click.echo(f"Created the database at schema version {result['to']}.")
    elif result["from"] != result["to"]:
        click.echo(f"Upgraded the database from schema version {result['from']} to {result['to']}.")
    else:
        click.echo(f"The database is up to date (schema version {result['to']}).")
    if library["seeded"]:
        click.echo(f"Loaded {library['seeded']} prompts into the empty library.")
    elif any(library[key] for key in ("added", "updated", "retired")):
        click.echo(f"Starter library: {library['added']} prompts added, {library['updated']} updated, "
                   f"{library['retired']} retired; {library['kept']} edited by an admin left as they are.")
    if library.get("translated"):
        click.echo(f"Spanish: {library['translated']} prompts given their translation.")
    if seeded_resources:
        click.echo(f"Loaded {seeded_resources} support resources (helplines) into the empty list.")
    for name in created:
        click.echo(f"Created instance secret {name} (kept out of git).")
    echo_mail_status()
    echo_text_status()


def echo_text_status() -> None:
    """Say whether text messages can go out (parents who chose texts depend on it)."""
    from .services.delivery.sms import sms_problem

    problem = sms_problem()
    click.echo(problem + " Parents can choose texts once it is set (README \"Text messages\")." if problem else
               "Text messages go out through Twilio; check with `flask --app coach send-test-sms --email E`.")


def echo_mail_status() -> None:
    """Say whether email works: support alerts and escalations depend on it (``make run`` shows it)."""
    from .services.delivery.mail import mail_problem, smtp_settings

    problem = mail_problem()
    if problem is None:
        settings = smtp_settings()
        click.echo(f"Email goes through {settings.host}:{settings.port}; "
                   "check it with `flask --app coach send-test-email --to you@example.org`.")
    else:
        click.echo(f"{problem} Support alerts wait in the outbox until email works "
                   "(see README \"Help and alerts\").")


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", type=click.Choice(["admin", "worker"]), required=True)
@click.option("--name", default="")
def create_user_command(email: str, password: str, role: str, name: str) -> None:
    """Create a worker or admin account and print its id."""
    from .services.people.accounts import create_user

    with db.connection_context():
        try:
            user = create_user(email, password, role, name)
        except AppError as error:
            details = " ".join(v for v in (error.fields or {}).values() if v != error.message)
            raise click.ClickException(f"{error.message} {details}".strip()) from None
    click.echo(user.id)


@click.command("invite")
@click.option("--worker", "worker_email", required=True, help="The family worker's email.")
@click.option("--days", default=None, type=int, help="How long the link works (default 14).")
def invite_command(worker_email: str, days: int | None) -> None:
    """Print a single-use enrolment link for a new family on that worker's caseload."""
    from .models import User
    from .services.people.invites import create_invite, invite_url

    with db.connection_context():
        worker = User.by_email(worker_email)
        if worker is None or worker.role not in ("worker", "admin"):
            raise click.ClickException(f"No family worker has the email {worker_email!r}.")
        try:
            _invite, token = create_invite(worker, days)
        except AppError as error:
            raise click.ClickException(error.message) from None
    click.echo(invite_url(token))


def echo_json(data: dict) -> None:
    click.echo(json.dumps(data, sort_keys=True))
