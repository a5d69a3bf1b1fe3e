"""Screenshots of the family worker's pages for docs/screenshots/ (real Chromium, Debian's build).

Run from the repository root:  .venv/bin/python scripts/screenshots_worker.py

It builds a temporary database with the starter library and scripts/demo_data.py's caseload, starts
the app with ``flask run`` on a free port, signs in as the demo worker and takes:
worker-caseload.png and worker-family.png at 1280×900, worker-caseload-phone.png at 390×844.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(env: dict) -> None:
    """Schema, starter library and the demo caseload."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "scripts"))
    sys.path.insert(0, str(ROOT))
    import demo_data

    demo_data.main()


def wait_for(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(.1)
    raise SystemExit(f"the server at {url} didn't start")


def shoot(base: str) -> None:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "scripts"))
    import demo_data

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for name, viewport in (("", {"width": 1280, "height": 900}), ("-phone", {"width": 390, "height": 844})):
            page = browser.new_page(viewport=viewport, device_scale_factor=1)
            page.goto(f"{base}/login")
            page.fill("#email", demo_data.WORKER_EMAIL)
            page.fill("#password", demo_data.PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/worker/")
            page.screenshot(path=str(OUT / f"worker-caseload{name}.png"))
            if not name:
                page.click("text=Aisha Rahman")
                page.wait_for_load_state()
                page.screenshot(path=str(OUT / "worker-family.png"))
            page.close()
        browser.close()


def main() -> None:
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
    print(f"Screenshots written to {OUT.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
