"""Households (DESIGN "Reach → Household"): two caregivers, one child. One delivery reaches every
caregiver's devices; each checks in on their own; notes never cross between them; leaving removes
one caregiver; the fifth is refused; the migration seats every existing parent."""
from __future__ import annotations

import csv
import io
from collections import Counter

from coach.db import current_version, downgrade_to, init_db
from coach.models import (
    AuditEvent,
    Caregiver,
    CheckIn,
    Delivery,
    Family,
    PromptTranslation,
    PushSubscription,
    User,
)
from coach.services.delivery.sending import run_send_tick
from coach.services.families.household import caregivers, set_share_presence

from . import factories
from .delivery_helpers import NOW, make_due, subscribe
from .parent_helpers import ParentClient, checkin_body, make_delivery


def household(worker=None):
    family = factories.make_family(worker=worker, display_name="Ana")
    partner = factories.add_caregiver(family, name="Sam")
    return family, partner


def test_one_delivery_is_pushed_once_to_every_device_of_both_caregivers(push_app, ps):
    family, partner = household()
    delivery = make_due(family)
    phones = [subscribe(ps, family.user)[0], subscribe(ps, family.user)[0], subscribe(ps, partner)[0]]

    counts = run_send_tick(NOW)

    assert counts["sent"] == 1 and Delivery.select().count() == 1
    received = ps.wait_for(3)
    assert Counter(r.endpoint for r in received) == {phone.endpoint: 1 for phone in phones}
    assert {r.json()["delivery_id"] for r in received} == {delivery.id}


def test_each_caregivers_devices_get_the_prompt_in_their_own_language(push_app, ps):
    family, partner = household()
    User.update(language="es").where(User.id == partner.id).execute()
    delivery = make_due(family)
    answers = [{"label": a["label"]} for a in delivery.prompt.answers]
    PromptTranslation.create(prompt=delivery.prompt, language="es", title="Mira a {child}",
                             body="Espera a que {child} te mire.", question="¿Te miró?",
                             answers=[f"Respuesta {n}" for n, _ in enumerate(answers, 1)], why="Porque sí.")
    ana_phone, sam_phone = subscribe(ps, family.user)[0], subscribe(ps, partner)[0]

    assert run_send_tick(NOW)["sent"] == 1

    pushes = {r.endpoint: r.json() for r in ps.wait_for(2)}
    ana, sam = pushes[ana_phone.endpoint], pushes[sam_phone.endpoint]
    assert (sam["title"], sam["lang"], sam["actions"][0]["title"]) == ("Mira a Sam", "es", "Lo probé")
    assert ana["lang"] == "en" and ana["title"] != sam["title"] and ana["actions"][0]["title"] == "I tried it"
    assert ana["delivery_id"] == sam["delivery_id"] == delivery.id  # one delivery, two languages


def test_each_caregiver_checks_in_and_sees_only_their_own_notes(app):
    worker = factories.make_user("worker")
    family, partner = household(worker)
    delivery = make_delivery(family)
    ana, sam = ParentClient(app, family), ParentClient(app, family, partner)
    notes = {"ana-shared": (ana, True, delivery.id), "ana-private": (ana, False, None),
             "sam-shared": (sam, True, delivery.id), "sam-private": (sam, False, None)}
    for note, (who, shared, delivery_id) in notes.items():
        response = who.api("POST", "/api/checkins", json=checkin_body(
            delivery_id=delivery_id, note=note, shared_with_worker=shared))
        assert response.status_code == 201, response.get_json()

    assert CheckIn.select().where(CheckIn.delivery == delivery.id).count() == 2  # one each, separate
    for who, mine, theirs in ((ana, "ana", "sam"), (sam, "sam", "ana")):
        listed = {c["note"] for c in who.api("GET", "/api/checkins").get_json()["checkins"]}
        assert listed == {f"{mine}-shared", f"{mine}-private"}
        for page in ("/journal", "/journal/print", "/api/me/export", "/"):
            text = who.get(page).get_data(as_text=True)
            assert theirs + "-" not in text, (page, theirs)
        assert f"{mine}-private" in who.get("/journal").get_data(as_text=True)
        today = who.api("GET", "/api/today").get_json()["delivery"]
        assert today["checked_in"] is True

    staff = app.test_client()
    factories_login(staff, worker)
    page = staff.get(f"/worker/families/{family.id}").get_data(as_text=True)
    assert "ana-shared" in page and "sam-shared" in page
    assert "ana-private" not in page and "sam-private" not in page
    assert "Sam" in page and "Ana" in page  # the household, each caregiver by name


