"""Self-tests for the loopback push service, driven by pywebpush itself."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid
from py_vapid import jwt as vapid_jwt
from pywebpush import WebPusher, WebPushException, webpush, webpush_async

from tests.pushservice import PushService, Received, TestSubscription, b64url_encode

SUB = "mailto:test@example.org"
HEADERS = {"Urgency": "normal", "Topic": "t1"}


@pytest.fixture(scope="module")
def vapid() -> Vapid:
    """One VAPID key for the module: generating it per test buys nothing."""
    key = Vapid()
    key.generate_keys()
    return key


@pytest.fixture
def ps() -> Iterator[PushService]:
    """A fresh service per test, so scripts and received pushes never leak between tests."""
    with PushService() as service:
        yield service


def claims() -> dict[str, Any]:
    """A fresh claims dict: webpush() writes aud/exp into the one it is given."""
    return {"sub": SUB}


def send(sub: TestSubscription, vapid: Vapid, data: Any, **kw: Any) -> requests.Response:
    """webpush() with the arguments the app is expected to use."""
    args: dict[str, Any] = {
        "vapid_private_key": vapid,
        "vapid_claims": claims(),
        "ttl": 60,
        "timeout": 5,
        "headers": dict(HEADERS),
    }
    args.update(kw)
    return webpush(sub.info(), json.dumps(data) if not isinstance(data, str) else data, **args)


def public_b64(key: Vapid) -> str:
    """The VAPID public key as the k= parameter carries it."""
    point = key.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url_encode(point)


def vapid_auth(signer: Vapid, jwt_claims: dict[str, Any], shown: Vapid | None = None) -> str:
    """An RFC 8292 Authorization header signed by *signer*, naming *shown*'s public key."""
    token = vapid_jwt.sign(jwt_claims, signer.private_key)  # raw sign: no client-side claim checks
    return f"vapid t={token}, k={public_b64(shown or signer)}"


def send_raw(
    ps: PushService,
    sub: TestSubscription,
    vapid: Vapid,
    drop: tuple[str, ...] = (),
    **extra: str,
) -> Received:
    """POST a correctly encrypted, signed push by hand, minus *drop* headers, plus *extra*."""
    body = WebPusher(sub.info()).encode(b'{"raw": true}', "aes128gcm")["body"]
    hdrs = {
        "TTL": "60",
        "Content-Encoding": "aes128gcm",
        **Vapid.sign(vapid, {"sub": SUB, "aud": ps.base_url}),
    }
    for name in drop:
        hdrs.pop(name)
    hdrs.update(extra)
    before = len(ps.received)
    requests.post(sub.endpoint, data=body, headers=hdrs, timeout=5)
    return ps.wait_for(before + 1)[-1]


# -- happy path ------------------------------------------------------------


def test_push_is_decrypted_to_exact_json(ps: PushService, vapid: Vapid) -> None:
    sub = ps.subscribe("alice")
    data = {"title": "Zeit für Hausaufgaben", "navigate": "/today", "n": [1, 2.5, None]}
    resp = send(sub, vapid, data)

    assert resp.status_code == 201
    assert resp.headers["Location"].startswith(f"{ps.base_url}/message/")
    (rec,) = ps.wait_for(1)
    assert rec.endpoint == f"{ps.base_url}/push/alice"
    assert rec.status == 201 and rec.error is None
    assert rec.payload == json.dumps(data).encode()
    assert rec.json() == data


def test_claims_and_headers_are_recorded(ps: PushService, vapid: Vapid) -> None:
    sub = ps.subscribe()
    send(sub, vapid, {"x": 1})
    (rec,) = ps.wait_for(1)

    assert rec.claims is not None
    assert rec.claims["aud"] == ps.base_url == f"http://{ps.host}"
    assert rec.claims["sub"] == SUB
    assert 0 < rec.claims["exp"] - time.time() <= 24 * 3600
    assert (rec.ttl, rec.urgency, rec.topic) == (60, "normal", "t1")
    assert rec.headers["content-encoding"] == "aes128gcm"
    assert rec.headers["authorization"].startswith("vapid t=")


def test_legacy_webpush_authorization_is_accepted(ps: PushService, vapid: Vapid) -> None:
    sub = ps.subscribe()
    token = vapid_jwt.sign(
        {"sub": SUB, "aud": ps.base_url, "exp": int(time.time()) + 600},
        vapid.private_key,
    )
    legacy = {
        "Authorization": f"WebPush {token}",
        "Crypto-Key": f"dh=unused;p256ecdsa={public_b64(vapid)}",
    }  # draft-era VAPID form
    rec = send_raw(ps, sub, vapid, **legacy)
    assert rec.status == 201, rec.error
    assert rec.json() == {"raw": True}


