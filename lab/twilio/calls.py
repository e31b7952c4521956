"""The call log of the Twilio stand-in: ``GET /Accounts/{AccountSid}/Calls.json`` and ``Calls/{Sid}.json``.

Calls are not created through the REST API (``POST Calls.json``, an outbound call, is not
implemented: 501); the SIP leg (lab/sip) records one per test call that reached a SIP Domain of
the account, admitted or not (docs/lab.md, *SIP leg*, says why and what the fields hold).
"""

from __future__ import annotations

import datetime as dt

from .resources import ResourceDef, Resources, new_sid, rfc2822

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


def record_call(store: Resources, *, from_: str, to: str, status: str, start: dt.datetime, end: dt.datetime) -> dict:
    """Add an inbound call to the account's log; returns the record."""
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
        "direction": "inbound",
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
