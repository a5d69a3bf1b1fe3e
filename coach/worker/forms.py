"""Forms of the worker area: the caseload filters (GET, no CSRF), invites and support follow-ups."""
from __future__ import annotations

from flask import request
from werkzeug.datastructures import MultiDict
from wtforms import Form, SearchField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..inputs import CheckedForm, WholeNumberField
from ..models import User
from ..services.families.caseload import FOLLOW_UP_NOTE_MAX, CaseloadFilters, worker_choices
from ..services.families.engagement import NEED_ORDER, STATUS_LABELS


class CaseloadFilterForm(Form):
    """Search and filters read from the query string, so the form works without JavaScript."""

    q = SearchField("Search by name", validators=[
        Optional(), Length(max=80, message="Search with at most 80 characters.")])
    status = SelectField("Status", validate_choice=False,
                         choices=[SelectChoice("", "Any status")]
                         + [SelectChoice(s, STATUS_LABELS[s]) for s in NEED_ORDER])
    worker = SelectField("Worker", validate_choice=False, choices=[SelectChoice("", "All workers")])

    def __init__(self, args: MultiDict, user: User, workers: list[User] | None = None):
        super().__init__(args)
        self.user = user
        if workers is not None:
            self.worker.choices = ([SelectChoice("", "All workers"), SelectChoice("none", "No worker")]
                                   + [SelectChoice(str(w.id), w.label) for w in workers])

    def validate_status(self, field) -> None:
        if field.data and field.data not in NEED_ORDER:
            raise ValidationError("Choose a status from the list.")

    def validate_worker(self, field) -> None:
        if self.user.role != "admin" or not field.data:
            return
        if field.data not in {choice.value for choice in self.worker.choices}:
            raise ValidationError("Choose a worker from the list.")

    def filters(self) -> CaseloadFilters:
        """The valid filters; a field with an error is left out, so the page still shows families."""
        def ok(name: str) -> str:
            value = (self[name].data or "").strip()
            return "" if self[name].errors else value
        return CaseloadFilters(q=ok("q"), status=ok("status"),
                               worker=ok("worker") if self.user.role == "admin" else "")

    def query_args(self) -> dict[str, str]:
        """The valid filters as query-string arguments (for the CSV link and status tiles)."""
        filters = self.filters()
        return {k: v for k, v in (("q", filters.q), ("status", filters.status), ("worker", filters.worker)) if v}


def read_filters(user: User) -> tuple[CaseloadFilterForm, bool]:
    """The caseload filters from the query string, and whether they were all valid."""
    form = CaseloadFilterForm(request.args, user, worker_choices() if user.role == "admin" else None)
    return form, form.validate()


class InviteForm(CheckedForm):
    label = StringField("Who is this for? (only you see this)", validators=[
        Optional(), Length(max=80, message="Use at most 80 characters.")])
    days = WholeNumberField("Link works for (days)", default=14, low=1, high=90,
                            message="Choose 1 to 90 days.",
                            validators=[DataRequired("Choose how many days the link works.")])


class FollowUpForm(CheckedForm):
    request_id = WholeNumberField("Request", message="Choose which request you followed up.", validators=[
        DataRequired("Choose which request you followed up.")])
    note = TextAreaField("Note (optional, only workers see it)", validators=[
        Optional(), Length(max=FOLLOW_UP_NOTE_MAX,
                           message=f"Use at most {FOLLOW_UP_NOTE_MAX} characters.")])