def test_delay_is_added_to_every_answer(vapid: Vapid) -> None:
    """Two sends from two threads are both held by the service at once: each answer waits out the
    delay (asserted as concurrency, not wall time, so load on the machine cannot fail it)."""
    with PushService(delay=3600) as ps:
        sub = ps.subscribe()
        with ThreadPoolExecutor(max_workers=2) as pool:
            sends = [pool.submit(send, sub, vapid, {"i": i}) for i in range(2)]
            assert ps.wait_in_flight(2) == 2 and ps.received == []  # neither answered yet
            ps.close()  # cuts the delay short, as at the end of a benchmark
            for future in sends:
                with pytest.raises(requests.exceptions.ConnectionError):
                    future.result()


# -- scripted answers ------------------------------------------------------


@pytest.mark.parametrize(("status", "headers"), [(410, None), (429, {"Retry-After": "120"}), (500, None)])
def test_scripted_status_raises(
    ps: PushService, vapid: Vapid, status: int, headers: dict[str, str] | None
) -> None:
    sub = ps.subscribe()
    ps.respond(status, times=1, headers=headers)

    with pytest.raises(WebPushException) as info:
        send(sub, vapid, {"n": 1})
    assert info.value.response is not None
    assert info.value.response.status_code == status
    if headers:
        assert info.value.response.headers["Retry-After"] == "120"
    assert send(sub, vapid, {"n": 2}).status_code == 201  # times=1 was used up

    first, second = ps.wait_for(2)
    assert (first.status, second.status) == (status, 201)
    assert first.json() == {"n": 1}  # still decrypted: the test can see what was refused


def test_scripted_status_for_one_endpoint_only(ps: PushService, vapid: Vapid) -> None:
    gone, alive = ps.subscribe("gone"), ps.subscribe("alive")
    ps.respond(410, endpoint=gone.endpoint)  # times=None: until changed

    for _ in range(2):
        with pytest.raises(WebPushException) as info:
            send(gone, vapid, {})
        assert info.value.response.status_code == 410
        assert send(alive, vapid, {}).status_code == 201

    ps.reset()
    assert ps.received == []
    assert send(gone, vapid, {}).status_code == 201


def test_stall_makes_the_client_time_out(ps: PushService, vapid: Vapid) -> None:
    sub = ps.subscribe()
    ps.stall(3600, times=1)

    with pytest.raises(requests.exceptions.Timeout):
        send(sub, vapid, {}, timeout=0.3)
    assert ps.in_flight == 1 and ps.received == []  # the client gave up; the service still holds it
    assert send(sub, vapid, {}, timeout=30).status_code == 201  # the stall was used up
    ps.release()
    assert [r.status for r in ps.wait_for(2)] == [201, 201]


def test_hold_keeps_one_endpoints_answers_until_released(ps: PushService, vapid: Vapid) -> None:
    held, free = ps.subscribe("held"), ps.subscribe("free")
    ps.hold(endpoint=held.endpoint)
    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(send, held, vapid, {"n": 1})
        ps.wait_in_flight(1)
        assert send(free, vapid, {"n": 2}).status_code == 201
        assert [r.endpoint for r in ps.wait_for(1)] == [free.endpoint] and not waiting.done()
        ps.release()
        assert waiting.result().status_code == 201
    assert ps.peak_in_flight == 2


# -- rejections ------------------------------------------------------------


def test_reused_claims_dict_carries_the_wrong_aud(vapid: Vapid) -> None:
    shared = {"sub": SUB}  # the bug FIELD-NOTES warns about: webpush() stores aud in here
    with PushService() as first, PushService() as second:
        webpush(
            first.subscribe().info(),
            "{}",
            vapid_private_key=vapid,
            vapid_claims=shared,
            ttl=60,
            timeout=5,
        )
        with pytest.raises(WebPushException) as info:
            webpush(
                second.subscribe().info(),
                "{}",
                vapid_private_key=vapid,
                vapid_claims=shared,
                ttl=60,
                timeout=5,
            )

        assert info.value.response.status_code == 403
        (rec,) = second.wait_for(1)
        assert rec.status == 403
        assert rec.claims is not None and rec.claims["aud"] == first.base_url
        assert "aud" in (rec.error or "")
        assert "aud" in info.value.response.text


def test_bad_signature_is_rejected(ps: PushService, vapid: Vapid) -> None:
    other = Vapid()
    other.generate_keys()
    sub = ps.subscribe()
    auth = vapid_auth(
        vapid,
        {"sub": SUB, "aud": ps.base_url, "exp": int(time.time()) + 600},
        shown=other,
    )

    with pytest.raises(WebPushException) as info:
        webpush(sub.info(), "{}", ttl=60, timeout=5, headers={"Authorization": auth})
    assert info.value.response.status_code == 403
    (rec,) = ps.wait_for(1)
    assert rec.error == "bad JWT signature" and rec.claims is None and rec.payload is None


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"exp": -10}, "expired"),
        ({"exp": 2 * 24 * 3600}, "ahead"),
        ({"sub": "test@example.org"}, "sub"),
    ],
)
def test_bad_claims_are_rejected(
    ps: PushService, vapid: Vapid, override: dict[str, Any], reason: str
) -> None:
    sub = ps.subscribe()
    jwt_claims = {"sub": SUB, "aud": ps.base_url, "exp": int(time.time()) + 600}
    jwt_claims.update(override)
    if "exp" in override:
        jwt_claims["exp"] = int(time.time()) + override["exp"]
    rec = send_raw(ps, sub, vapid, Authorization=vapid_auth(vapid, jwt_claims))
    assert rec.status == 403
    assert reason in (rec.error or "")


