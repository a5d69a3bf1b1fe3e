"""The fixed words of Attune's texts, in each person's language (``User.language``: en, es).

Prompt texts are built from the prompt itself (``texts.prompt_text``); these are the rest: the
confirmation on agreeing, STOP's and START's answers, HELP, the thanks for a reply. Every one says
who it is from, and the ones that start or restart texts say how often, that rates may apply, and
how to stop and get help (the carriers' rules). STOP, START and HELP stay the English keywords in
every language: they are what carriers and Twilio act on.
"""
from __future__ import annotations

WORDS = {
    "en": {
        "confirm": "Attune: you're signed up for a small parenting moment by text, 1 message a day. "
                   "Msg & data rates may apply. Reply STOP to cancel, HELP for help.",
        "stopped": "Attune: you won't get any more texts from us. Reply START to get them again.",
        "started": "Attune: texts are back on, 1 message a day. Msg & data rates may apply. "
                   "Reply STOP to cancel, HELP for help.",
        "help": "Attune: one parenting moment a day, 1 message a day.{reach} Msg & data rates may apply. "
                "Reply STOP to cancel.",
        "help_reach": " Need help now? {lines}.",
        "thanks_answer": "Thanks, that's saved. Want to add a few words about it? Text them back: only you will see them.",
        "thanks_note": "Thanks, that's saved in your journal. Only you can see it.",
        "no_prompt": "There's no prompt to answer yet today. Your next one comes in your usual time.",
        "bad_answer": "Reply with a number from 1 to {n} to answer today's prompt.",
        "discreet": "A moment for today is ready",
    },
    "es": {
        "confirm": "Attune: te has apuntado a un pequeño momento de crianza por SMS, 1 mensaje al día. "
                   "Pueden aplicarse tarifas de mensajes y datos. Responde STOP para cancelar, HELP para ayuda.",
        "stopped": "Attune: ya no te enviaremos más mensajes. Responde START para volver a recibirlos.",
        "started": "Attune: vuelves a recibir mensajes, 1 al día. Pueden aplicarse tarifas de mensajes y datos. "
                   "Responde STOP para cancelar, HELP para ayuda.",
        "help": "Attune: un momento de crianza al día, 1 mensaje al día.{reach} Pueden aplicarse tarifas de "
                "mensajes y datos. Responde STOP para cancelar.",
        "help_reach": " ¿Necesitas ayuda ahora? {lines}.",
        "thanks_answer": "Gracias, queda guardado. ¿Quieres añadir unas palabras? Escríbelas aquí: solo tú las verás.",
        "thanks_note": "Gracias, queda guardado en tu diario. Solo tú puedes verlo.",
        "no_prompt": "Hoy todavía no hay nada que responder. El próximo llega a tu hora de siempre.",
        "bad_answer": "Responde con un número del 1 al {n} para contestar al momento de hoy.",
        "discreet": "Hay un momento listo para hoy",
    },
}


def words(language: str | None, key: str, **values: object) -> str:
    """The text ``key`` in ``language`` (English when Attune doesn't speak it), filled with ``values``."""
    table = WORDS.get(language or "en", WORDS["en"])
    return table[key].format(**values) if values else table[key]
