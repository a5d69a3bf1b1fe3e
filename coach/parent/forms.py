"""The parent's forms: settings and the account-deletion confirmation (CSRF comes with FlaskForm).

Values are checked by the services (``preferences``, ``privacy``), so the API and the pages share
one set of rules; these forms only render fields and carry the services' messages back.
"""
from __future__ import annotations

from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from ..inputs import CheckedForm, parse_int
from ..services.families.countries import country_choices
from ..services.families.preferences import DAILY, DAY_NAMES, THREE_A_WEEK

DAY_CHOICES = [SelectChoice("daily", "Every day"),
               SelectChoice("three", "Three days a week (Monday, Wednesday and Friday)"),
               SelectChoice("custom", "Days I choose")]


class SettingsForm(CheckedForm):
    window_start = StringField("Earliest time")
    window_end = StringField("Latest time")
    timezone = StringField("Time zone")
    days = RadioField("Which days?", choices=DAY_CHOICES, default="daily")
    custom_days = SelectMultipleField("Your days", choices=[SelectChoice(str(i), name) for i, name in enumerate(DAY_NAMES)],
                                      widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    paused_until = StringField("Pause prompts until")
    share_notes_default = BooleanField("Share my notes with my family worker unless I say otherwise")
    # The service checks the code (one rule for the form and the API), so no choice validation here.
    country = SelectField("Your country", validate_choice=False, choices=[
        SelectChoice("", "Not set (international numbers)"),
        *(SelectChoice(code, name) for code, name in country_choices())])
    discreet = BooleanField("Discreet notifications")
    phone = StringField("Your phone number (optional)")

    def days_of_week(self) -> str | list[int]:
        """The chosen days as the settings service takes them."""
        if self.days.data == "daily":
            return DAILY
        if self.days.data == "three":
            return THREE_A_WEEK
        days = [parse_int(d, 0, 6) for d in self.custom_days.data or []]
        return [d for d in days if d is not None]

    def fill_days(self, stored: str) -> None:
        """Show the stored days as one of the three choices."""
        self.days.data = {DAILY: "daily", THREE_A_WEEK: "three"}.get(stored, "custom")
        self.custom_days.data = list(stored)


class DeleteAccountForm(CheckedForm):
    confirm = StringField("Type your email address or the word “delete”")
