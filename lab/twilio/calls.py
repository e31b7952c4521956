"""The calls of the Twilio stand-in: ``GET /Accounts/{AccountSid}/Calls.json``, ``Calls/{Sid}.json`` and
``POST Calls.json`` (an outbound call placed through the REST API).

The SIP leg (lab/sip) records one inbound call per INVITE that reached a SIP Domain of the account,
admitted or not. ``POST Calls.json`` records an ``outbound-api`` call (``queued``) and hands its PSTN
leg to the lab's telephone network (``Twilio.pstn``, lab/serve.py): when a lab PBX owns the number
called, that PBX runs its whole inbound flow with the caller = ``From``, and what it forwards to a
SIP Domain arrives through the SIP leg as the inbound call above. docs/lab.md (*SIP leg*) says what
the fields hold and which parts are inferred.
"""

from __future__ import annotations

import datetime as dt
import re

from .resources import BAD_VALUE, ResourceDef, Resources, TwilioError, new_sid, rfc2822

_SUBRESOURCES = (
    ("notifications", "Notifications"),
    ("recordings", "Recordings"),
    ("payments", "Payments"),
    ("events", "Events"),
    ("siprec", "Siprec"),
    ("streams", "Streams"),
    ("transcriptions", "Transcriptions"),
    ("user_defined_message_subscriptions", "UserDefinedMessageSubscriptions"),
    ("user_defined_messages", "UserDefinedMessages"),
)


def _subresources(rec: dict, uri: str) -> dict:
    base = uri[: -len(".json")]
    return {"subresource_uris": {key: f"{base}/{name}.json" for key, name in _SUBRESOURCES}}


CALLS = ResourceDef(
    name="calls",
    path="Calls",
    sid_prefix="CA",
    data_key="calls",
    fields=[],
    operations=frozenset({"list", "fetch"}),
    filters={"To": "to", "From": "from", "Status": "status"},
    extra=_subresources,
    newest_first=True,
)

ALL = [CALLS]

# Field order of a call, as the document lists them.
_FIELDS = (
    "sid",
    "date_created",
    "date_updated",
    "parent_call_sid",
    "account_sid",
    "to",
    "to_formatted",
    "from",
    "from_formatted",
    "phone_number_sid",
    "status",
    "start_time",
    "end_time",
    "duration",
    "price",
    "price_unit",
    "direction",
    "answered_by",
    "api_version",
    "forwarded_from",
    "group_sid",
    "caller_name",
    "queue_time",
    "trunk_sid",
)


# The document's call_enum_status: a call in one of these has ended.
ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
# A phone number: what the lab's PSTN can ring (SIP addresses and clients are not modelled).
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
MAX_TIMEOUT = 600  # "The default is 60 seconds and the maximum is 600 seconds" (the document)
MAX_TWIML = 4000  # "Max 4000 characters" (the document)


def parse_create(form: dict[str, list[str]]) -> dict:
    """The ``POST Calls.json`` form checked as Twilio states it; returns ``{to, from, timeout}``.

    The document requires To and From; a call needs one of Url, Twiml or ApplicationSid (Twilio's
    docs: "make-calls"); the codes of these 400s are the lab's (docs/lab.md).
    """

    def one(name: str) -> str:
        return (form.get(name) or [""])[-1]

    for param in ("To", "From"):
        if not one(param):
            raise TwilioError(400, 21201, f"Missing required parameter {param} in the post body")
    if not (one("Url") or one("Twiml") or one("ApplicationSid")):
        raise TwilioError(400, 21201, "Missing required parameter: one of Url, Twiml or ApplicationSid")
    to, from_ = one("To").strip(), one("From").strip()
    if not _PHONE.match(to):
        raise TwilioError(400, 21211, f"Invalid 'To' Phone Number: {to} (the lab rings E.164 numbers only)")
    if not _PHONE.match(from_):
        raise TwilioError(400, 21212, f"Invalid 'From' Phone Number: {from_}")
    if len(one("Twiml")) > MAX_TWIML:
        raise TwilioError(400, BAD_VALUE, f"Twiml is too long: {len(one('Twiml'))} characters, at most {MAX_TWIML}")
    timeout = 60
    if one("Timeout"):
        try:
            timeout = int(one("Timeout"))
        except ValueError:
            raise TwilioError(400, BAD_VALUE, f"Invalid value {one('Timeout')!r} for Timeout: expected an integer") from None
        if not 1 <= timeout <= MAX_TIMEOUT:
            raise TwilioError(400, BAD_VALUE, f"Timeout must be between 1 and {MAX_TIMEOUT} seconds, not {timeout}")
    return {"to": to, "from": from_, "timeout": timeout}


def record_call(
    store: Resources,
    *,
    from_: str,
    to: str,
    status: str,
    start: dt.datetime,
    end: dt.datetime,
    direction: str = "inbound",
) -> dict:
    """Add a call to the account's log (by default an inbound one, from the SIP leg); returns the record."""
    sid = new_sid("CA")
    answered = status == "completed"
    values = {
        "sid": sid,
        "date_created": rfc2822(start),
        "date_updated": rfc2822(end),
        "parent_call_sid": None,
        "account_sid": store.account_sid,
        "to": to,
        "to_formatted": to,
        "from": from_,
        "from_formatted": from_,
        "phone_number_sid": None,
        "status": status,
        "start_time": rfc2822(start) if answered else None,
        "end_time": rfc2822(end) if answered else None,
        "duration": str(int((end - start).total_seconds())) if answered else "0",
        "price": None,
        "price_unit": "USD",
        "direction": direction,
        "answered_by": None,
        "api_version": "2010-04-01",
        "forwarded_from": None,
        "group_sid": None,
        "caller_name": None,
        "queue_time": "0",
        "trunk_sid": None,
    }
    rec = {key: values[key] for key in _FIELDS}
    rec["_parents"] = {}
    store.records[CALLS.store_key][sid] = rec
    return rec


def end_call(store: Resources, sid: str, *, status: str, start: dt.datetime, end: dt.datetime) -> dict | None:
    """An outbound call has ended with *status*; None when the log no longer holds it (a reset)."""
    rec = store.records[CALLS.store_key].get(sid)
    if rec is None:
        return None
    answered = status == "completed"
    rec.update(
        {
            "status": status,
            "date_updated": rfc2822(end),
            "start_time": rfc2822(start) if answered else None,
            "end_time": rfc2822(end) if answered else None,
            "duration": str(int((end - start).total_seconds())) if answered else "0",
        }
    )
    return rec


def pstn_status(flow: dict | None) -> str:
    """The status an outbound call ends with, from what the PBX that owns the number did with it.

    Answered (an agent, or the SIP Domain the PBX forwarded it to): ``completed``; the PBX took it
    but nothing answered (the flow stopped, or the SIP Domain refused the forwarded leg):
    ``no-answer``; no lab PBX owns the number: ``failed``. The lab's reading (docs/lab.md).
    """
    if flow is None:
        return "failed"
    return "completed" if flow.get("outcome") in ("answered_by_agent", "twilio_answered") else "no-answer"
