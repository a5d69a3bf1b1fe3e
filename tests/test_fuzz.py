"""Every route, found in ``app.url_map``, gets hostile input as the role that may use it: deep
JSON, huge, negative and fractional numbers, booleans, non-ASCII digits, lists and objects where
text belongs, NUL bytes, CR/LF, empty and non-JSON bodies, wrong content types, over-long text,
invalid UTF-8 and out-of-range path ids. Every answer must be 2xx, 3xx or 4xx, never a 5xx or an
exception, and a refused request (4xx) must leave the row count of every table unchanged.

A new route is fuzzed automatically; the test fails (saying what to add) when it can't tell which
role uses the route or what a path parameter should be. Runs on SQLite and PostgreSQL.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from coach.db import db, is_postgres
from coach.services.delivery.ack import make_ack_token
from coach.services.people.invites import create_invite

from . import factories
from .admin_helpers import admin_params, sample, sign_in
from .parent_helpers import ANSWERS, parent_params

#: Who uses a route, by exact rule first, then by the longest matching prefix.
ROLE_BY_RULE = {
    "/": "parent", "/login": "anonymous", "/logout": "spare_parent", "/healthz": "anonymous", "/metrics": "anonymous",
    "/offline": "anonymous", "/sw.js": "anonymous", "/manifest.webmanifest": "anonymous",
    "/api/deliveries/<int:delivery_id>/ack": "anonymous",
    "/api/deliveries/<int:delivery_id>/snooze": "anonymous",
    "/join": "anonymous", "/reset": "anonymous", "/account/password": "worker", "/forgot": "anonymous",
}
ROLE_BY_PREFIX = {"/api/": "parent", "/checkin/": "parent", "/settings": "parent", "/journal": "parent",
                  "/worker/": "worker", "/admin/": "admin", "/join/": "anonymous", "/reset/": "anonymous",
                  "/help": "parent", "/welcome": "parent", "/reflection/": "parent",
                  "/sms/": "anonymous"}  # /sms/: Twilio, signed
#: Tables a refused request may still write to by design, per route: failed sign-ins are counted;
#: a refused follow-up re-renders the family page, and showing its shared notes is audited.
WRITES_WHEN_REFUSED = {"/login": ("loginfailure", "login_failure", "login_attempt", "throttle"),
                       "/account/password": ("login_failure",),  # a wrong current password counts
                       "/worker/families/<int:family_id>/follow-up": ("audit_event",),
                       "/worker/families/<int:family_id>/contacts": ("audit_event",),
                       "/worker/families/<int:family_id>/phone": ("audit_event",)}
#: Routes fuzzed last: hostile sign-ins may throttle the address every test client shares.
LAST = ("/login", "/forgot", "/join/<token>", "/reset/<reset_token>", "/logout", "/account/password")

HUGE = [2**63, 2**64, -(2**63) - 1, 10**30]
JSON_VALUES = [*HUGE, -1, 0, 1.5, 1e308, True, False, None, "²", "٣", "１２", "1²", "-1", "1e3", [], {},
               ["x"], {"a": "b"}, [[[[["deep"]]]]], "a\x00b", "a\r\nb", "\u0007", "\ud800", "‮x", "",
               "x" * 20_000, "2026-02-30", "99:99", "../../etc/passwd", "<script>x</script>"]
FORM_VALUES = ["", " ", "a\x00b", "a\r\nb", "\x1b[31m", "²", "٣", "1²", "-1", "0", "1.5", "true",
               "99999999999999999999999", str(2**63), "x" * 20_000, "<b>x</b>"]
QUERY_VALUES = ["a\x00b", "a\r\nb", "²", "٣", "-1", "1.5", "99999999999999999999999", "x" * 5_000, ""]
#: The query values also sent one argument at a time (the rest only go in all arguments at once).
ONE_BY_ONE = ("a\x00b", "a\r\nb", "²", "٣", "-1", "99999999999999999999999")
PATH_IDS = ["0", str(2**63), str(2**64), "99999999999999999999999", "٣", "²", "-1"]
DEEP = "[" * 1_000 + "]" * 1_000
DEEPER = '{"a":' * 50_000 + "1" + "}" * 50_000
#: Raw bodies sent to every non-GET route, with their content types.
RAW_BODIES = [
    (b"", "application/json"), (b"", None), (DEEP.encode(), "application/json"),
    (DEEPER.encode(), "application/json"), (b"[1, 2, 3]", "application/json"), (b"\"text\"", "application/json"),
    (b"null", "application/json"), (b"{\"a\": NaN}", "application/json"), (b"{\"a\": 1" , "application/json"),
    (b"\xff\xfe{\"a\": 1}", "application/json"), (b"{\"a\": \"\xed\xa0\x80\"}", "application/json"),
    (b"{\"n\": " + b"9" * 5_000 + b"}", "application/json"), (b"<xml/>", "application/xml"),
    (b"{\"a\": 1}", "text/plain"), (b"a=%FF%FE&b=%00", "application/x-www-form-urlencoded"),
    (b"--x\r\nbroken", "multipart/form-data; boundary=x"), (b"x" * 2_000_000, "application/octet-stream"),
]
#: Query arguments every GET route reads somewhere; each gets every hostile value.
QUERY_NAMES = ("limit", "days", "q", "status", "worker", "page", "actor", "from", "to", "action", "theme",
               "age", "sort", "dir", "next", "saved")


@dataclass(frozen=True)
class Profile:
    """Which hostile values to send. SQLite gets all of them (~10,000 requests, ~30 s); PostgreSQL
    opens a connection per request, so it gets the values whose handling depends on the store (NUL
    bytes, lone surrogates, integers past BIGINT, over-long text, non-ASCII digits) and one of each
    parser-level body (~1,300 requests)."""

    json_values: list
    form_values: list
    query_values: list
    path_ids: list
    raw_bodies: list
    query_one_by_one: bool


FULL = Profile(JSON_VALUES, FORM_VALUES, QUERY_VALUES, PATH_IDS, RAW_BODIES, query_one_by_one=True)
PG = Profile(json_values=[2**63, 2**64, "a\x00b", "\ud800", "x" * 20_000, "²", []],
             form_values=["a\x00b", "99999999999999999999999", "x" * 20_000, "²"],
             query_values=["a\x00b", "²", "99999999999999999999999"], path_ids=[str(2**63), "٣"],
             raw_bodies=[RAW_BODIES[0], RAW_BODIES[2], RAW_BODIES[14]], query_one_by_one=False)


def json_bases(world: dict) -> dict[str, dict]:
    """A valid JSON body per (method, rule): each field is then replaced by each hostile value."""
    now = datetime.now(UTC).isoformat()
    return {
        "POST /api/checkins": {"id": str(uuid.uuid4()), "delivery_id": world["delivery_id"], "tried": "yes",
                               "felt": 4, "note": "fine", "answer": 0, "shared_with_worker": True,
                               "wants_support": False, "client_created_at": now},
        "PATCH /api/me/settings": {"window_start": "18:00", "window_end": "20:00", "timezone": "Europe/London",
                                   "days_of_week": [0, 2, 4], "paused_until": None, "share_notes_default": False},
        "POST /api/push/subscriptions": {"endpoint": "https://push.invalid/fuzz", "expirationTime": None,
                                         "keys": {"p256dh": "B" + "A" * 86, "auth": "A" * 22}},
        "DELETE /api/push/subscriptions": {"endpoint": "https://push.invalid/other"},
        "DELETE /api/me": {"confirm": "not yet"},
        "POST /api/deliveries/<int:delivery_id>/ack": {"ack_token": make_ack_token(world["delivery_id"]),
                                                       "id": str(uuid.uuid4())},
        "POST /api/deliveries/<int:delivery_id>/opened": {"ack_token": make_ack_token(world["delivery_id"])},
        "POST /api/deliveries/<int:delivery_id>/snooze": {"ack_token": make_ack_token(world["delivery_id"])},
        "PATCH /api/checkins/<checkin_id>": {"felt": 3, "note": "more", "shared_with_worker": True,
                                             "wants_support": False},
        "POST /admin/prompts/check": {"title": "A title", "age": "0-3", "theme": "cues", "answer-0-label": "Yes"},
    }


def form_bases(world: dict) -> dict[str, dict]:
    """A plausible form per (method, rule); forms not listed get every field name in FORM_NAMES."""
    prompt = sample()
    editor = {"theme": prompt["theme"], "skill": prompt["skill"], "age": "0-3", "title": prompt["title"],
              "body": prompt["body"], "question": prompt["question"], "why": prompt["why"],
              "answer-0-label": "Yes", "answer-0-tried": "yes", "answer-1-label": "No", "answer-1-tried": "not_yet",
              "base_version": "2"}
    return {
        "POST /checkin/<int:delivery_id>": {"id": str(uuid.uuid4()), "answer": "0", "felt": "4", "note": "ok",
                                            "shared_with_worker": "on", "wants_support": ""},
        "POST /settings": {"window_start": "18:00", "window_end": "20:00", "timezone": "Europe/London",
                           "days": "custom", "custom_days": "2", "paused_until": "", "share_notes_default": "y"},
        "POST /settings/delete": {"confirm": "not yet"},
        "POST /worker/invites": {"label": "Fuzz", "days": "14"},
        "POST /worker/families/<int:family_id>/follow-up": {"request_id": "1", "note": "called"},
        "POST /admin/prompts/new": editor, "POST /admin/prompts/<int:prompt_id>": editor,
        "POST /admin/prompts/<int:prompt_id>/status": {"status": "retired"},
        "POST /admin/users": {"name": "New", "email": "new@example.org", "role": "worker",
                              "set_password": "link", "password": ""},
        "POST /admin/users/<int:user_id>/reassign": {"families": "1", "to_worker": "1"},
        "POST /admin/resources": {"name": "Line", "phone": "0800 1", "url": "", "description": "", "hours": "",
                                  "region": ""},
        "POST /admin/resources/<int:resource_id>": {"name": "Line", "phone": "0800 1"},
        "POST /admin/resources/<int:resource_id>/move": {"direction": "up"},
        "POST /login": {"email": "nobody@example.org", "password": "wrong one!"},
        "POST /join/<token>": {"display_name": "Pat", "email": "pat@example.org", "password": "p" * 12,
                               "child_name": "Kim", "child_birth_month": "2026-01", "timezone": "Europe/London",
                               "window_start": "18:00", "window_end": "20:00"},
        "POST /reset/<reset_token>": {"password": "short", "confirm": "other"},
    }


FORM_NAMES = ("name", "email", "password", "label", "days", "note", "status", "direction", "confirm")


@pytest.fixture
def world(app):
    """Every role signed in, and a value for every path parameter."""
    worker = factories.make_user("worker")
    family = factories.make_family(worker=worker)
    admin = factories.make_user("admin")
    _, join_token = create_invite(worker)
    revoke_me, _ = create_invite(worker)
    params = {"token": join_token, "invite_id": revoke_me.id, "family_id": family.id,
              **admin_params(admin), **parent_params(app, family)}
    spare = factories.make_family()
    clients = {"anonymous": app.test_client()}
    for role, user in (("parent", family.user), ("worker", worker), ("admin", admin), ("spare_parent", spare.user)):
        clients[role] = sign_in(app, user)
    tokens = {role: factories.extract_csrf(client.get("/login" if role == "anonymous" else
                                                     "/offline").get_data(as_text=True))
              for role, client in clients.items()}
    return {"params": params, "clients": clients, "tokens": tokens, "delivery_id": params["delivery_id"]}


def role_for(rule: str) -> str:
    if rule in ROLE_BY_RULE:
        return ROLE_BY_RULE[rule]
    matches = [prefix for prefix in ROLE_BY_PREFIX if rule.startswith(prefix)]
    assert matches, f"tests/test_fuzz.py: add {rule!r} (or its prefix) to ROLE_BY_RULE/ROLE_BY_PREFIX"
    return ROLE_BY_PREFIX[max(matches, key=len)]


def fill(rule: str, params: dict, override: str | None = None) -> str:
    path = rule
    for name, value in params.items():
        for converter in ("", "int:"):
            path = path.replace(f"<{converter}{name}>", override if override and converter else str(value))
    assert "<" not in path, f"tests/test_fuzz.py: no value for a path parameter of {rule}; add it to world()"
    return path


def row_counts() -> dict[str, int]:
    tables = sorted(db.get_tables())
    sql = "SELECT " + ", ".join(f'(SELECT COUNT(*) FROM "{name}")' for name in tables)
    return dict(zip(tables, db.execute_sql(sql).fetchone(), strict=True))


def routes(app) -> list[tuple[str, str]]:
    found = sorted({(method, rule.rule) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
                    for method in rule.methods - {"HEAD", "OPTIONS"}}, key=lambda r: (r[1] in LAST, r[1], r[0]))
    return found


class Fuzzer:
    """Sends requests and collects every 5xx, exception and half-written refusal."""

    def __init__(self, world: dict, profile: Profile):
        self.world = world
        self.profile = profile
        self.failures: list[str] = []
        self.sent = 0
        self.statuses: dict[str, set[int]] = {}
        self.counts = row_counts()  # nothing else writes between requests: "after" is the next "before"

    def send(self, method: str, rule: str, path: str, what: str, **kwargs) -> int | None:
        role = role_for(rule)
        client = self.world["clients"][role]
        headers = {"X-CSRFToken": self.world["tokens"][role], **kwargs.pop("headers", {})}
        before = self.counts
        self.sent += 1
        try:
            response = client.open(path, method=method, headers=headers, **kwargs)
        except Exception as error:  # noqa: BLE001  (the point is to report it with the input)
            if not db.is_closed() and db.in_transaction():
                db.rollback()
            self.failures.append(f"{method} {path} [{what}]: raised {type(error).__name__}: {str(error)[:120]}")
            self.counts = row_counts()
            return None
        status = response.status_code
        self.statuses.setdefault(f"{method} {rule}", set()).add(status)
        self.counts = after = row_counts()
        if status >= 500:
            self.failures.append(f"{method} {path} [{what}]: {status}")
        elif status >= 400:
            allowed = WRITES_WHEN_REFUSED.get(rule, ())
            changed = [t for t in after if after[t] != before.get(t) and not any(a in t for a in allowed)]
            if changed:
                self.failures.append(f"{method} {path} [{what}]: refused with {status} but wrote to {changed}")
        return status

    def json(self, method, rule, path, body, what):
        raw = json.dumps(body, ensure_ascii=True).encode() if not isinstance(body, bytes) else body
        return self.send(method, rule, path, what, data=raw, content_type="application/json")

    def form(self, method, rule, path, fields, what):
        role = role_for(rule)
        return self.send(method, rule, path, what, data={"csrf_token": self.world["tokens"][role], **fields})


def short(value) -> str:
    return repr(value)[:40]


def fuzz_route(fuzzer: Fuzzer, method: str, rule: str, world: dict) -> None:
    """Every hostile input of the fuzzer's profile, sent to one route."""
    path, profile = fill(rule, world["params"]), fuzzer.profile
    if "<int:" in rule:
        for bad in profile.path_ids:
            status = fuzzer.send(method, rule, fill(rule, world["params"], bad), f"path id {bad[:25]}")
            if status is not None and status < 400 and bad not in ("0",):
                fuzzer.failures.append(f"{method} {rule} with path id {bad[:25]}: {status}, expected 4xx")
    if method == "GET":
        for value in profile.query_values:
            fuzzer.send(method, rule, path, f"every query arg = {short(value)}",
                        query_string={name: value for name in QUERY_NAMES})
            for name in QUERY_NAMES if profile.query_one_by_one and value in ONE_BY_ONE else ():
                fuzzer.send(method, rule, path, f"?{name}={short(value)}", query_string={name: value})
        return
    for raw, content_type in profile.raw_bodies:
        kwargs = {"data": raw} | ({"content_type": content_type} if content_type else {})
        fuzzer.send(method, rule, path, f"raw {raw[:20]!r} as {content_type}", **kwargs)
    key = f"{method} {rule}"
    json_base = json_bases(world).get(key, {})
    for value in profile.json_values:
        fuzzer.json(method, rule, path, {name: value for name in json_base or {"x": 1}}, f"all = {short(value)}")
        for name in json_base:
            fuzzer.json(method, rule, path, json_base | {name: value}, f"{name} = {short(value)}")
    fuzzer.json(method, rule, path, DEEP.encode(), "deep array")
    for name in json_base:
        fuzzer.json(method, rule, path, json.dumps(json_base)[:-1].encode() + f', "{name}": {DEEP}}}'.encode(),
                    f"{name} = deep")
    form_base = form_bases(world).get(key)
    names = list(form_base or FORM_NAMES)
    for value in profile.form_values:
        fuzzer.form(method, rule, path, {name: value for name in names}, f"form all = {short(value)}")
        for name in names if form_base else ():
            fuzzer.form(method, rule, path, form_base | {name: value}, f"form {name} = {short(value)}")
        fuzzer.form(method, rule, path, {value[:50] or "empty": "x"}, f"form field named {short(value)}")


def test_every_route_survives_hostile_input(app, world):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    fuzzer = Fuzzer(world, PG if is_postgres() else FULL)
    fuzzed = []
    for method, rule in routes(app):
        fuzz_route(fuzzer, method, rule, world)
        fuzzed.append(f"{method} {rule}")
    assert len(fuzzed) >= 60, fuzzed
    # Fuzzing as a role the route refuses would test nothing past the access check.
    refused = {route: sorted(codes) for route, codes in fuzzer.statuses.items() if codes <= {401, 403}}
    assert not refused, f"tests/test_fuzz.py: these routes refused every request; fix ROLE_BY_*: {refused}"
    assert not fuzzer.failures, f"{len(fuzzer.failures)} of {fuzzer.sent} requests failed:\n" + "\n".join(
        fuzzer.failures[:60])


def test_fuzz_bases_name_real_routes(app, world):
    """The valid bodies above belong to routes that exist (a renamed route must not go unfuzzed)."""
    known = {f"{method} {rule}" for method, rule in routes(app)}
    named = set(json_bases(world)) | set(form_bases(world))
    assert named - known == set()
    assert ANSWERS  # the delivery's prompt has answers, so answer=0 is a valid base value
