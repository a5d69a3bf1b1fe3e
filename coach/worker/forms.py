"""Forms of the worker area: the caseload filters (GET, no CSRF), invites and support follow-ups."""
from __future__ import annotations

from flask import request
from werkzeug.datastructures import MultiDict
from wtforms import Form, RadioField, SearchField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..errors import AppError
from ..i18n import LANGUAGE_NAMES, N_, _l
from ..inputs import CheckedForm, WholeNumberField, parse_int
from ..models import CONTACT_KINDS, CONTACT_OUTCOMES, User
from ..services.families.caseload import FOLLOW_UP_NOTE_MAX, CaseloadFilters, worker_choices
from ..services.families.contacts import KIND_WORDS, OUTCOME_WORDS
from ..services.families.engagement import STATUS_LABELS, STATUSES


class CaseloadFilterForm(Form):
    """Search and filters read from the query string, so the form works without JavaScript."""

    q = SearchField(_l("Search by name"), validators=[
        Optional(), Length(max=80, message=_l("Search with at most 80 characters."))])
    status = SelectField(_l("Status"), validate_choice=False,
                         choices=[SelectChoice("", _l("Any status"))]
                         + [SelectChoice(s, _l(STATUS_LABELS[s])) for s in STATUSES])
    worker = SelectField(_l("Worker"), validate_choice=False, choices=[SelectChoice("", _l("All workers"))])

    def __init__(self, args: MultiDict, user: User, workers: list[User] | None = None):
        super().__init__(args)
        self.user = user
        if workers is not None:
            self.worker.choices = ([SelectChoice("", _l("All workers")), SelectChoice("none", _l("No worker"))]
                                   + [SelectChoice(str(w.id), w.label) for w in workers])

    def validate_status(self, field) -> None:
        if field.data and field.data not in STATUSES:
            raise ValidationError(_l("Choose a status from the list."))

    def validate_worker(self, field) -> None:
        if self.user.role != "admin" or not field.data:
            return
        if field.data not in {choice.value for choice in self.worker.choices}:
            raise ValidationError(_l("Choose a worker from the list."))

    def filters(self) -> CaseloadFilters:
        """The valid filters; a field with an error is left out, so the page still shows families."""
        def ok(name: str) -> str:
            value = (self[name].data or "").strip()
            return "" if self[name].errors else value
        return CaseloadFilters(q=ok("q"), status=ok("status"),
                               worker=ok("worker") if self.user.role == "admin" else "", page=self.page_number())

    def page_number(self) -> int:
        """``?page=N`` (1 when absent; past the end shows the last page). Not a number: a 400."""
        raw = request.args.get("page", "1")
        page = parse_int(raw, 1, 10**6)
        if page is None:
            raise AppError(400, N_("Choose a page number from 1 up."), code="bad_page")
        return page

    def query_args(self) -> dict[str, str]:
        """The valid filters as query-string arguments (for the CSV link and status tiles)."""
        filters = self.filters()
        return {k: v for k, v in (("q", filters.q), ("status", filters.status), ("worker", filters.worker)) if v}


def read_filters(user: User) -> tuple[CaseloadFilterForm, bool]:
    """The caseload filters from the query string, and whether they were all valid."""
    form = CaseloadFilterForm(request.args, user, worker_choices() if user.role == "admin" else None)
    return form, form.validate()


class InviteForm(CheckedForm):
    label = StringField(_l("Who is this for? (only you see this)"), validators=[
        Optional(), Length(max=80, message=_l("Use at most 80 characters."))])
    days = WholeNumberField(_l("Link works for (days)"), default=14, low=1, high=90,
                            message=_l("Choose 1 to 90 days."),
                            validators=[DataRequired(_l("Choose how many days the link works."))])


class FollowUpForm(CheckedForm):
    request_id = WholeNumberField(_l("Request"), message=_l("Choose which request you followed up."), validators=[
        DataRequired(_l("Choose which request you followed up."))])
    note = TextAreaField(_l("Note (optional, only workers see it)"), validators=[
        Optional(), Length(max=FOLLOW_UP_NOTE_MAX,
                           message=_l("Use at most %(num)d characters.", num=FOLLOW_UP_NOTE_MAX))])


class ContactForm(CheckedForm):
    """Log a call, text, visit or message (choices and limits are checked by services/families/contacts)."""

    kind = SelectField(_l("How you got in touch"), validate_choice=False, choices=[
        SelectChoice(kind, _l(KIND_WORDS[kind])) for kind in CONTACT_KINDS])
    outcome = SelectField(_l("What happened"), validate_choice=False, choices=[
        SelectChoice(outcome, _l(OUTCOME_WORDS[outcome])) for outcome in CONTACT_OUTCOMES])
    note = TextAreaField(_l("Note (optional, only workers see it)"))
    next_step_on = StringField(_l("Next step on (optional)"))


class PhoneForm(CheckedForm):
    """The parent's phone number, as the worker types it (parsed by services/families/phones)."""

    phone = StringField(_l("Parent's phone number"))


class StaffSettingsForm(CheckedForm):
    """A worker's or admin's own settings: the time zone their pages show times in."""

    timezone = StringField(_l("Your time zone"))
    # Each person's own, whatever their families read (DESIGN "Reach → Languages").
    language = RadioField(_l("Your language"), choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
                          validate_choice=False)
