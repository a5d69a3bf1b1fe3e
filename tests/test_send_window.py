"""The number of pushes in flight follows the push service's answers (window.py): it backs off when
the service refuses, comes back when it copes, and nothing is lost on the way."""
from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from coach.models import Delivery
from coach.services.delivery.push import PushSender
from coach.services.delivery.sending import run_send_tick
from coach.services.delivery.window import InFlightWindow
from tests import factories
from tests.delivery_helpers import NOW, make_due, subscribe


def _answer(window: InFlightWindow, status: int | None, retryable: bool = False, seconds: float = 0.05) -> None:
    async def one() -> None:
        window.release(await window.acquire(), status, retryable, seconds)

    asyncio.run(one())


def test_the_window_shrinks_on_pushback_and_only_then():
    window = InFlightWindow(100)
    for status in (201, 404, 410, 400, 413):  # a gone device or one bad push says nothing about load
        _answer(window, status)
    assert window.limit == 100
    _answer(window, 429)
    assert window.limit == 75
    _answer(window, 503)
    _answer(window, None, retryable=True)  # a time-out
    assert window.limit < 50 and window.shrunk == 3
    _answer(window, None, retryable=False)  # nothing reached the service (e.g. a bad key): no signal
    assert window.shrunk == 3


def test_answers_to_pushes_sent_before_a_cut_do_not_cut_again():
    async def scenario() -> InFlightWindow:
        window = InFlightWindow(40)
        tokens = [await window.acquire() for _ in range(40)]  # a burst on the wire together
        for token in tokens:  # ... all refused: one round trip, one cut
            window.release(token, 429)
        return window

    window = asyncio.run(scenario())
    assert (window.limit, window.shrunk, window.in_flight) == (30, 1, 0)


def test_a_full_window_of_fast_answers_grows_back_but_never_past_the_maximum():
    async def scenario() -> InFlightWindow:
        window = InFlightWindow(8)
        window.limit = 4.0  # as if the service had pushed back earlier
        for _ in range(200):
            tokens = [await window.acquire() for _ in range(int(window.limit))]
            for token in tokens:
                window.release(token, 201, False, 0.05)
        return window

    assert asyncio.run(scenario()).limit == 8


def test_waiters_get_places_in_order_and_a_cancelled_waiter_gives_its_place_back():
    async def scenario() -> list[int]:
        window = InFlightWindow(1)
        order: list[int] = []
        first = await window.acquire()

        async def wait(n: int) -> None:
            window.release(await window.acquire(), 201, False, 0.05)
            order.append(n)

        tasks = [asyncio.create_task(wait(n)) for n in range(3)]
        await asyncio.sleep(0)
        tasks[1].cancel()
        window.release(first, 201, False, 0.05)
        await asyncio.gather(*tasks, return_exceptions=True)
        assert window.in_flight == 0
        return order

    assert asyncio.run(scenario()) == [0, 2]


def test_a_push_service_with_room_for_n_gets_about_n_and_every_prompt_arrives_once(push_app, ps):
    capacity, deliveries = 4, 120
    ps.delay = 0.03  # pushes overlap, so the sender can try more than the service takes
    ps.overload(capacity, headers={"Retry-After": "20"})
    push_app.config["PUSH_CONCURRENCY"] = 32
    endpoint_of = {}
    for i in range(deliveries):
        delivery = make_due(factories.make_family())
        sub, _row = subscribe(ps, delivery.family.user, f"family-{i}")
        endpoint_of[delivery.id] = sub.endpoint

    now, ticks, windows = NOW, 0, []
    while Delivery.select().where(Delivery.status != "sent").exists():
        ticks += 1
        assert ticks <= 40, Counter(d.status for d in Delivery.select())
        sender = PushSender.from_config(push_app.config)
        counts = run_send_tick(now, sender=sender)
        assert counts["failed"] == counts["expired"] == counts["no_device"] == 0
        windows.append(sender.window.limit)
        if ticks == 1:
            first_tick_pushes = len(ps.wait_for(counts["sent"] + counts["retrying"]))
        now += timedelta(seconds=30)  # past the Retry-After of the refused ones

    accepted = Counter(r.endpoint for r in ps.received if r.status == 201)
    assert accepted == Counter(endpoint_of.values())  # every prompt arrived, and only once
    assert all(capacity / 2 <= limit <= capacity * 2 for limit in windows)  # settled near what it takes
    # The first tick opens with 32 at once and learns; later ticks start where it left off, so the
    # service refuses only the odd probe past its capacity (keeping 32 in flight: 7 in 8 refused).
    first_refused = sum(1 for r in ps.received[:first_tick_pushes] if r.status == 429)
    later = ps.received[first_tick_pushes:]
    assert ps.refused - first_refused < len(later) / 3
