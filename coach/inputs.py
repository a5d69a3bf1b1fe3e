"""The one way request input becomes values: JSON bodies, integers and ids, and text.

Every view, form and service that reads what a client sent goes through these functions, so a
hostile input gets the same clear 4xx everywhere instead of a 500 from deep inside:

- JSON is parsed with a size limit and a nesting limit checked *before* parsing (Python's ``json``
  recurses and raises ``RecursionError`` on very deep input), and every string in it is checked for
  characters no database column should hold (NUL, other control characters, lone surrogates).
- Integers are ASCII digits only (``int()`` and ``str.isdigit()`` accept "²" and "٣"), always within
  a range; ids lie in 1..2^63-1, the range of a SQLite/PostgreSQL ``BIGINT``.
- Form fields and query arguments with such characters are refused before any view runs (a request
  hook), unless the view's form reports them as field errors itself (:func:`checks_own_text`).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask_wtf import FlaskForm
from werkzeug.routing import BaseConverter, ValidationError
from wtforms import IntegerField
from wtforms.validators import StopValidation

from .errors import AppError
from .i18n import N_, _

MAX_ID = 2**63 - 1
#: JSON nesting allowed in a body: the deepest real body (an import's answers) is 4 levels.
MAX_JSON_DEPTH = 16
#: JSON bodies of the API; uploads have their own, larger limits.
MAX_JSON_BYTES = 64 * 1024
DIGITS_RE = re.compile(r"[0-9]{1,19}")
#: Characters refused in any text: C0 controls except tab, newline and carriage return, DEL, and
#: lone surrogates (PostgreSQL refuses NUL; no encoder can write a lone surrogate as UTF-8).
UNSTORABLE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
#: Single-line text (names, emails, times, time zones) may not hold line breaks or tabs either.
LINE_BREAK_RE = re.compile(r"[\t\n\r\u2028\u2029\x85]")
_STRING_OR_BRACKET_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)  # no backtracking
BAD_TEXT_MESSAGE = N_("Remove the invisible control character (such as a NUL byte) from this text.")


# --- integers and ids ---------------------------------------------------------------------------

def parse_int(value: object, low: int, high: int, *, text: bool = True) -> int | None:
    """``value`` as an int in ``low..high``, or None.

    Accepts a JSON integer (never a bool or a float) or, when ``text`` is true, a string of ASCII
    digits (surrounding spaces ignored). Signs, "²", "٣", "1_000" and "1e3" are not numbers here.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif text and isinstance(value, str) and DIGITS_RE.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    return number if low <= number <= high else None


def parse_id(value: object, *, text: bool = True) -> int | None:
    """A row id (1..2^63-1) from a JSON integer or ASCII digits, or None."""
    return parse_int(value, 1, MAX_ID, text=text)


class IdConverter(BaseConverter):
    """``<int:…>`` in routes: ASCII digits naming an id that fits a BIGINT, otherwise no match (404).

    Werkzeug's own converter matches ``\\d+`` (any Unicode digit) without an upper bound, so
    ``/checkin/99999999999999999999`` reached the database and overflowed there.
    """

    regex = r"[0-9]{1,19}"
    weight = 50
    part_isolating = True

    def to_python(self, value: str) -> int:
        number = parse_int(value, 0, MAX_ID)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value: object) -> str:
        return str(int(value))  # type: ignore[call-overload]


# --- text ----------------------------------------------------------------------------------------

def text_problem(value: str, *, multiline: bool = True) -> str | None:
    """Why ``value`` can't be stored as text, in one sentence, or None when it can."""
    if UNSTORABLE_RE.search(value):
        return BAD_TEXT_MESSAGE
    if not multiline and LINE_BREAK_RE.search(value):
        return N_("Keep this to one line, without line breaks or tabs.")
    return None


def clean_text(value: object, field: str, *, multiline: bool = True) -> str:
    """``value`` as storable text; AppError 422 naming ``field`` when it isn't a string or can't be stored."""
    if not isinstance(value, str):
        raise AppError(422, N_("Some of the details need another look."), fields={field: N_("Send this as text.")})
    problem = text_problem(value, multiline=multiline)
    if problem:
        raise AppError(422, N_("Some of the details need another look."), fields={field: problem})
    return value


def form_text_problems(values: Mapping[str, object]) -> dict[str, str]:
    """Field name → problem for each form value (or field name) holding an unstorable character."""
    problems = {}
    for name in values:
        items = values.getlist(name) if hasattr(values, "getlist") else [values[name]]
        if UNSTORABLE_RE.search(name) or any(isinstance(item, str) and UNSTORABLE_RE.search(item)
                                             for item in items):
            problems[_printable(name)] = BAD_TEXT_MESSAGE
    return problems


def _printable(name: str) -> str:
    return UNSTORABLE_RE.sub("\ufffd", name)[:60]


