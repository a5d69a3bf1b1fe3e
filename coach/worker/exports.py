"""CSV exports: the caseload's metrics (``/worker/export.csv``) and one family's history.

UTF-8 with a byte-order mark (so Excel reads accents), a header row, and cells made safe from
spreadsheet formula injection: text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading single quote. Headers and values stay in English whatever the reader's
language (machine-readable: scripts and spreadsheets key on them; docs/translations.md).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime

from flask import Response
from flask_login import current_user

from ..errors import AppError
from ..i18n import _
from ..security import audit, role_required
from ..services.families import caseload, contacts
from ..services.families.engagement import PERIODS, FamilyEngagement, local_date
from ..services.families.household_engagement import CaregiverEngagement, household_engagement
from .blueprint import bp
from .forms import read_filters

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A value ready for a spreadsheet: numbers as they are, text neutralised if it could be a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_response(filename: str, header: list[str], rows: Iterable[list[object]]) -> Response:
    """A downloadable CSV (attachment) built from plain rows."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


CASELOAD_HEADER = ["family_id", "family", "child", "worker", "status", "reason", "enrolled_on",
                   "last_check_in", "days_since_check_in", "streak"]
for _n in PERIODS:
    CASELOAD_HEADER += [f"prompts_{_n}d", f"delivered_{_n}d", f"delivered_pct_{_n}d", f"opened_{_n}d",
                        f"opened_pct_{_n}d", f"checked_in_{_n}d", f"checked_in_pct_{_n}d"]
CASELOAD_HEADER += ["devices", "working_devices", "last_successful_push_utc", "open_support_requests",
                    "check_in_days_7d", "check_in_days_prev_7d", "trend", "reach", "next_step_due",
                    "last_contact_on", "last_contact", "next_step_on"]
#: One row per caregiver: the family's columns repeat, then the caregiver's own (never a note).
CASELOAD_HEADER += ["caregiver", "caregiver_check_in_days_28d", "caregiver_last_check_in", "caregiver_streak",
                    "caregiver_reach", "caregiver_devices", "caregiver_working_devices"]


def caregiver_cells(person: CaregiverEngagement | None) -> list[object]:
    """A caregiver's columns of the caseload CSV (blank for a family with nobody in it)."""
    if person is None:
        return [None] * 7
    return [person.user.label, person.checkin_days, person.last_checkin_on, person.streak, person.reach_label,
            person.devices, person.working_devices]


def caseload_row(row: FamilyEngagement) -> list[object]:
    """One family's metrics, in CASELOAD_HEADER's order (the same numbers as the caseload page)."""
    family = row.family
    worker = family.worker.label if family.worker_id and family.worker else ""
    cells: list[object] = [family.id, family.display_name, family.child_name, worker, row.status_label,
                           row.reason, family.created_at.date(), row.last_checkin_on,
                           row.days_since_checkin, row.streak]
    for n in PERIODS:
        funnel = row.periods[n]
        cells += [funnel.prompts, funnel.delivered, funnel.rate(funnel.delivered), funnel.opened,
                  funnel.rate(funnel.opened), funnel.checked_in, funnel.rate(funnel.checked_in)]
    cells += [row.devices, row.working_devices, row.last_push_ok_at, row.open_support]
    contact = row.contact
    cells += [row.week_days, row.last_week_days, row.trend, row.reach_label, row.next_step_due,
              contact.on if contact else None,
              contacts.contact_summary(contact.kind, contact.outcome) if contact else None,
              contact.next_step_on if contact else None]
    return cells


@bp.get("/export.csv")
@role_required("worker", "admin")
def caseload_csv():
    """The caseload's metrics as CSV, one row per caregiver (the family's columns repeat for each of
    its caregivers; the page's filters apply)."""
    form, valid = read_filters(current_user)
    if not valid:
        problems = " ".join(str(error) for errors in form.errors.values() for error in errors)
        raise AppError(400, _("The export's filters need another look: %(problems)s", problems=problems), code="bad_filters")
    rows = caseload.measured_caseload(current_user, form.filters(), page_size=None).rows
    households = household_engagement([row.family for row in rows])
    return csv_response(f"caseload-{date.today().isoformat()}.csv", CASELOAD_HEADER,
                        (caseload_row(row) + caregiver_cells(person) for row in rows
                         for person in (households.get(row.family.id) or [None])))


FAMILY_HEADER = ["date", "prompt", "theme", "delivery", "delivery_detail", "sent_at", "opened_at",
                 "checked_in_at", "tried", "answer", "felt", "shared_note", "wants_support",
                 "contact", "contact_by", "contact_note", "next_step_on", "checked_in_by"]


@bp.get("/families/<int:family_id>/export.csv")
@role_required("worker", "admin")
def family_csv(family_id: int):
    """One family's whole history as CSV: a row per prompt, per check-in and per logged contact
    (local times; a contact's row is dated by the family's local day)."""
    family = caseload.family_for(current_user, family_id)
    timeline = caseload.family_timeline(family, days=None)
    notes = caseload.shared_note_count(timeline)
    if notes:
        audit("view_notes", "family", family.id, notes=notes, via="csv")
    rows = []
    for entry in reversed(timeline):
        event = entry.delivery
        prompt = event.delivery.prompt if event and event.delivery.prompt_id else None
        title = prompt.title if prompt else ("Weekly reflection" if event and event.delivery.kind == "reflection"
                                             else "")
        base = [entry.day, title, event.delivery.theme if event else "",
                event.headline if event else "", event.detail if event else "",
                event.sent_at.replace(tzinfo=None) if event and event.sent_at else None,
                event.opened_at.replace(tzinfo=None) if event and event.opened_at else None]
        if event and not entry.checkins:
            rows.append(base + [None] * 11)
        for checkin in entry.checkins:
            rows.append(base + [checkin.at.replace(tzinfo=None), checkin.tried, checkin.answer,
                                checkin.felt, checkin.note, checkin.checkin.wants_support] + [None] * 4
                        + [checkin.by])
    for contact in reversed(contacts.family_contacts(family, limit=None)):
        rows.append([local_date(contact.created_at, family.timezone)] + [None] * 12
                    + [contacts.contact_summary(contact.kind, contact.outcome),
                       contact.worker.label if contact.worker_id and contact.worker else "",
                       contact.note, contact.next_step_on, None])
    rows.sort(key=lambda cells: cells[0])  # one history, oldest first (a stable sort keeps each day's order)
    slug = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in family.display_name.lower()).strip("-") or "family"
    return csv_response(f"family-{family.id}-{slug[:40]}.csv", FAMILY_HEADER, rows)
