"""The audit log page: every admin change and worker note views, filtered and paginated."""
from __future__ import annotations

from datetime import datetime

from coach.models import AuditEvent

from . import admin_helpers, factories
from .admin_helpers import csrf_for, make_prompt

# Fixtures: an admin ("Ada Admin") and a ``client`` signed in as them.
admin = admin_helpers.admin
client = admin_helpers.admin_client


def test_admin_changes_and_note_views_are_listed(client, admin):
    worker = factories.make_user("worker", name="Wren Worker")
    family = factories.make_family(worker=worker)
    make_prompt(admin)
    client.post(f"/admin/users/{worker.id}/reset", data={"csrf_token": csrf_for(client)})
    # The worker area writes this when a worker opens a family's shared notes.
    AuditEvent.create(actor=worker, action="view_notes", target_type="family", target_id=str(family.id))
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "Created a prompt" in html and "Made a password reset link" in html
    assert "Viewed a family&#39;s notes" in html and "Wren Worker" in html
    html = client.get("/admin/audit?action=view_notes").get_data(as_text=True)
    assert "1 event" in html and "Created a prompt" not in html.split("<tbody>")[1]
    html = client.get(f"/admin/audit?actor={admin.id}").get_data(as_text=True)
    assert "Viewed a family&#39;s notes" not in html.split("<tbody>")[1]


def test_date_range_and_bad_dates(client, admin):
    AuditEvent.create(actor=admin, action="resource_create", created_at=datetime(2026, 1, 10, 12))
    AuditEvent.create(actor=admin, action="resource_update", created_at=datetime(2026, 2, 10, 12))
    html = client.get("/admin/audit?from=2026-01-01&to=2026-01-31").get_data(as_text=True)
    body = html.split("<tbody>")[1]
    assert "Added a support resource" in body and "Edited a support resource" not in body
    html = client.get("/admin/audit?from=2026-02-10&to=2026-02-10").get_data(as_text=True)
    assert "Edited a support resource" in html.split("<tbody>")[1]
    html = client.get("/admin/audit?from=yesterday").get_data(as_text=True)
    assert "The “from” date “yesterday” isn&#39;t a date like 2026-05-31; it was ignored." in html


def test_pagination(client, admin):
    AuditEvent.insert_many([{"actor": admin.id, "action": "resource_move", "target_id": str(n)}
                            for n in range(120)]).execute()
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "page 1 of 3" in html and "Older →" in html and "← Newer" not in html
    html = client.get("/admin/audit?page=3").get_data(as_text=True)
    assert "page 3 of 3" in html and html.count("Reordered support resources") == 20 + 1  # + the filter option
    html = client.get("/admin/audit?page=99").get_data(as_text=True)
    assert "page 3 of 3" in html
