"""The parent's forms: settings and the account-deletion confirmation (CSRF comes with FlaskForm).

Values are checked by the services (``preferences``, ``privacy``), so the API and the pages share
one set of rules; these forms only render fields and carry the services' messages back.
"""
from __future__ import annotations

from markupsafe import Markup, escape
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget, Select

from ..i18n import LANGUAGE_NAMES, _, _l
from ..inputs import CheckedForm, parse_int
from ..services.families.countries import country_choices
from ..services.families.preferences import DAILY, DAY_NAMES, THREE_A_WEEK
from ..services.families.text_consent import CHANNEL_NAMES, CONSENT_WORDS

DAY_CHOICES = [SelectChoice("daily", _l("Every day")),
               SelectChoice("three", _l("Three days a week (Monday, Wednesday and Friday)")),
               SelectChoice("custom", _l("Days I choose"))]
#: The language choice at join and in settings: each language named in itself.
LANGUAGE_CHOICES = [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]


class CompactSelect(Select):
    """A select whose options are written the short way HTML allows (``<option value=GB>United
    Kingdom``, the end tag implied): 250 countries weigh 2.7 KB less on a page a phone loads. Only
    for values that need no quotes (letters and digits); others are quoted as usual."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        value = str(choice.value)
        if not value.isascii() or not value.isalnum():
            return super().render_option(choice, **kwargs)
        selected = " selected" if choice.selected else ""
        return Markup(f"<option value={value}{selected}>{escape(choice.label or value)}")


class SettingsForm(CheckedForm):
    window_start = StringField(_l("Earliest time"))
    window_end = StringField(_l("Latest time"))
    timezone = StringField(_l("Time zone"))
    days = RadioField(_l("Which days?"), choices=DAY_CHOICES, default="daily")
    custom_days = SelectMultipleField(_l("Your days"), choices=[SelectChoice(str(i), _l(name)) for i, name in enumerate(DAY_NAMES)],
                                      widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    paused_until = StringField(_l("Pause prompts until"))
    share_notes_default = BooleanField(_l("Share my notes with my family worker unless I say otherwise"))
    # Chosen on its own page (CountryForm); still taken here when posted, as the API takes it.
    country = StringField(_l("Your country"))
    discreet = BooleanField(_l("Discreet notifications"))
    share_presence = BooleanField(_l("Tell the others in my household when I've checked in (never what I answered or wrote)"))
    phone = StringField(_l("Your phone number (optional)"))
    # Text messages (shown only when COACH_TWILIO_* are set); the words are text_consent's.
    channel = RadioField(_l("How your daily prompt reaches you"), choices=[SelectChoice(value, label) for value, label in CHANNEL_NAMES.items()], default="push")
    sms_consent = BooleanField(CONSENT_WORDS)
    # The service checks the value (one rule for the form and the API), so no choice validation here.
    # Two radio buttons (not a select: the settings page carries no <option> lists).
    language = RadioField(_l("Language for Attune's pages, reminders and emails"), choices=LANGUAGE_CHOICES,
                          validate_choice=False)

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


class CountryForm(CheckedForm):
    """/settings/country: the whole list lives on its own page, so settings stays light (9 KB)."""
    # The service checks the code (one rule for the form and the API), so no choice validation here.
    country = SelectField(_l("Your country"), validate_choice=False, widget=CompactSelect())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Named in the reader's language, so listed per request (in that language's order).
        self.country.choices = [SelectChoice("", _("Not set")),
                                *(SelectChoice(code, name) for code, name in country_choices())]


class DeleteAccountForm(CheckedForm):
    confirm = StringField(_l("Type your email address or the word “delete”"))
