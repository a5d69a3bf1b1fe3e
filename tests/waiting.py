"""Waiting for something a background process or thread will do, without timing it: poll until it
holds, and give up (a hang guard, not a speed goal) after a generous ``timeout``."""
from __future__ import annotations

import time


def wait_until(check, timeout: float = 20.0, interval: float = 0.05, what: str | None = None):
    """Poll ``check()`` until it returns something truthy and return that; after ``timeout``
    seconds raise AssertionError naming ``what`` (or the check)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what or getattr(check, '__name__', check)}")
        time.sleep(interval)