def factories_login(client, user) -> None:
    token = factories.extract_csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_me_lists_the_household_with_you_marked(app):
    family, partner = household()
    me = ParentClient(app, family, partner).api("GET", "/api/me").get_json()
    assert me["household"] == [{"name": family.user.label, "you": False}, {"name": "Sam", "you": True}]


def test_an_invited_caregiver_joins_with_their_own_login_and_language(app):
    family = factories.make_family()
    ana = ParentClient(app, family)
    response = ana.api("POST", "/api/household/invites")
    assert response.status_code == 201
    url = response.get_json()["url"]
    assert "/join/" in url

    browser = app.test_client()
    assert browser.get(url.removeprefix("http://localhost")).status_code == 303
    form = browser.get("/join").get_data(as_text=True)
    assert 'name="language"' in form and "child_birth_month" not in form and "window_start" not in form
    joined = browser.post("/join", data={"csrf_token": factories.extract_csrf(form), "display_name": "Sam",
                                         "email": "sam@example.org", "password": factories.PASSWORD,
                                         "language": "es"})
    assert joined.status_code == 302 and joined.headers["Location"] == "/"
    sam = User.by_email("sam@example.org")
    assert sam.language == "es" and [u.id for u in caregivers(family)] == [family.user_id, sam.id]
    assert "Hola, Sam" in browser.get("/").get_data(as_text=True)  # in the language Sam chose

    again = app.test_client().get(url.removeprefix("http://localhost"))
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)


def test_the_fifth_caregiver_is_refused_at_the_invite_and_at_the_join(app):
    family, _partner = household()
    factories.add_caregiver(family)
    ana = ParentClient(app, family)
    early = ana.api("POST", "/api/household/invites").get_json()["url"]  # made while there were 3
    factories.add_caregiver(family)

    full = ana.api("POST", "/api/household/invites")
    assert full.status_code == 409 and "up to 4 caregivers" in full.get_json()["message"]
    browser = app.test_client()
    browser.get(early.removeprefix("http://localhost"))
    page = browser.get("/join")
    assert page.status_code == 409 and "up to 4 caregivers" in page.get_data(as_text=True)
    assert Caregiver.select().where(Caregiver.family == family.id).count() == 4


def test_leaving_removes_only_that_caregiver_and_the_last_one_takes_the_family(app):
    family, partner = household()
    delivery = make_delivery(family)
    ana, sam = ParentClient(app, family), ParentClient(app, family, partner)
    for who in (ana, sam):
        who.api("POST", "/api/checkins", json=checkin_body(delivery_id=delivery.id, note="mine"))
        PushSubscription.create(user=who.user, endpoint=f"https://push.invalid/{who.user.id}", p256dh="k", auth="a")

    # Ana, the family's main contact, leaves first: Sam keeps the family, the delivery and their own check-in.
    left = ana.api("DELETE", "/api/me", json={"confirm": "delete"})
    assert left.status_code == 200 and "keep the family" in left.get_json()["message"]
    family = Family.get_by_id(family.id)
    assert family.user_id == partner.id and User.get_or_none(User.id == ana.user.id) is None
    assert [c.user_id for c in CheckIn.select()] == [partner.id]
    assert [d.user_id for d in PushSubscription.select()] == [partner.id]
    assert Delivery.get_by_id(delivery.id) and sam.get("/").status_code == 200

    sam.api("DELETE", "/api/me", json={"confirm": "delete"})
    assert Family.get_or_none(Family.id == family.id) is None and CheckIn.select().count() == 0


