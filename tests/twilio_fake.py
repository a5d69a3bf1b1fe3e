"""A loopback stand-in for Twilio's Messages API: a real HTTP server in a thread.

It records every ``POST /2010-04-01/Accounts/<sid>/Messages.json`` (form fields, basic-auth user)
and answers 201 with a JSON body carrying a fresh ``sid``, as Twilio does. It can be told to answer
the next posts with another status (429 with ``Retry-After``, 500, 400 with a Twilio error code) and
to wait before every answer (``delay``, e.g. 0.05 for the benchmark).

    with TwilioFake() as twilio:
        app.config.update(twilio.config())
        ...
        assert twilio.posts[0].form["Body"].startswith("Attune:")
"""
from __future__ import annotations

import base64
import http.server
import itertools
import json
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-twilio-auth-token"
FROM = "+15005550006"


@dataclass
class Post:
    """One message the fake received."""

    path: str
    form: dict[str, str]
    account: str  # the basic-auth user
    status: int  # what the fake answered


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # a burst of new connections must not wait on SYN retries (the default is 5)
    fake: TwilioFake


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real API

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def do_POST(self) -> None:  # noqa: N802
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        auth = self.headers.get("Authorization", "")
        account = base64.b64decode(auth[6:]).decode().split(":")[0] if auth.startswith("Basic ") else ""
        if fake.delay:
            time.sleep(fake.delay)
        status, headers, body = fake._answer(self.path, form, account)
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers | {"Content-Type": "application/json",
                                       "Content-Length": str(len(data))}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class TwilioFake:
    """The fake Messages API; use as a context manager (starts and stops its server)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.posts: list[Post] = []
        self._rules: list[tuple[int, dict, dict]] = []
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> TwilioFake:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def config(self) -> dict:
        """The app settings that aim Attune at this fake."""
        return {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM": FROM,
                "TWILIO_API_BASE": self.base}

    def env(self) -> dict:
        """The same as ``COACH_*`` environment variables (for subprocesses)."""
        return {f"COACH_{key}": value for key, value in self.config().items()}

    def respond(self, status: int, times: int = 1, headers: dict | None = None, body: dict | None = None) -> None:
        """Answer the next ``times`` posts with ``status`` (then 201 again)."""
        with self._lock:
            self._rules.extend([(status, headers or {}, body or {"code": 20500 if status >= 500 else 20429
                                                                  if status == 429 else 21211,
                                                                  "message": "fake error", "status": status})]
                               * times)

    def _answer(self, path: str, form: dict, account: str) -> tuple[int, dict, dict]:
        with self._lock:
            status, headers, body = self._rules.pop(0) if self._rules else (201, {}, None)
            if status == 201:
                body = {"sid": f"SM{next(self._sids):032x}", "status": "queued", "to": form.get("To"),
                        "from": form.get("From"), "body": form.get("Body")}
            self.posts.append(Post(path, form, account, status))
        return status, headers, body

    def delivered(self) -> list[Post]:
        """The posts answered 201 (the texts Twilio would have taken)."""
        with self._lock:
            return [p for p in self.posts if p.status == 201]
