"""The UAS: a Kamailio configuration that plays one Twilio SIP Domain for one test call.

Decision order for an INVITE (docs/lab.md, *SIP leg*, says which parts are assumptions):

1. the Request-URI host must be the host the call was sent to, and a SIP Domain of that name
   must exist in the Twilio stand-in, else 404;
2. the source IP is in an IP ACL mapped to the domain's Auth/Calls -> admitted;
3. else, when credential lists are mapped: no Proxy-Authorization -> 407 challenge; credentials
   that match -> admitted; wrong ones -> 403;
4. else 403;
5. admitted, but the Request-URI user is a number without '+' -> 404 (the lab's model of
   "Twilio's number routing does not match": see E164 in docs/lab.md);
6. the SDP offers no PCMU -> 488;
7. 200 OK with an SDP answer (after 180 Ringing; every INVITE first gets 100 Trying); ACK and BYE
   are answered statelessly.

Every INVITE gets one log line ``LABSIP|<code>|<source ip>|<hex fields>...`` (values hex-encoded
by Kamailio, so quotes and separators inside headers cannot break the parse).
No password is written: credentials become HA1 digests selected by the MD5 of the user name.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

MARKER = "LABSIP|"
READY = "LABSIP-READY"
# Twilio's digest realm is not documented (UNCONFIRMED); the client echoes whatever it is sent.
REALM = "sip.twilio.com"

# Order of the hex-encoded fields after code and source IP (see render_config).
LOG_FIELDS = (
    "call_id",
    "cseq",
    "from_user",
    "from_display",
    "from",
    "pai",
    "ppi",
    "rpid",
    "to_user",
    "ruri_user",
    "ruri_host",
    "auth_user",
    "user_agent",
    "how",
    "why",
)


@dataclass
class DomainAuth:
    """What one Twilio SIP Domain admits (from the Twilio stand-in's Calls mappings)."""

    name: str
    region: str
    account_sid: str
    domain_sid: str
    cidrs: list[str] = field(default_factory=list)
    credentials: list[tuple[str, str]] = field(default_factory=list)  # (username, password)

    @classmethod
    def from_view(cls, name: str, view: dict) -> "DomainAuth":
        """From one entry of the Twilio stand-in's ``/_lab/sip/auth`` view."""
        return cls(
            name=name,
            region=view["region"],
            account_sid=view["account_sid"],
            domain_sid=view["domain_sid"],
            cidrs=[ip["cidr"] for ip in view["ip_addresses"]],
            credentials=[(c["username"], c["password"] or "") for c in view["credentials"]],
        )

    def public(self) -> dict:
        return {"name": self.name, "region": self.region, "account_sid": self.account_sid, "sid": self.domain_sid}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324 - SIP digest is MD5 by definition


def _quote(text: str) -> str:
    """A Kamailio string literal (only lab-made values reach it: host names, hex digests, CIDRs)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


SDP_ANSWER = (
    "v=0\\r\\no=Twilio 1 1 IN IP4 127.0.0.1\\r\\ns=Twilio\\r\\nc=IN IP4 127.0.0.1\\r\\n"
    "t=0 0\\r\\nm=audio 9 RTP/AVP 0 101\\r\\na=rtpmap:0 PCMU/8000\\r\\na=rtpmap:101 telephone-event/8000\\r\\n"
)


def render_config(port: int, host: str, domain: DomainAuth | None) -> str:
    """Kamailio configuration: UDP on 127.0.0.1:*port* only, the SIP Domain *domain* reached as *host*."""
    hexa = "{s.encode.hexa}"
    fields = [
        f"$(ci{hexa})",
        "$cs",
        f"$(fU{hexa})",
        f"$(fn{hexa})",
        f"$(hdr(From){hexa})",
        f"$(hdr(P-Asserted-Identity){hexa})",
        f"$(hdr(P-Preferred-Identity){hexa})",
        f"$(hdr(Remote-Party-ID){hexa})",
        f"$(tU{hexa})",
        f"$(rU{hexa})",
        f"$(rd{hexa})",
        f"$(au{hexa})",
        f"$(ua{hexa})",
        f"$(var(how){hexa})",
        f"$(var(why){hexa})",
    ]
    assert len(fields) == len(LOG_FIELDS)
    log_line = MARKER + "$var(code)|$si|" + "|".join(fields)
    lines = [
        "#!KAMAILIO",
        f"# Rendered by lab/sip/uas.py: the Twilio SIP Domain {domain.name if domain else '(none)'} for one test call.",
        "debug=1",
        "log_stderror=yes",
        "children=1",
        "disable_tcp=yes",
        "auto_aliases=no",
        "dns=no",
        "rev_dns=no",
        "use_dns_cache=off",
        "server_signature=no",
        f"listen=udp:127.0.0.1:{port}",
        "",
        'loadmodule "sl.so"',
        'loadmodule "pv.so"',
        'loadmodule "xlog.so"',
        'loadmodule "textops.so"',
        'loadmodule "ipops.so"',
        'loadmodule "sdpops.so"',
        'loadmodule "auth.so"',
        "",
        "event_route[core:worker-one-init] {",
        f'    xlog("L_ALERT", "{READY}\\n");',
        "}",
        "",
        "request_route {",
        '    if (is_method("ACK")) exit;',
        '    if (is_method("BYE") || is_method("CANCEL")) { sl_send_reply("200", "OK"); exit; }',
        # A keep-alive / reachability ping (what sip_options_probe sends): answered like most SIP
        # servers do. Twilio's own answer to OPTIONS is UNCONFIRMED (docs/lab.md).
        '    if (is_method("OPTIONS")) { sl_send_reply("200", "OK"); exit; }',
        '    if (!is_method("INVITE")) { sl_send_reply("405", "Method Not Allowed"); exit; }',
        '    sl_send_reply("100", "Trying");',
        '    $var(how) = ""; $var(why) = ""; $var(ok) = 0;',
        f"    if ($(rd{{s.tolower}}) != {_quote(host.lower())}) {{",
        '        $var(code) = 404; $var(why) = "unknown host"; route(REPLY);',
        "    }",
    ]
    if domain is None:
        lines += [
            '    $var(code) = 404; $var(why) = "no SIP Domain of this name"; route(REPLY);',
            "}",
        ]
    else:
        for cidr in domain.cidrs:
            lines.append(
                f'    if ($var(ok) == 0 && is_in_subnet("$si", {_quote(cidr)})) {{ $var(ok) = 1; $var(how) = "ip"; }}'
            )
        lines.append("    if ($var(ok) == 0) {")
        if domain.credentials:
            lines += [
                '        if (!is_present_hf("Proxy-Authorization")) {',
                '            $var(code) = 407; $var(why) = "challenge"; route(REPLY);',
                "        }",
            ]
            for username, password in domain.credentials:
                ha1 = _md5(f"{username}:{REALM}:{password}")
                lines += [
                    f"        if ($var(ok) == 0 && $(au{{s.md5}}) == {_quote(_md5(username))}) {{",
                    f'            if (pv_proxy_authenticate({_quote(REALM)}, {_quote(ha1)}, "1")) {{',
                    '                $var(ok) = 1; $var(how) = "credentials";',
                    "            }",
                    "        }",
                ]
            lines += [
                "        if ($var(ok) == 0) {",
                '            $var(code) = 403; $var(why) = "wrong credentials"; route(REPLY);',
                "        }",
            ]
        else:
            lines += [
                '        $var(code) = 403; $var(why) = "source IP not in an IP ACL of the domain"; route(REPLY);',
            ]
        lines += [
            "    }",
            '    if ($rU =~ "^[0-9]+$") {',
            '        $var(code) = 404; $var(why) = "number not in E.164 (+CC...) format"; route(REPLY);',
            "    }",
            '    if (!sdp_with_codecs_by_name("PCMU")) {',
            '        $var(code) = 488; $var(why) = "no PCMU in the offer"; route(REPLY);',
            "    }",
            "    $var(code) = 200;",
            "    route(REPLY);",
            "}",
        ]
    lines += [
        "",
        "route[REPLY] {",
        f'    xlog("L_ALERT", "{log_line}\\n");',
        "    if ($var(code) == 200) {",
        '        sl_send_reply("180", "Ringing");',
        f'        set_reply_body("{SDP_ANSWER}", "application/sdp");',
        f'        append_to_reply("Contact: <sip:$rU@127.0.0.1:{port}>\\r\\n");',
        '        sl_send_reply("200", "OK");',
        "    } else if ($var(code) == 407) {",
        f'        proxy_challenge({_quote(REALM)}, "0");',
        "    } else if ($var(code) == 403) {",
        '        sl_send_reply("403", "Forbidden");',
        "    } else if ($var(code) == 488) {",
        '        sl_send_reply("488", "Not Acceptable Here");',
        "    } else {",
        '        sl_send_reply("404", "Not Found");',
        "    }",
        "    exit;",
        "}",
        "",
    ]
    return "\n".join(lines)


def _unhex(value: str) -> str:
    try:
        return bytes.fromhex(value).decode("utf-8", "replace")
    except ValueError:
        return value


def parse_log(text: str) -> list[dict]:
    """The INVITEs the UAS logged, oldest first; a retransmission (same Call-ID and CSeq) counts once."""
    seen: dict[tuple[str, str], dict] = {}
    for line in text.splitlines():
        at = line.find(MARKER)
        if at < 0:
            continue
        parts = line[at + len(MARKER) :].strip().split("|")
        if len(parts) != 2 + len(LOG_FIELDS):
            continue
        entry = {"status": int(parts[0]) if parts[0].isdigit() else None, "source_ip": parts[1]}
        for name, value in zip(LOG_FIELDS, parts[2:]):
            entry[name] = value if name == "cseq" else _unhex(value)
        for name in ("from_display", "pai", "ppi", "rpid", "auth_user", "user_agent", "how", "why"):
            entry[name] = entry[name] or None
        if entry["from_display"]:
            entry["from_display"] = entry["from_display"].strip().strip('"')
        seen[(entry["call_id"], entry["cseq"])] = entry
    return list(seen.values())
