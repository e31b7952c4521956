"""The UAC: a sipp scenario that plays 3CX placing one call through a trunk.

The INVITE carries exactly the identity headers the trunk's outbound parameters produce
(lab/threecx/calls.py computes them); a header the trunk does not bind is not sent. The
scenario takes any of the outcomes a SIP Domain can give, so sipp itself never has to know
the expected one: optional 100/180/183, a 401/407 challenge answered once with ``-au/-ap``
(when the trunk authenticates), 200 -> ACK -> BYE, or a final 4xx-6xx -> ACK.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from xml.sax.saxutils import quoteattr

# RFC 3551 static payload types; the others get dynamic ones.
_PAYLOADS = {
    "PCMU": (0, "PCMU/8000"),
    "GSM": (3, "GSM/8000"),
    "PCMA": (8, "PCMA/8000"),
    "G722": (9, "G722/8000"),
    "G729": (18, "G729/8000"),
    "ILBC": (97, "iLBC/8000"),
    "OPUS": (111, "opus/48000/2"),
}
DEFAULT_CODECS = ("PCMU", "PCMA", "G729")
FAILURES = (
    400,
    402,
    403,
    404,
    405,
    408,
    410,
    415,
    420,
    480,
    481,
    484,
    486,
    487,
    488,
    500,
    501,
    502,
    503,
    504,
    600,
    603,
    604,
    606,
)

_USER_SAFE = re.compile(r"[^A-Za-z0-9+*#._!~=-]")
_HOST_SAFE = re.compile(r"[^A-Za-z0-9.:-]")
_DISPLAY_UNSAFE = re.compile(r'["\\\[\]<>\r\n]')


def clean_user(text: str) -> str:
    """A SIP user part sipp can carry literally (no keyword brackets, no XML or header breakers)."""
    return _USER_SAFE.sub("", text or "")


def clean_host(text: str) -> str:
    return _HOST_SAFE.sub("", text or "")


def clean_display(text: str | None) -> str | None:
    if text is None:
        return None
    cleaned = _DISPLAY_UNSAFE.sub("", text).strip()
    return cleaned or None


@dataclass
class Party:
    """One identity header: ``"display" <sip:user@host>``."""

    user: str
    host: str
    display: str | None = None

    def header_value(self) -> str:
        uri = f"<sip:{clean_user(self.user)}@{clean_host(self.host)}>"
        display = clean_display(self.display)
        return f'"{display}" {uri}' if display else uri

    def public(self) -> dict:
        return {"user": clean_user(self.user), "display": clean_display(self.display), "host": clean_host(self.host)}


@dataclass
class Invite:
    """Everything the UAC puts into its INVITE, as the PBX computed it from the trunk."""

    source_ip: str  # the PBX's public IP: sipp -i
    host: str  # Request-URI and To host: the trunk's registrar (the SIP Domain FQDN)
    ruri_user: str
    to_user: str
    from_party: Party
    pai: Party | None = None
    ppi: Party | None = None
    rpid: Party | None = None
    contact_user: str = ""
    user_agent: str | None = None
    codecs: list[str] = field(default_factory=lambda: list(DEFAULT_CODECS))
    auth_user: str | None = None  # set when the trunk authenticates (sipp -au/-ap)
    auth_password: str | None = None
    port: int = 5060  # the registrar port, written into the Request-URI when not 5060

    def request_uri(self) -> str:
        hostport = clean_host(self.host) + (f":{self.port}" if self.port not in (0, 5060) else "")
        return f"sip:{clean_user(self.ruri_user)}@{hostport}"

    def headers(self) -> dict[str, str]:
        """The identity headers, as sent (From without its tag)."""
        out = {"From": self.from_party.header_value()}
        if self.pai is not None:
            out["P-Asserted-Identity"] = self.pai.header_value()
        if self.ppi is not None:
            out["P-Preferred-Identity"] = self.ppi.header_value()
        if self.rpid is not None:
            out["Remote-Party-ID"] = self.rpid.header_value() + ";party=calling;screen=no;privacy=off"
        return out

    def sdp(self) -> str:
        payloads, maps = [], []
        for codec in self.codecs or DEFAULT_CODECS:
            known = _PAYLOADS.get(codec.upper())
            if known is None:
                continue
            payloads.append(str(known[0]))
            maps.append(f"a=rtpmap:{known[0]} {known[1]}")
        payloads.append("101")
        maps += ["a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15"]
        return "\n".join(
            [
                "v=0",
                "o=3CXPhoneSystem 1 1 IN IP4 [local_ip]",
                "s=3CXPhoneSystem",
                "c=IN IP4 [local_ip]",
                "t=0 0",
                f"m=audio [auto_media_port] RTP/AVP {' '.join(payloads)}",
                *maps,
                "a=sendrecv",
            ]
        )


def _cdata(text: str) -> str:
    return "<![CDATA[\n" + text.replace("]]>", "]]]]><![CDATA[>") + "\n\n    ]]>"


def render_scenario(invite: Invite) -> str:
    """The sipp XML scenario for one call."""
    ruri = invite.request_uri()
    to = f"<sip:{clean_user(invite.to_user)}@{clean_host(invite.host)}>"
    contact = f"<sip:{clean_user(invite.contact_user) or clean_user(invite.from_party.user)}@[local_ip]:[local_port]>"
    can_auth = bool(invite.auth_user)
    headers = invite.headers()

    def invite_msg(cseq: int, auth: bool) -> str:
        lines = [
            f"INVITE {ruri} SIP/2.0",
            "Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]",
            "Max-Forwards: 70",
            f"From: {headers['From']};tag=[pid]3cx[call_number]",
            f"To: {to}",
            "Call-ID: [call_id]",
            f"CSeq: {cseq} INVITE",
            f"Contact: {contact}",
        ]
        for name in ("P-Asserted-Identity", "P-Preferred-Identity", "Remote-Party-ID"):
            if name in headers:
                lines.append(f"{name}: {headers[name]}")
        if invite.user_agent:
            lines.append(f"User-Agent: {clean_display(invite.user_agent) or '3CX'}")
        if auth:
            lines.append("[authentication]")
        lines += [
            "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS",
            "Content-Type: application/sdp",
            "Content-Length: [len]",
            "",
            invite.sdp(),
        ]
        return "\n".join(lines)

    def ack_failure(cseq: int) -> str:
        return "\n".join(
            [
                f"ACK {ruri} SIP/2.0",
                "[last_Via:]",
                "Max-Forwards: 70",
                "[last_From:]",
                "[last_To:]",
                "Call-ID: [call_id]",
                f"CSeq: {cseq} ACK",
                "Content-Length: 0",
            ]
        )

    def in_dialog(method: str, cseq: int) -> str:
        return "\n".join(
            [
                f"{method} [next_url] SIP/2.0",
                "Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]",
                "Max-Forwards: 70",
                "[last_From:]",
                "[last_To:]",
                "Call-ID: [call_id]",
                f"CSeq: {cseq} {method}",
                f"Contact: {contact}",
                "Content-Length: 0",
            ]
        )

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<!-- Rendered by lab/sip/uac.py: 3CX places one call through a trunk. -->",
        f"<scenario name={quoteattr('lab 3CX trunk call')}>",
    ]

    def block(cseq: int, may_auth: bool) -> None:
        out.append(f'  <send retrans="500">\n    {_cdata(invite_msg(cseq, auth=cseq > 1))}\n  </send>')
        for code in (100, 180, 183):
            out.append(f'  <recv response="{code}" optional="true"/>')
        for code in (401, 407):
            if may_auth:
                out.append(f'  <recv response="{code}" optional="true" auth="true" next="challenged{cseq}"/>')
            else:
                out.append(f'  <recv response="{code}" optional="true" next="rejected{cseq}"/>')
        for code in FAILURES:
            out.append(f'  <recv response="{code}" optional="true" next="rejected{cseq}"/>')
        out.append(f'  <recv response="200" rrs="true" next="answered{cseq}"/>')
        out.append(f'  <label id="answered{cseq}"/>')
        out.append(f"  <send>\n    {_cdata(in_dialog('ACK', cseq))}\n  </send>")
        out.append(f'  <send retrans="500">\n    {_cdata(in_dialog("BYE", cseq + 1))}\n  </send>')
        out.append('  <recv response="200"/>')
        out.append('  <nop next="end"/>')
        out.append(f'  <label id="rejected{cseq}"/>')
        out.append(f"  <send>\n    {_cdata(ack_failure(cseq))}\n  </send>")
        out.append('  <nop next="end"/>')
        if may_auth:
            out.append(f'  <label id="challenged{cseq}"/>')
            out.append(f"  <send>\n    {_cdata(ack_failure(cseq))}\n  </send>")
            block(cseq + 1, may_auth=False)

    block(1, can_auth)
    out += ['  <label id="end"/>', "</scenario>", ""]
    return "\n".join(out)


# ---------------------------------------------------------------- the message trace

_SEPARATOR = re.compile(r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)\s*$")


def parse_trace(text: str) -> list[dict]:
    """sipp's ``-trace_msg`` file: [{"direction": "sent"|"received", "at", "first_line", "headers"}]."""
    out: list[dict] = []
    current: dict | None = None
    body: list[str] = []

    def flush() -> None:
        if current is None:
            return
        lines = [ln.rstrip("\r") for ln in body]
        while lines and not lines[0].strip():
            lines.pop(0)
        if not lines:
            return
        headers: dict[str, str] = {}
        for ln in lines[1:]:
            if not ln.strip():
                break
            name, sep, value = ln.partition(":")
            if sep and name.strip() and name.strip().lower() not in {k.lower() for k in headers}:
                headers[name.strip()] = value.strip()
        current["first_line"] = lines[0].strip()
        current["headers"] = headers
        out.append(current)

    for line in text.splitlines():
        m = _SEPARATOR.match(line)
        if m:
            flush()
            try:
                at = datetime.fromisoformat(m.group(1))
            except ValueError:
                at = None
            current, body = {"direction": None, "at": at}, []
            continue
        if current is not None and current["direction"] is None:
            low = line.strip().lower()
            if low.startswith("udp message sent"):
                current["direction"] = "sent"
                continue
            if low.startswith("udp message received"):
                current["direction"] = "received"
                continue
        body.append(line)
    flush()
    return [m for m in out if m["direction"]]


def final_invite_response(messages: list[dict]) -> tuple[int | None, str]:
    """The last final response to an INVITE the UAC received: (status, reason)."""
    status, reason = None, ""
    for msg in messages:
        if msg["direction"] != "received" or not msg["first_line"].startswith("SIP/2.0 "):
            continue
        if not msg["headers"].get("CSeq", "").upper().endswith("INVITE"):
            continue
        parts = msg["first_line"].split(" ", 2)
        if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) >= 200:
            status, reason = int(parts[1]), parts[2] if len(parts) > 2 else ""
    return status, reason
