"""Discreet mode: a family that asked for it gets notifications that say only "A moment for today
is ready" — no prompt text, no child's name — in both the flat and the declarative payload."""
from __future__ import annotations

from coach.services.delivery.sending import run_send_tick
from tests import factories
from tests.delivery_helpers import NOW, make_due, subscribe


def test_a_discreet_familys_notification_hides_the_prompt(push_app, ps):
    discreet = factories.make_family(child_name="Rowan", discreet=True)
    open_family = factories.make_family(child_name="Sam")
    for family in (discreet, open_family):
        make_due(family)
        subscribe(ps, family.user, name=f"family-{family.id}")

    assert run_send_tick(NOW)["sent"] == 2

    by_family = {r.endpoint.rsplit("-", 1)[1]: r.json() for r in ps.wait_for(2)}
    hidden, shown = by_family[str(discreet.id)], by_family[str(open_family.id)]
    assert (hidden["title"], hidden["body"]) == ("Attune", "A moment for today is ready")
    assert (hidden["notification"]["title"], hidden["notification"]["body"]) == (
        "Attune", "A moment for today is ready")
    assert "Rowan" not in str(hidden)
    assert hidden["url"].startswith("/checkin/") and hidden["ack_token"]  # the app still opens the prompt
    assert shown["title"] == "Notice Sam's cues"
