"""Two ``flask send-due`` processes racing on one PostgreSQL schema against a loopback push
service: the shared half of the PostgreSQL race tests."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from coach import create_app
from coach.db import db, init_db
from tests.delivery_helpers import VAPID_PEM
from tests.pushservice import PushService

ROOT = Path(__file__).resolve().parent.parent


def race_two_senders(pg_url: str, tmp_path: Path, now: datetime, fill: Callable[[PushService], object],
                     expected: Callable[[object], int]):
    """Fill the database (``fill(ps)``, inside the app), run two ``send-due --now`` processes at once,
    and wait for ``expected(filled)`` pushes. Returns ``(app, filled, summaries, received)``."""
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "vapid_private.pem").write_text(VAPID_PEM)
    with PushService() as ps:
        app = create_app({"DATABASE_URL": pg_url, "SECRET_KEY": "race", "INSTANCE_PATH": str(instance)})
        init_db()
        with app.app_context(), db.connection_context():
            filled = fill(ps)
        summaries = two_send_due(now, {
            "COACH_DATABASE_URL": pg_url, "COACH_SECRET_KEY": "race", "COACH_INSTANCE_PATH": str(instance),
            "COACH_PUSH_ALLOWED_HOSTS": ps.host, "COACH_BASE_URL": "http://localhost", "COACH_PUSH_TIMEOUT": "10",
        })
        received = ps.wait_for(expected(filled), timeout=30)
    return app, filled, summaries, received


def two_send_due(now: datetime, env: dict[str, str], timeout: float = 180) -> list[dict]:
    """Start two ``flask send-due --now`` processes at once with ``env`` added to this one's;
    each must exit 0. Returns their JSON summaries."""
    command = [sys.executable, "-m", "flask", "--app", "coach", "send-due", "--now", now.isoformat()]
    procs = [subprocess.Popen(command, cwd=ROOT, env=os.environ | env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [proc.communicate(timeout=timeout) for proc in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    return [json.loads(out) for out, _err in outputs]
