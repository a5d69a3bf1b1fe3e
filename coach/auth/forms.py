"""Sign-in and enrolment forms (CSRF comes with FlaskForm)."""
from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..i18n import LANGUAGE_NAMES, _, _l, browser_language
from ..models import LANGUAGES
from ..services.families.text_consent import CHANNEL_NAMES, CONSENT_WORDS
from ..services.families.timezones import resolve_timezone
from ..services.people.accounts import EMAIL_RE, MIN_PASSWORD, month_is_plausible_birth, normalise_email

TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email address.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=200)])


def minutes(value: str) -> int:
    hours, mins = value.split(":")
    return int(hours) * 60 + int(mins)


class CaregiverJoinForm(FlaskForm):
    """Joining a household: only the caregiver's own name, email, password and language (the child
    and the schedule are the family's already)."""

    display_name = StringField("Your first name", validators=[
        DataRequired("Tell us what to call you."), Length(max=80, message="Use at most 80 characters.")])
    email = EmailField("Email", validators=[DataRequired("Enter your email address."), Length(max=254)])
    password = PasswordField("Choose a password", validators=[
        DataRequired("Choose a password."),
        Length(min=MIN_PASSWORD, max=200, message=f"Use at least {MIN_PASSWORD} characters.")])
    language = SelectField("Language", choices=[SelectChoice("en", "English"), SelectChoice("es", "Español")],
                           default="en",
                           validate_choice=False)

    def validate_email(self, field):
        if not EMAIL_RE.match(normalise_email(field.data)):
            raise ValidationError("Enter an email address like name@example.org.")

    def validate_language(self, field):
        if field.data not in LANGUAGES:
            raise ValidationError("Choose English or Español.")


class JoinForm(FlaskForm):
    display_name = StringField(_l("Your first name"), validators=[
        DataRequired(_l("Tell us what to call you.")), Length(max=80, message=_l("Use at most 80 characters."))])
    email = EmailField(_l("Email"), validators=[
        DataRequired(_l("Enter your email address.")), Length(max=254)])
    password = PasswordField(_l("Choose a password"), validators=[
        DataRequired(_l("Choose a password.")),
        Length(min=MIN_PASSWORD, max=200, message=_l("Use at least %(num)d characters.", num=MIN_PASSWORD))])
    child_name = StringField(_l("Your child's first name (optional)"), validators=[
        Optional(), Length(max=60, message=_l("Use at most 60 characters."))])
    child_birth_month = StringField(_l("Month your child was born"), validators=[
        DataRequired(_l("Enter the month your child was born."))])
    timezone = StringField(_l("Time zone"), validators=[DataRequired(_l("Choose your time zone."))])
    window_start = StringField(_l("Earliest time for your prompt"), default="18:00",
                               validators=[DataRequired(_l("Choose a start time."))])
    window_end = StringField(_l("Latest time for your prompt"), default="20:00",
                             validators=[DataRequired(_l("Choose an end time."))])
    phone = StringField(_l("Your phone number (optional)"), validators=[
        Optional(), Length(max=40, message=_l("That doesn't look like a phone number we can call."))])
    language = SelectField(_l("Language"), choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
                           validate_choice=False)
    # Shown only when texts are configured (COACH_TWILIO_*); checked by text_consent, as in settings.
    channel = RadioField(_l("How your daily prompt reaches you"), default="push",
                         choices=[SelectChoice(value, label) for value, label in CHANNEL_NAMES.items()])
    sms_consent = BooleanField(CONSENT_WORDS)

    def validate_email(self, field):
        if not EMAIL_RE.match(normalise_email(field.data)):
            raise ValidationError(_("Enter an email address like name@example.org."))

    def validate_language(self, field):
        if not field.raw_data or not field.raw_data[0]:  # an older page or tool without the field
            field.data = browser_language()
        elif field.data not in LANGUAGES:
            raise ValidationError(_("Choose English or Español."))

    def validate_child_birth_month(self, field):
        problem = month_is_plausible_birth(field.data)
        if problem:
            raise ValidationError(problem)

    def validate_timezone(self, field):
        zone = resolve_timezone(field.data)  # "London" as well as Europe/London
        if zone is None:
            raise ValidationError(_("We don't know that time zone. Type a city like London, or a zone "
                                    "like Europe/London."))
        field.data = zone

    def validate_window_start(self, field):
        if not TIME_RE.match(field.data or ""):
            raise ValidationError(_("Use a time like 18:30."))

    def validate_window_end(self, field):
        if not TIME_RE.match(field.data or ""):
            raise ValidationError(_("Use a time like 20:00."))
        start = self.window_start.data or ""
        if TIME_RE.match(start) and minutes(field.data) - minutes(start) < 30:
            raise ValidationError(_("Make the window at least 30 minutes long, ending after it starts."))
