"""Support resources through the admin pages: add, validate, edit, reorder, hide — and what a
parent is then shown."""
from __future__ import annotations

import pytest

from coach.models import AuditEvent, SupportResource
from coach.services.families import resources

from . import factories
from .admin_helpers import csrf_for, sign_in

GOOD = {"name": "Parent Helpline", "description": "Someone to talk to.", "phone": "0808 800 2222",
        "url": "https://example.org/help", "hours": "Every day, 9am–9pm", "region": "UK-wide",
        "country": "GB", "kind": "parenting", "source_url": "https://example.org/about",
        "checked_on": "2026-11-30"}


@pytest.fixture
def admin(app):
    return factories.make_user("admin")


@pytest.fixture
def client(app, admin):
    return sign_in(app, admin)


def test_add_edit_and_audit_a_resource(client):
    response = client.post("/admin/resources", data=GOOD | {"csrf_token": csrf_for(client)})
    assert response.status_code == 302
    resource = SupportResource.get(SupportResource.name == "Parent Helpline")
    assert (resource.url, resource.position, resource.active) == ("https://example.org/help", 1, True)
    page = client.get(f"/admin/resources/{resource.id}").get_data(as_text=True)
    assert 'value="0808 800 2222"' in page
    response = client.post(f"/admin/resources/{resource.id}",
                           data=GOOD | {"csrf_token": csrf_for(client), "hours": "24 hours"})
    assert response.status_code == 302
    assert SupportResource.get_by_id(resource.id).hours == "24 hours"
    assert AuditEvent.get(AuditEvent.action == "resource_update").detail["changed"] == ["hours"]


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"name": ""}, "name", "The name can&#39;t be empty."),
    ({"url": "http://example.org"}, "url", "must start with https://"),
    ({"url": "javascript:alert(1)"}, "url", "must start with https://"),
    ({"phone": "call me"}, "phone", "digits, spaces"),
    ({"phone": "", "url": ""}, "phone", "Add a phone number, a text line or a web address"),
    ({"description": "x" * 301}, "description", "301 characters; the limit is 300"),
])
def test_bad_resources_are_explained_and_not_saved(client, changes, field, words):
    response = client.post("/admin/resources", data=GOOD | changes | {"csrf_token": csrf_for(client)})
    assert response.status_code == 422
    assert words in response.get_data(as_text=True)
    assert SupportResource.select().count() == 0


def test_reorder_and_hide(client, admin):
    first, second, third = (resources.create_resource(GOOD | {"name": name}, admin) for name in "ABC")
    token = csrf_for(client)
    assert client.post(f"/admin/resources/{third.id}/move", data={"csrf_token": token, "direction": "up"}).status_code == 302
    assert [r.name for r in resources.ordered()] == ["A", "C", "B"]
    client.post(f"/admin/resources/{first.id}/move", data={"csrf_token": token, "direction": "up"})  # already first
    assert [r.name for r in resources.ordered()] == ["A", "C", "B"]
    response = client.post(f"/admin/resources/{first.id}/move", data={"csrf_token": token, "direction": "sideways"})
    assert response.status_code == 422
    assert client.post(f"/admin/resources/{second.id}/hide", data={"csrf_token": token}).status_code == 302
    assert [r.name for r in resources.visible()] == ["A", "C"]
    html = client.get("/admin/resources").get_data(as_text=True)
    assert "Hidden" in html
    client.post(f"/admin/resources/{second.id}/show", data={"csrf_token": token})
    assert [r.name for r in resources.visible()] == ["A", "C", "B"]
    actions = [e.action for e in AuditEvent.select().order_by(AuditEvent.id)]
    assert actions.count("resource_move") == 1 and "resource_hide" in actions and "resource_show" in actions


def test_resource_text_is_escaped(client, admin):
    resources.create_resource(GOOD | {"name": "<b>Bold</b> line", "description": "<script>x()</script>"}, admin)
    html = client.get("/admin/resources").get_data(as_text=True)
    assert "<b>Bold</b>" not in html and "&lt;b&gt;Bold&lt;/b&gt; line" in html
    assert "<script>x()" not in html


def test_unknown_resource_is_404(client):
    assert client.get("/admin/resources/4040").status_code == 404