def test_missing_authorization_is_rejected(ps: PushService, vapid: Vapid) -> None:
    rec = send_raw(ps, ps.subscribe(), vapid, drop=("Authorization",))
    assert (rec.status, rec.error) == (
        403,
        "missing or unsupported Authorization header",
    )


@pytest.mark.parametrize(
    ("drop", "extra", "status", "reason"),
    [
        (("TTL",), {}, 400, "missing TTL header"),
        ((), {"Content-Encoding": "aesgcm"}, 400, "Content-Encoding"),
        ((), {"Topic": "x" * 33}, 400, "Topic"),
        ((), {"Urgency": "urgent"}, 400, "Urgency"),
    ],
)
def test_bad_headers_are_rejected(
    ps: PushService,
    vapid: Vapid,
    drop: tuple[str, ...],
    extra: dict[str, str],
    status: int,
    reason: str,
) -> None:
    rec = send_raw(ps, ps.subscribe(), vapid, drop=drop, **extra)
    assert rec.status == status
    assert reason in (rec.error or "")
    assert rec.payload is None


def test_undecryptable_body_is_rejected(ps: PushService, vapid: Vapid) -> None:
    sub, stranger = ps.subscribe(), ps.subscribe()
    stranger.endpoint = sub.endpoint  # encrypted for the wrong keys, sent to sub's endpoint
    with pytest.raises(WebPushException) as info:
        send(stranger, vapid, {"secret": 1})
    assert info.value.response.status_code == 400
    (rec,) = ps.wait_for(1)
    assert rec.payload is None and (rec.error or "").startswith("cannot decrypt")


def test_oversized_payload_is_rejected(ps: PushService, vapid: Vapid) -> None:
    with pytest.raises(WebPushException) as info:
        send(ps.subscribe(), vapid, "x" * 4000)  # over 4096 bytes once encrypted
    assert info.value.response.status_code == 413


def test_unknown_subscription_is_404(ps: PushService, vapid: Vapid) -> None:
    ghost = TestSubscription(f"{ps.base_url}/push/nobody")
    with pytest.raises(WebPushException) as info:
        send(ghost, vapid, {})
    assert info.value.response.status_code == 404
    assert ps.wait_for(1)[0].error == "unknown subscription"


def test_only_post_is_allowed(ps: PushService) -> None:
    resp = requests.get(f"{ps.base_url}/push/x", timeout=5)
    assert resp.status_code == 405
    assert ps.received == []


# -- concurrency -----------------------------------------------------------


def test_fifty_concurrent_sends_all_arrive(ps: PushService, vapid: Vapid) -> None:
    subs = [ps.subscribe() for _ in range(50)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda i: send(subs[i], vapid, {"i": i}).status_code, range(50)))

    assert statuses == [201] * 50
    got = ps.wait_for(50)
    assert sorted(r.json()["i"] for r in got) == list(range(50))
    assert {r.endpoint: r.json()["i"] for r in got} == {s.endpoint: i for i, s in enumerate(subs)}


def test_pooled_session_keeps_one_connection(ps: PushService, vapid: Vapid) -> None:
    sub = ps.subscribe()
    with requests.Session() as session:
        for i in range(10):
            send(sub, vapid, {"i": i}, requests_session=session)
        assert len(ps._connections) == 1  # HTTP/1.1 keep-alive: one socket for all ten
    assert [r.json()["i"] for r in ps.wait_for(10)] == list(range(10))


def test_aiohttp_with_many_in_flight(vapid: Vapid) -> None:
    async def run(ps: PushService, subs: list[TestSubscription]) -> list[int]:
        conn = aiohttp.TCPConnector(limit=32)
        async with aiohttp.ClientSession(connector=conn) as session:
            responses = await asyncio.gather(
                *(
                    webpush_async(
                        s.info(),
                        json.dumps({"i": i}),
                        vapid_private_key=vapid,
                        vapid_claims=claims(),
                        ttl=60,
                        timeout=5,
                        headers=dict(HEADERS),
                        aiohttp_session=session,
                    )
                    for i, s in enumerate(subs)
                )
            )
        return [r.status for r in responses]

    with PushService() as ps:
        subs = [ps.subscribe() for _ in range(64)]
        ps.hold()  # every answer waits, so the client must put many on the wire to get any back
        with ThreadPoolExecutor(max_workers=1) as pool:
            running = pool.submit(asyncio.run, run(ps, subs))
            try:
                in_flight = ps.wait_in_flight(32)  # the connector's limit, all on the wire at once
            finally:
                ps.release()
            statuses = running.result(timeout=60)
        assert in_flight == 32 and ps.peak_in_flight == 32  # overlapped, and never past the limit
        assert statuses == [201] * 64
        assert sorted(r.json()["i"] for r in ps.wait_for(64)) == list(range(64))
