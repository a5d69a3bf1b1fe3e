"""Invites from the worker's side: the new link with its QR code (SVG without inline styles), the list
of pending, used, expired and cancelled invites, and cancelling."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import unquote

from coach.models import Invite, utcnow
from coach.services.people.invites import create_invite
from coach.services.people.qr import qr_svg

from . import factories
from .conftest import Auth


def test_qr_svg_is_csp_safe_and_titled():
    svg = qr_svg("http://localhost/join/abc", title='Invite for "<Jo>"')
    assert svg.startswith('<svg role="img" focusable="false" viewBox=')
    assert "style" not in svg
    assert "<title>Invite for \"&lt;Jo&gt;\"</title>" in svg


def test_create_invite_shows_link_and_qr(client, auth, app):
    worker = factories.make_user("worker")
    auth.login(worker)
    response = client.post("/worker/invites", data={
        "csrf_token": auth.csrf_token("/worker/invites"), "label": "Jo at Elm St", "days": "7"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    link = re.search(r'<p class="code invite-link" id="new-link">(http://localhost/join/[\w-]+)</p>', html).group(1)
    assert '<div class="qr"><svg role="img"' in html
    assert " style=" not in html  # strict CSP: no inline styles anywhere on the page
    assert "Your new invite link for Jo at Elm St" in html
    invite = Invite.get(Invite.worker == worker.id)
    assert (invite.label, invite.expires_at.date()) == ("Jo at Elm St", (utcnow() + timedelta(days=7)).date())
    visitor = app.test_client().get(link.replace("http://localhost", ""), follow_redirects=True)
    assert visitor.status_code == 200  # a new visitor


def test_bad_days_get_a_clear_message_and_nothing_is_made(client, auth, app):
    worker = factories.make_user("worker")
    auth.login(worker)
    response = client.post("/worker/invites", data={"csrf_token": auth.csrf_token("/worker/invites"), "days": "365"})
    assert response.status_code == 422
    assert "Choose 1 to 90 days." in response.get_data(as_text=True)
    assert Invite.select().count() == 0


def test_invite_list_shows_every_state_and_cancels(client, auth, app):
    worker = factories.make_user("worker")
    pending, _ = create_invite(worker, label="Pending one")
    used, _ = create_invite(worker, label="Used one")
    Invite.update(used_at=utcnow()).where(Invite.id == used.id).execute()
    expired, _ = create_invite(worker, label="Old one")
    Invite.update(expires_at=utcnow() - timedelta(days=1)).where(Invite.id == expired.id).execute()
    create_invite(factories.make_user("worker"), label="Someone else's")
    auth.login(worker)
    html = client.get("/worker/invites").get_data(as_text=True)
    assert all(text in html for text in ("Waiting</span>", "Used</span>", "Expired</span>"))
    assert "Someone else" not in html
    token = auth.csrf_token("/worker/invites")
    response = client.post(f"/worker/invites/{pending.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 302
    assert Invite.get_by_id(pending.id).state == "revoked"
    html = client.get("/worker/invites").get_data(as_text=True)
    assert "Cancelled</span>" in html and "Invite cancelled. That link no longer works." in html
    client.post(f"/worker/invites/{pending.id}/revoke", data={"csrf_token": token})
    assert "Only a pending invite can be cancelled." in client.get("/worker/invites").get_data(as_text=True)


def test_cannot_cancel_another_workers_invite(app):
    owner = factories.make_user("worker")
    invite, _ = create_invite(owner)
    client = app.test_client()
    auth = Auth(client)
    auth.login(factories.make_user("worker"))
    response = client.post(f"/worker/invites/{invite.id}/revoke", data={"csrf_token": auth.csrf_token("/worker/")})
    assert response.status_code == 404
    assert Invite.get_by_id(invite.id).state == "pending"


def test_new_invite_can_be_shared_copied_texted_and_printed(client, auth, app):
    """Share and Copy (a module turns them on), a text message with the link in friendly words, and a
    card that prints with the QR code; the worker's private label never goes to the parent."""
    worker = factories.make_user("worker", name="Wren Worker")
    auth.login(worker)
    html = client.post("/worker/invites", data={
        "csrf_token": auth.csrf_token("/worker/invites"), "label": "Jo - housing worry", "days": "7"}).get_data(as_text=True)
    link = re.search(r'id="new-link">(http://localhost/join/[\w-]+)</p>', html).group(1)
    assert f'data-url="{link}"' in html
    assert '<button class="btn" type="button" data-action="share-invite" hidden>Share…</button>' in html
    assert 'data-action="copy-invite" hidden' in html and 'data-action="print-invite" hidden' in html
    sms = re.search(r'href="(sms:\?&amp;body=[^"]+)"', html).group(1)
    body = unquote(sms.split("body=", 1)[1])
    assert body.startswith("Hi, here is your invite to Attune from Wren Worker")
    assert body.endswith(link)
    assert "housing" not in body and "housing" not in html.split('data-share-text="', 1)[1].split('"', 1)[0]
    assert '<script type="module" src="/static/js/invite-share.js"></script>' in html
    assert 'class="print-only invite-card-lead"' in html
    assert '<span class="screen-only">Your new invite link for Jo - housing worry</span>' in html  # not printed
    assert " onclick=" not in html and " style=" not in html