def test_only_the_worker_removes_a_caregiver(app):
    worker = factories.make_user("worker")
    family, partner = household(worker)
    sam = ParentClient(app, family, partner)
    route = f"/worker/families/{family.id}/caregivers/{family.user_id}/remove"
    assert sam.form(route).status_code == 403 and len(caregivers(family)) == 2

    staff = app.test_client()
    factories_login(staff, worker)
    token = factories.extract_csrf(staff.get(f"/worker/families/{family.id}").get_data(as_text=True))
    route = f"/worker/families/{family.id}/caregivers/{partner.id}/remove"
    assert staff.post(route, data={}).status_code == 400  # no CSRF token: nothing removed
    assert staff.post(route, data={"csrf_token": token}).status_code == 303  # not confirmed
    assert len(caregivers(family)) == 2
    assert staff.post(route, data={"csrf_token": token, "confirm": "yes"}).status_code == 303
    assert [u.id for u in caregivers(family)] == [family.user_id]
    assert AuditEvent.get(AuditEvent.action == "caregiver_removed").actor_id == worker.id


def test_the_caseload_csv_has_a_row_per_caregiver(app):
    worker = factories.make_user("worker")
    household(worker)
    factories.make_family(worker=worker)
    staff = app.test_client()
    factories_login(staff, worker)
    rows = list(csv.DictReader(io.StringIO(staff.get("/worker/export.csv").get_data().decode("utf-8-sig"))))
    assert len(rows) == 3 and len({row["family_id"] for row in rows}) == 2
    assert "Sam" in {row["caregiver"] for row in rows}


def test_the_notification_check_in_is_the_signed_in_caregivers(app):
    from coach.services.delivery.ack import make_ack_token

    family, partner = household()
    delivery = make_delivery(family)
    body = {"ack_token": make_ack_token(delivery.id)}
    nobody = app.test_client().post(f"/api/deliveries/{delivery.id}/ack", json=body)
    assert nobody.status_code == 409  # two caregivers and no session: the app opens instead
    sam = ParentClient(app, family, partner)
    assert sam.api("POST", f"/api/deliveries/{delivery.id}/ack", json=body, csrf=False).status_code == 201
    assert [c.user_id for c in CheckIn.select()] == [partner.id]


def test_the_migration_seats_every_parent_and_keeps_their_check_ins(app):
    family = factories.make_family()
    delivery = make_delivery(family)
    CheckIn.create(family=family, user=family.user_id, delivery=delivery, tried="yes", client_created_at=NOW)
    downgrade_to(11)
    assert current_version() == 11

    init_db()

    assert [(c.family_id, c.user_id) for c in Caregiver.select()] == [(family.id, family.user_id)]
    assert [(c.family_id, c.user_id) for c in CheckIn.select()] == [(family.id, family.user_id)]
    assert Family.get_by_id(family.id).user_id == family.user_id


def test_checked_in_too_shows_only_when_both_agreed_and_says_nothing_more(app):
    family, partner = household()
    ana, sam = ParentClient(app, family), ParentClient(app, family, partner)
    sam.api("POST", "/api/checkins", json=checkin_body(note="sam-words", felt=1))
    set_share_presence(partner, True)
    assert "checked in too today" not in ana.get("/").get_data(as_text=True)  # Ana hasn't agreed

    set_share_presence(family.user, True)
    home = ana.get("/").get_data(as_text=True)
    assert "Sam checked in too today." in home and "sam-words" not in home
    set_share_presence(partner, False)
    assert "checked in too today" not in ana.get("/").get_data(as_text=True)
