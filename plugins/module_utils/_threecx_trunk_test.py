# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The answer of a 3CX trunk test (``Pbx.TrunkTestResult``) in the collection's terms.

PRIVATE to this collection: may change without notice.

Both trunk test actions of the XAPI, ``Trunks({Id})/Pbx.TestOutboundCall`` and
``Trunks({Id})/Pbx.TestInboundCall``, answer a ``Pbx.TrunkTestResult``:
``{"Log": [{"Text", "TimeStamp"}], "Reports": [{"Level", "Code", "Template", "Params"}]}``, where
``Level`` is a ``Pbx.InfoLevel`` (Critical, Error, Warning, Info), ``Code`` a
``Pbx.AnalysisCode`` (both nullable) and ``Template`` a text with ``{0}``, ``{1}``, ...
placeholders for ``Params``. :func:`parse_trunk_test_result` turns it into plain keys.
"""

from __future__ import annotations

import re

ANSWERED_CODE = "OutboundCallSuccessful"
SIP_RESPONSE_CODE = "SIPMessageResponse"
ERROR_LEVELS = ("Error", "Critical")

_PLACEHOLDER = re.compile(r"\{(\d+)\}")
# A SIP response the PBX received, as the log narrates it: "<- SIP/2.0 403 Forbidden [CSeq 1 INVITE]".
_RECEIVED_STATUS = re.compile(r"<-\s*SIP/2\.0\s+(\d{3})\b\s*(.*)$")
# "[CSeq 2 BYE]": the request a response answers, when the log names it.
_CSEQ_SUFFIX = re.compile(r"\s*\[CSeq\s*\d*\s*([A-Za-z]*)[^\]]*\]\s*$")


def _text(value):
    return "" if value is None else str(value)


def fill_template(template, params):
    """``template`` with ``{0}``, ``{1}``, ... replaced by ``params``; a placeholder without a param stays as it is."""
    params = [_text(p) for p in params or []]

    def param(match):
        index = int(match.group(1))
        return params[index] if index < len(params) else match.group(0)

    return _PLACEHOLDER.sub(param, _text(template))


def report_message(report):
    """A report in words: its template filled in, else its params, else its code."""
    params = report.get("Params") if isinstance(report.get("Params"), list) else []
    message = fill_template(report.get("Template"), params).strip()
    if not message:
        message = " ".join(_text(p) for p in params).strip()
    return message or _text(report.get("Code"))


def _status(value):
    """A SIP status code (100-699) as an int, else None."""
    try:
        status = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return status if 100 <= status <= 699 else None


def sip_status_from_log(log):
    """(status, reason) of the last final SIP response (200-699) to an INVITE the log says was received, else (None, None).

    Provisional responses (100 Trying, 180 Ringing) are not the outcome of a call, and responses whose
    CSeq names another request (the 200 to the BYE that ends an answered call) are not about the call
    being set up: both are skipped. A response whose CSeq is not shown counts.
    """
    found = (None, None)
    for entry in log:
        match = _RECEIVED_STATUS.search(entry["text"])
        if not match:
            continue
        status = _status(match.group(1))
        if status is None or status < 200:
            continue
        rest = match.group(2)
        cseq = _CSEQ_SUFFIX.search(rest)
        if cseq and cseq.group(1) and cseq.group(1).upper() != "INVITE":
            continue
        reason = rest[: cseq.start()] if cseq else rest
        found = (status, reason.strip() or None)
    return found


def parse_trunk_test_result(body):
    """A ``Pbx.TrunkTestResult`` -> dict of answered, sip_status, sip_reason, errors, reports, log.

    * ``answered``: a report with code ``OutboundCallSuccessful`` is present;
    * ``sip_status`` / ``sip_reason``: from the ``SIPMessageResponse`` report (``Params`` = [status, reason]),
      else from the last final response to the INVITE (``<- SIP/2.0 NNN reason``) in the log, else None;
    * ``errors``: ``{code, message}`` of the reports of level Error or Critical;
    * ``reports``: every report as ``{level, code, message}``; ``log``: ``{text, timestamp}``.

    Raises ValueError when ``body`` is not a JSON object.
    """
    if not isinstance(body, dict):
        raise ValueError("3CX answered the trunk test with %s, not a Pbx.TrunkTestResult object" % type(body).__name__)
    raw_log = body.get("Log") if isinstance(body.get("Log"), list) else []
    raw_reports = body.get("Reports") if isinstance(body.get("Reports"), list) else []
    log = [{"text": _text(e.get("Text")), "timestamp": e.get("TimeStamp")} for e in raw_log if isinstance(e, dict)]
    reports = []
    sip_status, sip_reason = None, None
    for raw in raw_reports:
        if not isinstance(raw, dict):
            continue
        reports.append({"level": raw.get("Level"), "code": raw.get("Code"), "message": report_message(raw)})
        if raw.get("Code") == SIP_RESPONSE_CODE and sip_status is None:
            params = raw.get("Params") if isinstance(raw.get("Params"), list) else []
            sip_status = _status(params[0]) if params else None
            if sip_status is not None:
                sip_reason = " ".join(_text(p) for p in params[1:]).strip() or None
    if sip_status is None:
        sip_status, sip_reason = sip_status_from_log(log)
    return {
        "answered": any(r["code"] == ANSWERED_CODE for r in reports),
        "sip_status": sip_status,
        "sip_reason": sip_reason,
        "errors": [{"code": r["code"], "message": r["message"]} for r in reports if r["level"] in ERROR_LEVELS],
        "reports": reports,
        "log": log,
    }