class CheckedForm(FlaskForm):
    """A FlaskForm whose fields refuse unstorable characters with a field error (mark its view
    with :func:`checks_own_text`)."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            problem = next((text_problem(raw) for raw in field.raw_data or []
                            if isinstance(raw, str) and text_problem(raw)), None)
            if problem:
                field.errors = [*field.errors, problem]
                valid = False
        return valid


class WholeNumberField(IntegerField):
    """An integer form field that reads ASCII digits only, within ``low..high``; anything else is a
    field error with ``message`` (WTForms' own field takes "٣" as 3 and any size)."""

    def __init__(self, label: str | None = None, validators=None, *, low: int = 0, high: int = MAX_ID,
                 message: str = "Enter a whole number.", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.low, self.high, self.message = low, high, message

    def process_formdata(self, valuelist: list) -> None:
        if not valuelist:
            return  # not sent: the default stands
        if not str(valuelist[0]).strip():
            self.data = None
            return
        self.data = parse_int(valuelist[0], self.low, self.high)
        if self.data is None:
            raise ValueError(self.message)

    def pre_validate(self, form) -> None:
        if self.process_errors:  # keep this message: DataRequired would replace it with its own
            raise StopValidation()


# --- JSON ----------------------------------------------------------------------------------------

def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests arrays/objects deeper than ``limit`` (strings are skipped, not parsed)."""
    depth = 0
    for match in _STRING_OR_BRACKET_RE.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return True
        elif token in "]}":
            depth -= 1
    return False


def parse_json(raw: bytes, *, max_bytes: int = MAX_JSON_BYTES, what: str = "The request body",
               code: str = "invalid_json") -> Any:
    """Decode UTF-8 JSON bytes: AppError 413 when too large, 400 (``code``) when not JSON or nested
    too deeply, 422 when a string holds a character that can't be stored."""
    if len(raw) > max_bytes:
        raise AppError(413, f"{what} is {_size(len(raw))}; the limit is {_size(max_bytes)}.",
                       code="too_large")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AppError(400, f"{what} isn't UTF-8 text.", code=code) from None
    if json_depth_exceeds(text):
        raise AppError(400, f"{what} nests lists or objects more than {MAX_JSON_DEPTH} deep.", code=code)
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:  # belt and braces: the depth check above should make this unreachable
        raise AppError(400, f"{what} nests too deeply.", code=code) from None
    except ValueError as error:  # JSONDecodeError, non-finite numbers, over-long integers
        detail = f": {error.msg} at line {error.lineno}, column {error.colno}" \
            if isinstance(error, json.JSONDecodeError) else ""
        raise AppError(400, f"{what} isn't valid JSON{detail}.", code=code) from None
    path = first_unstorable(data)
    if path is not None:
        raise AppError(422, f"{what} has a control character (such as a NUL byte) in “{path}”.",
                       code="invalid", fields={path: BAD_TEXT_MESSAGE})
    return data


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def first_unstorable(data: Any) -> str | None:
    """The path (``answers.1.label``) of the first string or key that can't be stored, or None."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if UNSTORABLE_RE.search(value):
                return path or "body"
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{_printable(key)}" if path else _printable(key)
                if UNSTORABLE_RE.search(key):
                    return child
                stack.append((child, item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{index}" if path else str(index), item) for index, item in enumerate(value))
    return None


def request_json(*, optional: bool = False, code: str = "invalid_json") -> dict:
    """The request's body as a JSON object (see :func:`parse_json`); 415 when it isn't sent as JSON.

    With ``optional``, an empty body means ``{}`` (for POSTs whose fields are all optional).
    """
    raw = request.get_data(cache=True)
    if optional and not raw:
        return {}
    if not request.is_json:
        raise AppError(415, N_("Send the request body as JSON (Content-Type: application/json)."))
    if not raw:
        raise AppError(400, N_("The request body is empty; send a JSON object."), code=code)
    data = parse_json(raw, code=code)
    if not isinstance(data, dict):
        raise AppError(400, N_("Send a JSON object."), code="bad_request")
    return data


def _size(count: int) -> str:
    return f"{count // 1024} KB" if count >= 1024 else f"{count} bytes"


# --- the request hook ----------------------------------------------------------------------------

class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing nesting deeper than MAX_JSON_DEPTH before parsing (a ValueError, which
    ``request.get_json`` turns into a 400), for every caller: Flask-WTF forms read JSON bodies too."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        text = s.decode("utf-8-sig") if isinstance(s, bytes) else s
        if json_depth_exceeds(text):
            raise ValueError(f"JSON nested more than {MAX_JSON_DEPTH} deep")
        return super().loads(text, **kwargs)


def takes_json(view: Callable) -> Callable:
    """Mark a view outside ``/api`` that reads a JSON body (the request hook refuses JSON elsewhere)."""
    view.takes_json = True  # type: ignore[attr-defined]
    return view


def checks_own_text(view: Callable) -> Callable:
    """Mark a view whose form reports unstorable characters as field errors itself, so the request
    hook lets its form fields through (query arguments are still checked)."""
    view.checks_own_text = True  # type: ignore[attr-defined]
    return view


def refuse_unstorable_input() -> None:
    """Before any view: a query argument or form field with a NUL or control character is a 400;
    a JSON body sent to a page (whose forms would read it as fields of any type) is a 415."""
    if request.routing_exception is not None:
        return  # no such page: the 404 or 405 is the answer
    view = current_app.view_functions.get(request.endpoint or "")
    if request.is_json and request.content_length != 0 and not (
            (request.blueprint or "").split(".")[0] == "api" or getattr(view, "takes_json", False)):
        raise AppError(415, N_("This page takes a form, not JSON."))
    problems = form_text_problems(request.args)
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        if not getattr(view, "checks_own_text", False):
            problems |= form_text_problems(request.form)
        problems |= {name: BAD_TEXT_MESSAGE for name, upload in request.files.items(multi=True)
                     if upload.filename and UNSTORABLE_RE.search(upload.filename)}
    if problems:
        names = ", ".join(f"“{name}”" for name in problems)
        raise AppError(400, _("What was sent has a character we can't store (such as a NUL byte) in "
                              "%(names)s. Remove it and try again.", names=names),
                       code="unstorable_text", fields=problems)


def init_app(app: Flask) -> None:
    """Bounded ``<int:…>`` ids in every route, and the input check before every view.

    Call before blueprints are registered: routes pick their converters when they are added.
    """
    app.url_map.converters["int"] = IdConverter
    app.json = BoundedJSONProvider(app)
    app.before_request(refuse_unstorable_input)
