"""The settings form names the real problem: a field error is never reported as an expired
security token (issue 9, item 11)."""
from __future__ import annotations

import pytest

from . import factories
from .parent_helpers import ParentClient

VALID = {"window_start": "18:00", "window_end": "20:00", "timezone": "Europe/London", "days": "daily"}


@pytest.mark.parametrize("change,shown", [
    ({"paused_until": "not-a-date"}, "Use a date like"),
    ({"days": "bogus"}, "Which days?"),
    ({"days": "custom", "custom_days": ["9"]}, "Your days"),
])
def test_a_field_error_is_shown_as_itself(app, change, shown):
    parent = ParentClient(app, factories.make_family())
    response = parent.form("/settings", {**VALID, **change})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "security token" not in body
    assert shown in body


def test_a_missing_security_token_still_says_so(app):
    parent = ParentClient(app, factories.make_family())
    response = parent.client.post("/settings", data=VALID)
    assert response.status_code == 400 and "security token" in response.get_data(as_text=True)
