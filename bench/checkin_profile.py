"""Where a check-in's CPU goes: the check-in wave's GET + POST pair, in-process, under cProfile.

Builds a store with the wave's own builders (``bench/checkin_wave.py``: ``seed``, ``sign_in``),
then runs ``--pairs`` pairs — ``GET /checkin/<id>`` then ``POST /api/checkins`` — straight through
the app's WSGI callable (no server, no sockets: what is left is the app's own cost) and prints the
CPU µs per pair (``time.process_time``, unprofiled, best of ``--rounds``) and the top functions by
cumulative and by own time from a profiled run. The CPU per pair is the number that other load on
a shared machine leaves mostly alone.

    .venv/bin/python bench/checkin_profile.py [--stores sqlite,postgres] [--families 400] [--days 20]
        [--pairs 300] [--rounds 3] [--top 35] [--postgres postgresql://postgres@127.0.0.1:5432]
        [--pg-socket /var/run/postgresql]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from checkin_wave import CLIENT_UA, checkin_body, load_average, seed, sign_in, store  # noqa: E402


def wsgi_pairs(app, signed: list[tuple[str, str, int]]) -> None:
    """One GET + POST pair per signed-in parent, through the WSGI callable as gunicorn calls it."""
    from werkzeug.test import EnvironBuilder

    def call(builder: EnvironBuilder) -> int:
        environ = builder.get_environ()
        builder.close()
        status = []
        body = app.wsgi_app(environ, lambda s, _h, _e=None: status.append(s))
        try:
            for _chunk in body:
                pass
        finally:
            if hasattr(body, "close"):
                body.close()
        return int(status[0].split()[0])

    for cookie, csrf, delivery_id in signed:  # REMOTE_ADDR is 127.0.0.1, as sign_in's
        headers = {"Cookie": f"session={cookie}", "User-Agent": CLIENT_UA}
        got = call(EnvironBuilder(path=f"/checkin/{delivery_id}", headers=headers))
        assert got == 200, got
        posted = call(EnvironBuilder(path="/api/checkins", method="POST", data=json.dumps(checkin_body(delivery_id)),
                                     content_type="application/json", headers=headers | {"X-CSRFToken": csrf}))
        assert posted == 201, posted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--families", type=int, default=400)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--pg-socket", default="", help="reach PostgreSQL by its Unix socket in this directory")
    args = parser.parse_args()
    print(f"# load {load_average()} · {args.families} families × {args.days} days · {args.pairs} pairs a round")
    for kind in args.stores.split(","):
        with store(kind, args.postgres, args.pg_socket) as (_folder, url, app):
            print(f"## {kind}: {url}")
            signed = sign_in(app, seed(app, args.families, args.days))
            needed = args.pairs * (args.rounds + 2)
            if len(signed) < needed:  # a parent checks in again on later rounds: fine, a fresh id
                signed = (signed * (needed // len(signed) + 1))[:needed]
            wsgi_pairs(app, signed[:20])  # warm: imports, templates, the pool's connection
            batches = [signed[20 + i * args.pairs:20 + (i + 1) * args.pairs] for i in range(args.rounds + 1)]
            costs = []
            for batch in batches[:-1]:
                started = time.process_time()
                wsgi_pairs(app, batch)
                costs.append((time.process_time() - started) / len(batch) * 1e6)
            print(f"## {kind}: CPU per GET + POST pair {min(costs):,.0f} µs (rounds: "
                  f"{', '.join(f'{c:,.0f}' for c in costs)})")
            profile = cProfile.Profile(time.process_time)  # CPU, not waiting on the database
            profile.runcall(wsgi_pairs, app, batches[-1])
            for order in ("cumulative", "tottime"):
                out = io.StringIO()
                pstats.Stats(profile, stream=out).strip_dirs().sort_stats(order).print_stats(args.top)
                print(f"### {kind}: top {args.top} by {order}")
                print("\n".join(out.getvalue().splitlines()[6:]))


if __name__ == "__main__":
    main()
