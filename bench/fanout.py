"""Fan-out benchmark: how fast one process pushes a day's prompts (bench/README.md "Fan-out").

    .venv/bin/python bench/fanout.py [--families 10000] [--delay 0.05] [--concurrency 128]

Three numbers, each against a loopback push service that adds ``--delay`` seconds to every answer
and runs in a separate process (sharing the client's process would cap both at ~450 msg/s on the
GIL). The service checks every request's headers, and fully verifies (ES256 VAPID signature, aud,
exp, sub, aes128gcm decryption) one request in ``--sample``; the client's work is never sampled.

1. Attune: ``run_send_tick()`` on SQLite with ``--families`` due deliveries (claim, payload, encrypt,
   send, record) — wall-clock pushes/s and client CPU per push.
2. A plain loop of ``pywebpush.webpush()`` (fresh claims, the Vapid object loaded once, no session):
   ``--plain`` calls timed, extrapolated to ``--families``.
3. The crypto ceiling: aes128gcm encryption + ES256 signing per message on one core, no I/O
   (pywebpush's ``WebPusher.encode`` + ``Vapid.sign``), and Attune's encryption alone (it signs
   once per push-service origin).

``--side-by-side 128,512`` instead measures only (1) and pywebpush's own ``webpush_async`` on one
aiohttp session at the same numbers in flight, interleaved for ``--rounds``, in one run.

``--phases`` adds client CPU per push by phase (claim, payload, encryption, record …, timed again
without the network); ``--profile`` prints a cProfile of the Attune run to stderr.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUBJECT = "mailto:bench@attune.example"


# --- the push service (child process) ------------------------------------------------------------

def serve(port_out, delay: float, samples: dict) -> None:
    """An aiohttp push service: 201 after ``delay``; every request's headers checked, pushes to the
    sampled subscriptions fully verified."""
    from aiohttp import web
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from tests.pushservice import PushService, TestSubscription, _Reject, b64url_decode

    keys = {}
    for name, (pem, auth) in samples.items():
        sub = TestSubscription("x")
        sub.private_key, sub.auth_secret = load_pem_private_key(pem, None), b64url_decode(auth)
        keys[name] = sub
    stats = {"received": 0, "verified": 0, "failed": 0, "errors": []}
    origin: dict = {}

    def verify(request, name: str, body: bytes) -> None:
        scheme, _, rest = request.headers["Authorization"].partition(" ")
        params = dict(part.strip().split("=", 1) for part in rest.split(","))
        claims = PushService._verify_signature(params["t"], params["k"])
        assert scheme == "vapid" and claims["aud"] == origin["url"], claims
        assert time.time() < claims["exp"] <= time.time() + 86400 and claims["sub"].startswith("mailto:")
        payload = json.loads(keys[name].decrypt(body))
        assert payload["delivery_id"] or payload["title"]

    async def push(request: web.Request) -> web.Response:
        body = await request.read()
        stats["received"] += 1
        name = request.match_info["name"]
        headers = request.headers
        ok = (headers.get("Content-Encoding") == "aes128gcm" and headers.get("TTL", "").isdigit()
              and headers.get("Authorization", "").startswith("vapid t=") and body)
        if ok and name in keys:
            try:
                verify(request, name, body)
                stats["verified"] += 1
            except (AssertionError, KeyError, ValueError, _Reject) as exc:
                ok = False
                stats["errors"].append(repr(exc)[:200])
        if not ok:
            stats["failed"] += 1
        await asyncio.sleep(delay)
        return web.Response(status=201 if ok else 400)

    async def get_stats(_request: web.Request) -> web.Response:
        return web.json_response(stats)

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/push/{name}", push)
        app.router.add_get("/stats", get_stats)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        origin["url"] = f"http://127.0.0.1:{port}"
        port_out.send(port)
        await asyncio.Event().wait()

    asyncio.run(main())


def server_stats(base_url: str) -> dict:
    import requests

    return requests.get(f"{base_url}/stats", timeout=5).json()


# --- data ----------------------------------------------------------------------------------------

def make_subscriptions(count: int, sample_every: int) -> tuple[list[tuple[str, str, str]], dict]:
    """(name, p256dh, auth) per family, and the private keys of the sampled ones for the service."""
    from cryptography.hazmat.primitives import serialization

    from tests.pushservice import TestSubscription

    subs, samples = [], {}
    for i in range(count):
        sub = TestSubscription(f"n{i}")
        name = f"s{i}"
        subs.append((name, sub.p256dh, sub.auth))
        if i % sample_every == 0:
            pem = sub.private_key.private_bytes(serialization.Encoding.PEM,
                                                serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption())
            samples[name] = (pem, sub.auth)
    return subs, samples


def fill_database(subs: list[tuple[str, str, str]], base_url: str, now: dt.datetime) -> None:
    """One published prompt, and per family: a parent, one device and a due pending delivery."""
    from coach.db import db
    from coach.models import Delivery, Family, Prompt, PushSubscription, User
    from coach.services.families.household import seat_main_contacts

    prompt = Prompt.create(theme="cues", skill="pause", title="Notice {child}'s cues",
                           body="When {child} looks away, pause and wait for them to come back.",
                           question="Did you wait?", answers=[{"label": "Yes", "tried": "yes"}],
                           status="published")
    with db.atomic():
        for start in range(0, len(subs), 500):
            chunk = subs[start:start + 500]
            User.insert_many([{"email": f"p{start + i}@bench.example", "password_hash": "x",
                               "role": "parent"} for i in range(len(chunk))]).execute()
        users = {u.email: u.id for u in User.select(User.id, User.email)}
        families = [{"user": users[f"p{i}@bench.example"], "display_name": f"P{i}", "child_name": "Sam",
                     "child_birth_month": "2026-03", "timezone": "Europe/London",
                     "window_start": "18:00", "window_end": "20:00"} for i in range(len(subs))]
        for start in range(0, len(families), 500):
            Family.insert_many(families[start:start + 500]).execute()
        seat_main_contacts()  # each family's parent is its one caregiver: pushes reach their devices
        family_ids = {f.user_id: f.id for f in Family.select(Family.id, Family.user)}
        rows, deliveries = [], []
        for i, (name, p256dh, auth) in enumerate(subs):
            user_id = users[f"p{i}@bench.example"]
            rows.append({"user": user_id, "endpoint": f"{base_url}/push/{name}", "p256dh": p256dh,
                         "auth": auth})
            deliveries.append({"family": family_ids[user_id], "local_date": now.date(), "prompt": prompt.id,
                               "prompt_version": 1, "theme": "cues", "due_at": now, "next_attempt_at": now,
                               "expires_at": now + dt.timedelta(hours=4)})
        for start in range(0, len(rows), 500):
            PushSubscription.insert_many(rows[start:start + 500]).execute()
            Delivery.insert_many(deliveries[start:start + 500]).execute()


# --- the three measurements ----------------------------------------------------------------------

def bench_attune(app, families: int, profile: bool) -> dict:
    from coach.models import Delivery
    from coach.services.delivery.sending import run_send_tick

    started, cpu = time.perf_counter(), time.process_time()
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        counts = profiler.runcall(run_send_tick)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(45)
    else:
        counts = run_send_tick()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    sent = Delivery.select().where(Delivery.status == "sent").count()
    return {"counts": counts, "sent_in_db": sent, "wall_s": round(wall, 2),
            "pushes_per_s": round(families / wall), "client_cpu_us_per_push": round(cpu / families * 1e6)}


def bench_phases(app, now: dt.datetime) -> dict:
    """Client CPU per push by phase, no network: the deliveries are claimed again and re-recorded."""
    from coach.models import Delivery
    from coach.services.delivery import push
    from coach.services.delivery import sending as engine

    Delivery.update(status="pending", lease_until=None).execute()
    sender = push.PushSender.from_config(app.config)
    allowed = app.config["PUSH_ALLOWED_HOSTS"]
    phases, n = {}, Delivery.select().count()

    def timed(name, work):
        cpu = time.process_time()
        result = work()
        phases[name] = round((time.process_time() - cpu) / n * 1e6, 1)
        return result

    batches = timed("claim", lambda: [b for b in iter(lambda: engine.claim_batch(now, 1000, 600), [])])
    claimed = [d for batch in batches for d in batch]
    devices = timed("subscriptions", lambda: [engine._subscriptions_by_user({d.family.user_id for d in b})
                                              for b in batches])
    device = {user: subs[0] for found in devices for user, subs in found.items()}
    data = timed("payload", lambda: [push.encode_payload(push.build_payload(d)) for d in claimed])
    timed("host check", lambda: [push.host_allowed(device[d.family.user_id][1], allowed) for d in claimed])
    messages = [push.PushMessage(*device[d.family.user_id][1:], body, topic=push.delivery_tag(d))
                for d, body in zip(claimed, data, strict=True)]
    timed("encrypt + headers", lambda: [sender.prepare(m) for m in messages])
    outcomes = [engine.DeliveryOutcome(d, [engine.SubscriptionResult(device[d.family.user_id][0], "x", 201,
                                                                     kind="ok")]) for d in claimed]
    timed("record", lambda: engine.record_outcomes(outcomes, now))
    return phases


def bench_plain(subs, base_url: str, pem: str, n: int, families: int) -> dict:
    from py_vapid import Vapid
    from pywebpush import webpush

    vapid = Vapid.from_pem(pem.encode())
    data = json.dumps({"title": "Notice Sam's cues", "body": "x" * 60, "delivery_id": 1})
    started = time.perf_counter()
    for name, p256dh, auth in subs[:n]:
        webpush({"endpoint": f"{base_url}/push/{name}", "keys": {"p256dh": p256dh, "auth": auth}}, data,
                vapid_private_key=vapid, vapid_claims={"sub": SUBJECT}, ttl=3600, timeout=10,
                headers={"Urgency": "normal", "Topic": "attune-bench"})
    wall = time.perf_counter() - started
    rate = n / wall
    return {"n": n, "wall_s": round(wall, 2), "pushes_per_s": round(rate, 1),
            "extrapolated_s_for_all": round(families / rate)}


def bench_webpush_async(subs, base_url: str, pem: str, concurrency: int) -> dict:
    """pywebpush's own ``webpush_async`` on one aiohttp session, ``concurrency`` in flight: what a
    well-written sender gets from the library (no database: the messages are ready)."""
    import aiohttp
    from py_vapid import Vapid
    from pywebpush import webpush_async

    vapid = Vapid.from_pem(pem.encode())
    data = json.dumps({"title": "Notice Sam's cues", "body": "x" * 60, "delivery_id": 1})
    work = iter(subs)
    statuses: dict[int, int] = {}

    async def worker(session) -> None:
        for name, p256dh, auth in work:
            response = await webpush_async(
                {"endpoint": f"{base_url}/push/{name}", "keys": {"p256dh": p256dh, "auth": auth}}, data,
                vapid_private_key=vapid, vapid_claims={"sub": SUBJECT}, ttl=3600, timeout=10,
                headers={"Urgency": "normal", "Topic": "attune-bench"}, aiohttp_session=session)
            statuses[response.status] = statuses.get(response.status, 0) + 1

    async def run() -> None:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            await asyncio.gather(*(worker(session) for _ in range(concurrency)))

    started, cpu = time.perf_counter(), time.process_time()
    asyncio.run(run())
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"statuses": statuses, "wall_s": round(wall, 2), "pushes_per_s": round(len(subs) / wall),
            "client_cpu_us_per_push": round(cpu / len(subs) * 1e6)}


def side_by_side(app, subs, base_url: str, pem: str, concurrencies: list[int], rounds: int) -> list[dict]:
    """Attune's ``run_send_tick`` (claim, build, encrypt, send, record on SQLite) and ``webpush_async``
    at the same numbers in flight, interleaved in one run against the same push service."""
    from coach.models import Delivery, utcnow

    rows = []
    for _round in range(rounds):
        for concurrency in concurrencies:
            now = utcnow() - dt.timedelta(minutes=1)
            Delivery.update(status="pending", attempts=0, lease_until=None, sent_at=None, next_attempt_at=now,
                            due_at=now, expires_at=now + dt.timedelta(hours=4)).execute()
            app.config["PUSH_CONCURRENCY"] = concurrency
            attune = bench_attune(app, len(subs), profile=False)
            library = bench_webpush_async(subs, base_url, pem, concurrency)
            rows.append({"in_flight": concurrency, "attune": attune, "webpush_async": library,
                         "ratio": round(attune["pushes_per_s"] / library["pushes_per_s"], 2),
                         "ceiling": round(concurrency / float(app.config.get("BENCH_DELAY", 0.05)))})
    return rows


def side_by_side_medians(rows: list[dict]) -> dict:
    """Per number in flight: median pushes/s of each, the median of the rounds' ratios, and Attune's
    median as a share of the in-flight ceiling."""
    from statistics import median

    out = {}
    for level in sorted({r["in_flight"] for r in rows}):
        mine = [r for r in rows if r["in_flight"] == level]
        attune = median(r["attune"]["pushes_per_s"] for r in mine)
        out[level] = {"attune_pushes_per_s": attune,
                      "webpush_async_pushes_per_s": median(r["webpush_async"]["pushes_per_s"] for r in mine),
                      "ratio": median(r["ratio"] for r in mine),
                      "attune_share_of_ceiling": round(attune / mine[0]["ceiling"], 3)}
    return out


def bench_crypto(subs, pem: str, n: int) -> dict:
    """Encryption + ES256 signing per message, one core, no I/O: pywebpush's way and Attune's."""
    from py_vapid import Vapid
    from pywebpush import WebPusher

    from coach.services.delivery.push import encrypt_payload

    vapid = Vapid.from_pem(pem.encode())
    data = json.dumps({"title": "Notice Sam's cues", "body": "x" * 120, "delivery_id": 1}).encode()
    infos = [{"endpoint": "https://push.example/x", "keys": {"p256dh": p, "auth": a}} for _n, p, a in subs[:n]]
    started = time.perf_counter()
    for info in infos:
        WebPusher(info).encode(data, "aes128gcm")
        vapid.sign({"sub": SUBJECT, "aud": "https://push.example", "exp": int(time.time()) + 3600})
    wall = time.perf_counter() - started
    started = time.perf_counter()
    for _name, p256dh, auth in subs[:n]:
        encrypt_payload(data, p256dh, auth)  # Attune signs once per origin, so no signing here
    ours = time.perf_counter() - started
    return {"n": len(infos), "us_per_msg": round(wall / len(infos) * 1e6), "msgs_per_s": round(len(infos) / wall),
            "attune_encrypt_us_per_msg": round(ours / len(infos) * 1e6),
            "attune_encrypt_msgs_per_s": round(len(infos) / ours)}


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "date": dt.date.today().isoformat()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=10_000)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds the push service adds")
    parser.add_argument("--concurrency", type=int, default=128, help="PUSH_CONCURRENCY for Attune")
    parser.add_argument("--plain", type=int, default=200, help="webpush() calls in the plain loop")
    parser.add_argument("--crypto", type=int, default=2000, help="messages for the crypto ceiling")
    parser.add_argument("--sample", type=int, default=50, help="fully verify one request in N")
    parser.add_argument("--profile", action="store_true", help="cProfile the Attune run")
    parser.add_argument("--phases", action="store_true", help="also time each phase without network")
    parser.add_argument("--side-by-side", default="", metavar="N,M",
                        help="only Attune and pywebpush's webpush_async at these numbers in flight, interleaved")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of --side-by-side")
    args = parser.parse_args()

    from py_vapid import Vapid

    from coach import create_app
    from coach.db import db, init_db

    subs, samples = make_subscriptions(args.families, args.sample)
    ctx = multiprocessing.get_context("spawn")
    port_in, port_out = ctx.Pipe(duplex=False)
    server = ctx.Process(target=serve, args=(port_out, args.delay, samples), daemon=True)
    server.start()
    base_url = f"http://127.0.0.1:{port_in.recv()}"
    key = Vapid()
    key.generate_keys()
    pem = key.private_pem().decode()
    report = {"machine": machine(), "families": args.families, "delay_ms": args.delay * 1000,
              "concurrency": args.concurrency}
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/bench.db", "INSTANCE_PATH": tmp,
                          "SECRET_KEY": "bench", "BASE_URL": "https://attune.example",
                          "VAPID_PRIVATE_KEY": pem, "VAPID_SUBJECT": SUBJECT,
                          "PUSH_ALLOWED_HOSTS": base_url.removeprefix("http://"),
                          "PUSH_CONCURRENCY": args.concurrency, "PUSH_TIMEOUT": 10})
        init_db()
        with app.app_context(), db.connection_context():
            fill_database(subs, base_url, dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=1))
            if args.side_by_side:
                app.config["BENCH_DELAY"] = args.delay
                levels = [int(n) for n in args.side_by_side.split(",")]
                load = os.getloadavg()
                rows = side_by_side(app, subs, base_url, pem, levels, args.rounds)
                print(json.dumps({"machine": machine(), "families": args.families, "delay_ms": args.delay * 1000,
                                  "load_before_after": [load, os.getloadavg()], "side_by_side": rows,
                                  "medians": side_by_side_medians(rows), "service": server_stats(base_url)},
                                 indent=2))
                server.terminate()
                return
            report["attune"] = bench_attune(app, args.families, args.profile)
            if args.phases:
                phases = bench_phases(app, dt.datetime.now(dt.UTC).replace(tzinfo=None))
                phases["HTTP, the event loop and the rest"] = round(
                    report["attune"]["client_cpu_us_per_push"] - sum(phases.values()), 1)
                report["client_cpu_us_by_phase"] = phases
    report["service_after_attune"] = server_stats(base_url)
    report["plain_webpush_loop"] = bench_plain(subs, base_url, pem, args.plain, args.families)
    report["crypto_ceiling_one_core"] = bench_crypto(subs, pem, args.crypto)
    stats = server_stats(base_url)
    report["service_total"] = {k: stats[k] for k in ("received", "verified", "failed")}
    server.terminate()
    attune, plain = report["attune"]["pushes_per_s"], report["plain_webpush_loop"]["pushes_per_s"]
    report["speedup_vs_plain"] = round(attune / plain, 1)
    report["goals_met"] = {"1000_per_s": attune >= 1000, "50x_plain": attune >= 50 * plain}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
