"""The words JavaScript shows, in the reader's language (DESIGN "Reach → Languages").

The pages' modules call ``t("<English>")`` (static/js/notifications.js) and the service worker
``say("<English>")`` (static/sw.js); the English sentences are listed here so ``pybabel extract``
puts them in the catalogue, and tests/test_i18n.py fails when a script uses one that isn't. A page in
another language than English carries its words in ``<script type="application/json"
id="attune-words">`` (templates/base.html); the service worker is built with every language's.
"""
from __future__ import annotations

from .i18n import N_, _, in_language
from .models import LANGUAGES

#: ``t(…)`` in static/js: ``%(name)s`` is filled in by the script.
PAGE_WORDS = (
    N_("Reminders aren't set up on the server yet."),
    N_("We couldn't save this device. Please try again."),
    N_("On"),
    N_("Turn on reminders"),
    N_("You're offline. Reminders will catch up."),
    N_("Reminders are off on this phone. Your prompt is still here each day."),
    N_("No problem. You can turn reminders on whenever you like."),
    N_("Reminders are on. Your next prompt will arrive as a notification."),
    N_("Something went wrong. Please try again."),
    N_("Sending…"),
    N_("Sent."),
    N_("That didn't work. Please try again."),
    N_("You're offline. Try again when you're connected."),
    N_("%(left)s characters left"),
    N_("That didn't save."),
    N_("Choose the answer closest to your day."),
    N_("Nothing to add yet: choose a feeling, write a note or tick a box, or tap Done."),
    N_("Added to your check-in."),
    N_("Kept on this phone: it's added when you're online."),
    N_("1 check-in is waiting to send. It will send when you're online."),
    N_("%(count)s check-ins are waiting to send. They will send when you're online."),
    N_("Use this phone's time zone (%(zone)s)"),
    N_("1 check-in hasn't been sent yet. If you sign out now it will wait on this phone and go when "
       "you sign in again."),
    N_("%(count)s check-ins haven't been sent yet. If you sign out now they will wait on this phone "
       "and go when you sign in again."),
    N_("Stay signed in"),
    N_("Sign out anyway"),
    N_("Sign out?"),
    # The worker's pages (static/js/alerts.js, invite-share.js).
    N_("Alerts are on. A family's request for contact will show here as a notification."),
    N_("Link copied. Paste it into a message to the parent."),
    N_("The link is selected: copy it with your phone's or computer's copy command."),
    N_("Join Attune"),
    N_("Shared."),
    # The admin's prompt editor (static/js/admin-editor.js).
    N_("Noticing cues"),
    N_("Out of sync"),
    N_("Coming back together"),
    N_("A lock screen would cut off the title and the body (shown with “…”). Shorten it so parents see "
       "it whole."),
    N_("A lock screen would cut off the title (shown with “…”). Shorten it so parents see it whole."),
    N_("A lock screen would cut off the body (shown with “…”). Shorten it so parents see it whole."),
)

#: ``say(…)`` in static/sw.js.
WORKER_WORDS = (
    N_("A small moment for today is waiting for you."),
    N_("I tried it"),
    N_("Later"),
    N_("Noted: it saves when you're online. Well done for trying it."),
    N_("Saved to your journal. Well done for trying it."),
    N_("We can't remind you later right now. It's in the app whenever you're ready."),
    N_("You're offline. This will work again when you're back online."),
)


def page_words() -> dict[str, str]:
    """The pages' words in the current language (empty in English: the scripts' own text)."""
    return {text: _(text) for text in PAGE_WORDS}


def worker_words() -> dict[str, dict[str, str]]:
    """The service worker's words in every language but English."""
    words = {}
    for language in LANGUAGES[1:]:
        with in_language(language):
            words[language] = {text: _(text) for text in WORKER_WORDS}
    return words
