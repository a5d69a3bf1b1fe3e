"""How many pushes may be in flight at once, adapted to the push service's answers (AIMD).

A push service that is coping answers 2xx quickly; one that is not answers 429 or 5xx, or stops
answering in time. The window starts at ``PUSH_CONCURRENCY`` (the most this sender will ever put on
the wire) and, like TCP's congestion window:

- **shrinks** by a quarter on a 429, a 5xx, a time-out or a failed connection — at most once per
  round trip: answers to pushes that were already on the wire when it shrank say nothing new;
- **grows** by one push per window's worth of fast 2xx answers (``1 / limit`` each) while the window
  is in use, never past the maximum. "Fast" is within ``FAST_FACTOR`` of the quickest answer seen,
  so a slowing service stops the growth before it starts refusing;
- anything else (404/410 for a gone device, 400/403/413 for one bad push) leaves it as it is: that
  is about one subscription, not about the service's load.

A refused push is not lost: the delivery is recorded as retrying (with the service's Retry-After)
and sent by a later tick. A tick starts where the process's last tick left off
(``sending.run_send_tick`` keeps it on the app), so a scheduler does not open every tick with a
burst the service refuses; ``send-due`` starts at the maximum.
"""
from __future__ import annotations

import asyncio
from collections import deque

DECREASE = 0.75  # multiplicative decrease: keep three quarters
FAST_FACTOR = 2.0  # an answer within twice the quickest seen counts as fast


def congested(status: int | None, retryable: bool) -> bool:
    """An answer that says the push service (or the way to it) is overloaded."""
    if status is None:
        return retryable  # time-out or connection failure; a bad key never reached the service
    return status == 429 or status >= 500


class InFlightWindow:
    """An asyncio limit on pushes in flight whose size follows the answers (see module doc).

    ``token = await window.acquire()`` before a push, ``window.release(token, status, retryable,
    seconds)`` after its answer (``release(token)`` alone when nothing was sent). One event loop.
    """

    __slots__ = ("maximum", "minimum", "limit", "in_flight", "fastest", "shrunk", "_started",
                 "_cut_after", "_waiters")

    def __init__(self, maximum: int, minimum: int = 1, start: float | None = None) -> None:
        self.maximum = max(1, int(maximum))
        self.minimum = max(1, min(int(minimum), self.maximum))
        self.limit = float(self.maximum) if start is None else min(max(start, self.minimum), self.maximum)
        self.in_flight = 0
        self.fastest: float | None = None
        self.shrunk = 0  # how many times the service pushed back this tick
        self._started = 0  # pushes started so far: tells which answers predate the last cut
        self._cut_after = 0
        self._waiters: deque[asyncio.Future] = deque()

    async def acquire(self) -> tuple[int, bool]:
        """Wait for a free place; returns a token for ``release``."""
        if self.in_flight >= int(self.limit) or self._waiters:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():  # granted as we were cancelled: give back
                    self.in_flight -= 1
                    self._wake()
                else:
                    self._waiters.remove(waiter)
                raise
        else:
            self.in_flight += 1
        self._started += 1
        return self._started, self.in_flight >= int(self.limit) or bool(self._waiters)

    def release(self, token: tuple[int, bool], status: int | None = None, retryable: bool = False,
                seconds: float | None = None) -> None:
        """Free the place and learn from the answer (``status`` None and not ``retryable``: nothing
        was learnt, e.g. the push could not be encrypted)."""
        self.in_flight -= 1
        started, full = token
        if congested(status, retryable):
            if started > self._cut_after:  # once per round trip
                self.limit = max(float(self.minimum), self.limit * DECREASE)
                self._cut_after = self._started
                self.shrunk += 1
        elif status is not None and 200 <= status < 300 and seconds is not None:
            if self.fastest is None or seconds < self.fastest:
                self.fastest = seconds
            if full and seconds <= self.fastest * FAST_FACTOR and self.limit < self.maximum:
                self.limit = min(float(self.maximum), self.limit + 1 / self.limit)
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_flight < int(self.limit):
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(None)
