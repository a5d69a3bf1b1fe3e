"""Phone numbers: parsed and checked with ``phonenumbers``, stored as E.164, shown nationally.

A number may be typed the way people write it ("07911 123456", "(201) 555-0123", "+61 412 345
678"); without a leading ``+`` it is read in the family's country (``Family.country``), so a parent
in Leeds need not know their country code. Nothing that the library does not call a valid number is
stored: the caller gets an AppError with a sentence to show under the field.
"""
from __future__ import annotations

import phonenumbers

from ...errors import AppError
from ...i18n import N_

#: How long a typed number may be before we refuse to parse it (the longest E.164 is 15 digits;
#: spaces, brackets and an extension leave room).
MAX_TYPED = 40
BAD_NUMBER = N_("That doesn't look like a phone number we can call. Check the digits, or start with "
                "+ and the country code (for example +44 7911 123456).")


def parse_phone(text: str | None, country: str = "") -> str:
    """``text`` as an E.164 number ("+447911123456"), or "" when blank.

    ``country`` (ISO alpha-2) is where a number without ``+`` is read. AppError 422 (field
    ``phone``) for anything that is not a valid number.
    """
    text = (text or "").strip()
    if not text:
        return ""
    if len(text) > MAX_TYPED:
        raise AppError(422, BAD_NUMBER, code="bad_phone", fields={"phone": BAD_NUMBER})
    region = (country or "").upper() if country and country != "*" else None
    if region is None and not text.startswith("+"):
        message = N_("Start the number with + and the country code (for example +44 7911 123456).")
        raise AppError(422, message, code="bad_phone", fields={"phone": message})
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise AppError(422, BAD_NUMBER, code="bad_phone", fields={"phone": BAD_NUMBER}) from None
    if not phonenumbers.is_valid_number(number):
        raise AppError(422, BAD_NUMBER, code="bad_phone", fields={"phone": BAD_NUMBER})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str, country: str = "") -> str:
    """An E.164 number as people write it: national format at home, international elsewhere."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    # By calling code, not region: +44 is shared by GB, Jersey and Guernsey, which dial alike.
    home = bool(country) and phonenumbers.country_code_for_region(country.upper()) == number.country_code
    style = phonenumbers.PhoneNumberFormat.NATIONAL if home else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, style)
