"""Screenshots of the family worker's pages for docs/screenshots/ (real Chromium, Debian's build).

Run from the repository root:  .venv/bin/python scripts/screenshots_worker.py

It builds a temporary database with the starter library and scripts/demo_data.py's caseload, starts
the app with ``flask run`` on a free port, signs in as the demo worker and takes:
worker-caseload.png and worker-family.png (a support request and the contact log) at 1280×900,
worker-caseload-phone.png and worker-invite-share.png (a new invite with its share buttons) at 390×844.
"""
from __future__ import annotations

import os
import sys

from _live import OUT, ROOT, launch_chromium, run


def seed(env: dict) -> None:
    """Schema, starter library and the demo caseload."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "scripts"))
    sys.path.insert(0, str(ROOT))
    import demo_data

    demo_data.main()


def shoot(base: str) -> None:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "scripts"))
    import demo_data

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p)
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
                # The top of the page: signals, the support request, getting in touch and the contact log.
                page.screenshot(path=str(OUT / "worker-family.png"), full_page=True,
                                clip={"x": 0, "y": 0, "width": 1280, "height": 1500})
            else:
                page.goto(f"{base}/worker/invites")
                page.fill("#label", "Kim at Oak Road")
                page.click("text=Create invite link")
                page.wait_for_selector("[data-action=share-invite]:not([hidden])")
                page.screenshot(path=str(OUT / "worker-invite-share.png"))
            page.close()
        browser.close()


def main() -> None:
    run(seed, shoot, OUT)


if __name__ == "__main__":
    main()
