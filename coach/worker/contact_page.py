"""What the family page adds for getting in touch: the parent's phone (with ``tel:`` and ``sms:``
links), the contact log and its form, and times in the worker's own time zone."""
from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import quote

from flask_login import current_user

from ..i18n import _, in_language
from ..models import Family, Invite
from ..services.delivery.texts import text_reach
from ..services.families import contacts
from ..services.families.activity import local_date, local_time
from ..services.families.engagement import reach_next_step
from ..services.families.phones import display_phone
from ..services.people.staff_time import viewer_zone
from .forms import ContactForm, PhoneForm


def staff_today(family: Family) -> date:
    """Today for the signed-in worker (their own zone, else the family's): next steps start here."""
    return local_date(datetime.now(UTC).replace(tzinfo=None), viewer_zone(current_user, family.timezone))


def in_zone(zone: str):
    """A template helper: a naive-UTC or aware moment shown in ``zone``."""
    def convert(moment: datetime) -> datetime:
        if moment.tzinfo is None:
            return local_time(moment, zone)
        return moment.astimezone(local_time(datetime(2000, 1, 1), zone).tzinfo)
    return convert


def sms_link(phone: str, first_name: str, worker: str, language: str | None = None) -> str:
    """An ``sms:`` link with a friendly opening the worker can edit before sending, in the parent's
    language (not the worker's)."""
    with in_language(language):
        body = _("Hi %(name)s, it's %(worker)s from Attune. Is now a good time for a quick chat?",
                 name=first_name, worker=worker)
    return f"sms:{phone}?&body={quote(body)}"


def family_extras(family: Family, forms: dict) -> dict:
    """The family page's contact pieces (forms as given, with their errors, or blank)."""
    parent = family.user
    zone = viewer_zone(current_user, family.timezone)
    name = family.display_name or parent.name  # the name the parent gave at enrolment
    first = name.split()[0] if name.strip() else "there"
    contact_form = forms.get("contact_form") or ContactForm(formdata=None)
    phone_form = forms.get("phone_form") or PhoneForm(formdata=None, phone=display_phone(parent.phone, family.country))
    return {
        "contacts": contacts.family_contacts(family),
        "contact_form": contact_form, "phone_form": phone_form,
        "phone_shown": display_phone(parent.phone, family.country),
        "sms_href": sms_link(parent.phone, first, current_user.label, parent.language) if parent.phone else "",
        "reach_step": reach_next_step, "parent_first": first,
        "zone": zone, "own_zone": bool(current_user.timezone), "local": in_zone(zone),
        "staff_today": staff_today(family).isoformat(),
        "kind_words": contacts.KIND_WORDS, "outcome_words": contacts.OUTCOME_WORDS,
        "texts": text_reach(parent),
    }


def invite_texts(link: str, invite: Invite) -> dict:
    """The words that go with a new invite link: for sharing (the link travels beside them) and a
    whole text message (the link inside it)."""
    # Never the invite's label: the worker wrote it for themselves ("only you see this").
    share = (f"Hi, here is your invite to Attune from {current_user.label}: one small moment with your "
             f"child each day. The link works once, until {invite.expires_at:%-d %B}.")
    return {"share_text": share, "invite_message": f"{share} {link}"}
