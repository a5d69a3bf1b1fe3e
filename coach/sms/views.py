"""Twilio's webhooks: ``POST /sms/twilio/inbound`` (a parent's text) and ``POST /sms/twilio/status``
(delivery reports). Both are proved by ``X-Twilio-Signature`` over ``COACH_BASE_URL`` + path and
the form (the ``twilio`` library's validator), not by a session, so CSRF does not apply; a missing
or wrong signature gets 403 and nothing is stored. Set both URLs on the Twilio number (README)."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from twilio.request_validator import RequestValidator

from ..security import csrf
from ..services.delivery.sms import sms_problem
from ..services.families.text_replies import handle_inbound, record_status

bp = Blueprint("sms", __name__, url_prefix="/sms")

#: An empty TwiML answer: Twilio sends nothing back itself; our answers go through the outbox.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _signed_form() -> dict:
    """The request's form when its signature is right; 403 otherwise (and when texts are off)."""
    if sms_problem() is not None:
        abort(403)
    signature = request.headers.get("X-Twilio-Signature", "")
    url = current_app.config["BASE_URL"] + request.path
    form = request.form.to_dict()
    token = str(current_app.config["TWILIO_AUTH_TOKEN"]).strip()
    if not signature or not RequestValidator(token).validate(url, form, signature):
        abort(403)
    return form


@bp.post("/twilio/inbound")
@csrf.exempt
def inbound():
    """A text from a parent: STOP/START/HELP, a digit answering today's prompt, or a private note."""
    handle_inbound(_signed_form())
    return Response(EMPTY_TWIML, mimetype="text/xml")


@bp.post("/twilio/status")
@csrf.exempt
def status():
    """A delivery report for a text we sent (queued, sent, delivered, undelivered, failed)."""
    record_status(_signed_form())
    return Response(EMPTY_TWIML, mimetype="text/xml")
