"""Self-service password reset: "Forgot your password?" emails a one-time ``/reset/<token>`` link.

The page gives the same answer whether or not the address has an account, and the request does the
same kind of work either way: the throttle counts it, and one email goes into the outbox (a real,
active account's holds the reset link; any other address is told that no account uses it, which
also helps someone who signed up with another address). Nothing talks to the mail server during the
request (the mail tick sends it later), so the page's timing does not tell the two apart. The link
is the admin's kind (:mod:`.staff`): it works once, for :data:`~.staff.RESET_HOURS` hours and
:data:`~.staff.OPENED_MINUTES` minutes after opening, and using it signs every session of the
account out.
"""
from __future__ import annotations

from ...db import db
from ...i18n import N_, _, in_language
from ...models import PasswordReset, User
from ...security import audit
from ..delivery.mail import queue_mail
from .accounts import normalise_email
from .invites import hash_token
from .staff import RESET_HOURS, new_reset, reset_url
from .throttle import begin_forgot

SUBJECT = N_("Reset your Attune password")


def reset_email(user: User, url: str) -> str:
    """The email's plain-text body, in the current language (the caller picks the recipient's)."""
    name = (user.name or "").strip()
    hello = _("Hello %(name)s,", name=name) if name else _("Hello,")
    return (f"{hello}\n\n"
            + _("Someone, hopefully you, asked to reset the password of the Attune account for this "
                "email address. To choose a new password, open this link:") + f"\n\n{url}\n\n"
            + _("It works once, within %(hours)d hours. Setting a new password signs you out on "
                "every other phone and computer.", hours=RESET_HOURS) + "\n\n"
            + _("If you didn't ask, you can ignore this email: your password stays as it is.") + "\n")


def no_account_email() -> str:
    """The email to an address without an (active) account: no link, nothing to act on."""
    return (_("Hello,") + "\n\n"
            + _("Someone asked to reset the password of an Attune account for this email address, but "
                "no account uses it. If it was you, you may have joined with another address: try that "
                "one, or ask your family worker.") + "\n\n"
            + _("If you didn't ask, you can ignore this email.") + "\n")


def request_reset(email: str, ip: str) -> int:
    """Ask for a reset link for ``email`` from network address ``ip``.

    Returns 0 when the request was taken (whether or not an account exists), else the minutes to
    wait before asking again."""
    email = normalise_email(email)
    wait = begin_forgot(email, ip)
    if wait:
        return wait
    user = User.by_email(email)
    if user is None or not user.active:
        # No account, so no language of theirs: the language of the page they asked on.
        queue_mail(email, _(SUBJECT), no_account_email(), kind="password_reset")
        return 0
    with db.atomic():
        token = new_reset(user, user)
        reset = PasswordReset.get(PasswordReset.user == user, PasswordReset.used_at.is_null(),
                                  PasswordReset.token_hash == hash_token(token))
        with in_language(user.language):  # the account holder's own language
            subject, body = _(SUBJECT), reset_email(user, reset_url(token))
        queue_mail(user.email, subject, body, kind="password_reset", dedupe_key=f"password_reset:{reset.id}")
        audit("password_reset_requested", "user", user.id, actor=user)
    return 0
