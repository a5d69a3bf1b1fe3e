"""What the screenshot scripts share: a temporary database, the app under ``flask run`` on a free
port, and Debian's Chromium (headless) driven by Playwright."""
from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(.1)
    raise SystemExit(f"the server at {url} didn't start")


def launch_chromium(playwright):
    """Debian's Chromium, headless."""
    return playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)


def run(seed: Callable[[dict], None], shoot: Callable[[str], None], out: Path = OUT) -> None:
    """``seed(env)`` a temporary database (``env`` holds its ``COACH_*`` settings), serve the app from
    it with ``flask run`` on a free port, then ``shoot(base_url)``; the server is stopped afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {"COACH_DATABASE_URL": f"sqlite:///{tmp}/attune.db", "COACH_INSTANCE_PATH": f"{tmp}/instance",
               "COACH_SECRET_KEY": "screenshots-only"}
        Path(env["COACH_INSTANCE_PATH"]).mkdir()
        seed(env)
        port = free_port()
        server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "flask"), "--app", "coach", "run",
                                   "--port", str(port)], cwd=ROOT, env=os.environ | env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(f"http://127.0.0.1:{port}/healthz")
            shoot(f"http://127.0.0.1:{port}")
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"Screenshots written to {out.relative_to(ROOT)}/")
