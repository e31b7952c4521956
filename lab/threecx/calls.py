"""Calls the 3CX stand-in places over the lab's SIP leg (lab/sip).

* ``POST /xapi/v1/Trunks({Id})/Pbx.TestOutboundCall`` ``{"contact", "destination"}``: the
  trunk sends a real INVITE to the SIP Domain its registrar names; the reply is a
  ``Pbx.TrunkTestResult`` whose ``Log`` narrates the SIP exchange.
* ``POST <control>/_lab/calls`` ``{"did", "caller"}``: the whole inbound flow of this PBX
  (inbound rule -> queue / ring group -> agents on DND? -> no-answer destination -> outbound
  rule -> route 1 trunk -> E164 -> INVITE), answered with every hop and the outcome.

The INVITE's identity headers come from the trunk's ``Gateway.OutboundParams`` (how each
``$Variable`` is filled in is in docs/lab.md, *SIP leg*).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..server import Request, Response
from ..sip.uac import DEFAULT_CODECS, Invite, Party
from .odata import ODataError

if TYPE_CHECKING:
    from ..sip.leg import CallResult
    from .app import ThreeCX

# $Variables that carry the caller's own number on a forwarded call.
ORIGINATOR = {"OriginatorCallerId", "EnforcedOriginatorCallerID"}
CALLER_NAME = {"CallerName", "CallerDispName"}
# Parameters whose value is the called party.
CALLED_PARAMS = {"RequestLineURIUser", "ToUserPart", "ToDisplayName", "RemotePartyIDCalledPartyUserPart"}
_NUMBER = re.compile(r"^\+?[0-9*#]{1,32}$")
_AUTHENTICATES = {"OutgoingCalls", "InOutCalls"}


def _iso(when: datetime | None = None) -> str:
    """An Edm.DateTimeOffset in UTC; a naive time (sipp's trace) is local time."""
    when = (when or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---------------------------------------------------------------- trunk -> INVITE


@dataclass
class TrunkCall:
    """One call out through a trunk: what the PBX knows when it builds the INVITE."""

    trunk: dict
    dialled: str  # the number sent as Request-URI / To user
    caller: str  # the original caller's number ($OriginatorCallerId)
    source_ip: str
    password: str | None
    caller_name: str | None = None
    route_caller_id: str = ""  # the outbound route's CallerID, when the call came through a rule
    bindings: dict[str, tuple[str, str]] = field(default_factory=dict)  # lab default param name -> (value, custom)

    @property
    def gateway(self) -> dict:
        return self.trunk["Gateway"]

    def trunk_number(self) -> str:
        """$OutboundCallerId of a forwarded call: the route's caller ID, else the trunk's own number."""
        t = self.trunk
        return (
            self.route_caller_id
            or t.get("OutboundCallerID")
            or self.gateway.get("OutboundCallerID")
            or t.get("ExternalNumber")
            or t["Number"]
        )

    def auth_id(self) -> str:
        t = self.trunk
        return (t.get("SeparateAuthId") if t.get("UseSeparateAuthId") else "") or t.get("AuthID") or ""

    def gateway_hostport(self) -> str:
        port = self.gateway.get("Port") or 5060
        return self.gateway["Host"] + (f":{port}" if port != 5060 else "")

    # -- one binding --------------------------------------------------
    def _binding(self, param: str) -> tuple[str, str] | None:
        return self.bindings.get(param)

    def user(self, param: str, default: str | None) -> str | None:
        """A user part: None when the parameter is bound to None (the header part is not sent)."""
        bound = self._binding(param)
        if bound is None:
            return default
        value, custom = bound
        if value == "None":
            return None
        if value in ORIGINATOR:
            return self.caller
        if value == "CustomField":
            return custom
        if value == "CalledNum":
            return self.dialled
        if value == "AuthID":
            return self.auth_id() or self.trunk_number()
        if param in CALLED_PARAMS:
            return self.dialled
        return self.trunk_number()

    def display(self, param: str) -> str | None:
        bound = self._binding(param)
        if bound is None:
            return None
        value, custom = bound
        if value == "None":
            return None
        if value in ORIGINATOR:
            return self.caller
        if value in CALLER_NAME:
            return self.caller_name
        if value == "CustomField":
            return custom or None
        if value in ("CalledName", "CalledNum"):
            return None
        return self.trunk_number()

    def host(self, param: str) -> str:
        bound = self._binding(param)
        value, custom = bound if bound is not None else ("", "")
        if value == "GWHostPort":
            return self.gateway_hostport()
        if value == "CustomField" and custom:
            return custom
        if value in ("DevHostPort", "OutHostPort", "ContactUri"):
            return self.source_ip  # the PBX's side
        return self.gateway["Host"]

    def party(self, prefix: str, user_default: str | None) -> Party | None:
        user = self.user(f"{prefix}UserPart", user_default)
        if user is None:
            return None
        return Party(user=user, host=self.host(f"{prefix}HostPart"), display=self.display(f"{prefix}DisplayName"))

    def invite(self) -> Invite:
        gw = self.gateway
        # From is always sent: unbound (or bound to None) it carries the trunk's own number.
        from_party = self.party("From", self.trunk_number()) or Party(self.trunk_number(), self.host("FromHostPart"))
        # PAI, PPI, RPID: only where the trunk binds their user part.
        pai = self.party("PAssertedIdentity", None)
        ppi = self.party("PPreferredIdentity", None)
        rpid = self.party("RemotePartyIDCallingParty", None)
        agent = self._binding("UserAgentTextString")
        authenticates = gw.get("RequireRegistrationFor") in _AUTHENTICATES and bool(self.auth_id())
        return Invite(
            source_ip=self.source_ip,
            host=gw["Host"],
            port=gw.get("Port") or 5060,
            ruri_user=self.user("RequestLineURIUser", self.dialled) or self.dialled,
            to_user=self.user("ToUserPart", self.dialled) or self.dialled,
            from_party=from_party,
            pai=pai,
            ppi=ppi,
            rpid=rpid,
            contact_user=self.user("ContactUser", self.trunk_number()) or self.trunk_number(),
            user_agent=agent[1] if agent and agent[0] == "CustomField" else None,
            codecs=list(gw.get("Codecs") or DEFAULT_CODECS),
            auth_user=self.auth_id() if authenticates else None,
            auth_password=(self.password or "") if authenticates else None,
        )


class PbxCalls:
    """The two ways a lab PBX places calls (registered on its router and control router)."""

    def __init__(self, st: "ThreeCX"):
        self.st = st

    def register(self) -> None:
        self.st.router.add(
            "POST", r"/xapi/v1/Trunks\((?P<key>[^/]+)\)/Pbx\.TestOutboundCall", self.h_test_outbound_call
        )
        self.st.control.add("POST", "/_lab/calls", self.c_calls)

    # ---------------------------------------------------------------- helpers
    @property
    def config(self):  # noqa: ANN201 - PbxConfig
        return self.st.pbx

    def source_ip(self) -> str:
        return self.st.public_ip or "127.0.0.1"

    def bindings(self, trunk: dict) -> dict[str, tuple[str, str]]:
        """The trunk's OutboundParams by the lab's default parameter name (a renamed PAI/PPI name maps back)."""
        catalogue = self.config.catalogue
        default_of = {configured: default for default, configured in catalogue.names.items() if configured}
        out = {}
        for item in trunk["Gateway"].get("OutboundParams") or []:
            param = catalogue.param_by_id(item.get("ParamId"))
            value = catalogue.value_by_id(item.get("ValueId"))
            if param is None or value is None:
                continue
            out[default_of.get(param["Name"], param["Name"])] = (value["Name"], item.get("Custom") or "")
        return out

    def trunk_call(self, trunk: dict, dialled: str, caller: str, **kw: Any) -> TrunkCall:
        return TrunkCall(
            trunk=trunk,
            dialled=dialled,
            caller=caller,
            source_ip=self.source_ip(),
            password=self.config.trunk_password(trunk["Id"]),
            bindings=self.bindings(trunk),
            **kw,
        )

    def leg(self):  # noqa: ANN201 - SipLeg | None
        return getattr(self.st, "sip_leg", None)

    # ---------------------------------------------------------------- TestOutboundCall
    def h_test_outbound_call(self, req: Request) -> Response:
        body = self.st.json_body(req)
        if not isinstance(body, dict):
            raise ODataError(400, "The action parameters must be a JSON object {contact, destination}.")
        trunk = self.config.trunks.resolve(req.params["key"])
        destination = body.get("destination")
        contact = body.get("contact") or ""
        if not isinstance(destination, str) or not destination.strip():
            raise ODataError(400, "destination (the number to dial) is required.")
        if not isinstance(contact, str):
            raise ODataError(400, "contact must be a string.")
        log: list[dict] = []
        reports: list[dict] = []

        def note(text: str, when: datetime | None = None) -> None:
            log.append({"Text": text, "TimeStamp": _iso(when)})

        def report(level: str, code: str, template: str, *params: Any) -> None:
            reports.append({"Level": level, "Code": code, "Template": template, "Params": [str(p) for p in params]})

        gw = trunk["Gateway"]
        call = self.trunk_call(trunk, destination.strip(), contact.strip() or "")
        if not call.caller:
            call.caller = call.trunk_number()
        note(
            f"Test call through trunk {trunk['Number']} ({gw.get('Name', '')}) to {call.dialled}, caller {call.caller}"
        )
        report("Info", "TargetDomain", "Registrar {0}", gw.get("Host", ""))
        if not gw.get("Host"):
            report("Critical", "RegistrarIsNotSet", "The trunk has no registrar / server.")
            return self._result(req, log, reports)
        if not trunk.get("EnableOutboundCalls", True) or trunk.get("Direction") == "Inbound":
            report("Error", "TrunkIsInboundOnly", "The trunk does not place outbound calls.")
            return self._result(req, log, reports)
        if gw.get("RequireRegistrationFor") in _AUTHENTICATES:
            if not call.auth_id():
                report("Error", "ErrNoAuthID", "The trunk authenticates but has no authentication ID.")
            elif not call.password:
                report("Error", "ErrNoAuthPwd", "The trunk authenticates but has no password.")
        report("Info", "OutboundCallerReady", "Caller {0}", call.caller)
        leg = self.leg()
        if leg is None:
            report("Error", "SIPCallFailed", "The lab's SIP leg is not running in this process.")
            return self._result(req, log, reports)
        invite = call.invite()
        result = leg.place(invite)
        self._narrate(note, invite, result)
        if result.error and result.status is None:
            report("Error", "SIPCallFailed", "{0}", result.error)
        elif result.answered:
            report("Info", "OutboundCallSuccessful", "The call was answered: {0} {1}", result.status, result.reason)
        else:
            report("Error", "OutboundCallFailed", "The call failed: {0} {1}", result.status, result.reason)
        if result.status is not None:
            report("Info", "SIPMessageResponse", "{0} {1}", result.status, result.reason)
        return self._result(req, log, reports)

    def _result(self, req: Request, log: list[dict], reports: list[dict]) -> Response:
        ctx = f"{self.st.public_base(req)}/xapi/v1/$metadata#Pbx.TrunkTestResult"
        return self.st.ok({"@odata.context": ctx, "Log": log, "Reports": reports})

    @staticmethod
    def _narrate(note: Any, invite: Invite, result: "CallResult") -> None:
        headers = "; ".join(f"{k}: {v}" for k, v in invite.headers().items())
        first = result.messages[0].get("at") if result.messages else None
        note(f"INVITE {invite.request_uri()} from {invite.source_ip} ({headers})", first)
        for msg in result.messages:
            arrow = "->" if msg["direction"] == "sent" else "<-"
            note(f"{arrow} {msg['first_line']} [CSeq {msg['headers'].get('CSeq', '')}]", msg.get("at"))
        uas = result.uas
        if uas:
            note(
                f"The SIP Domain saw From {uas['from_user']}, P-Asserted-Identity {uas['pai'] or '(none)'}, "
                f"P-Preferred-Identity {uas['ppi'] or '(none)'}, Remote-Party-ID {uas['rpid'] or '(none)'} "
                f"from {uas['source_ip']}: {uas['status']} ({uas['why'] or uas['how'] or 'admitted'})"
            )
        if result.error:
            note(f"Error: {result.error}")
        if result.twilio_call_sid:
            note(f"Twilio call {result.twilio_call_sid}")

    # ---------------------------------------------------------------- the inbound flow
    def c_calls(self, req: Request) -> Response:
        try:
            body = req.json()
        except ValueError:
            return Response.json(400, {"error": "body must be JSON"})
        if not isinstance(body, dict) or set(body) - {"did", "caller", "caller_name"} or "did" not in body:
            return Response.json(
                400, {"error": 'body must be {"did": "+1...", "caller": "+1...", "caller_name": optional}'}
            )
        did, caller = body.get("did"), body.get("caller", "")
        if not isinstance(did, str) or not _NUMBER.match(did):
            return Response.json(400, {"error": "did must be a number (digits, optionally with a leading +)"})
        if not isinstance(caller, str) or (caller and not _NUMBER.match(caller)):
            return Response.json(400, {"error": "caller must be a number (digits, optionally with a leading +)"})
        caller_name = body.get("caller_name")
        if caller_name is not None and not isinstance(caller_name, str):
            return Response.json(400, {"error": "caller_name must be a string"})
        return Response.json(200, self.inbound(did, caller, caller_name).as_dict(self.st))

    def inbound(self, did: str, caller: str, caller_name: str | None = None) -> "Flow":
        """One call from *caller* to *did* through this PBX's whole inbound flow (also the PSTN leg of
        the Twilio stand-in's ``POST Calls.json``, lab/threecx/fleet.py)."""
        flow = Flow(did=did, caller=caller, caller_name=caller_name)
        # The configuration is read under the PBX's lock; the call itself runs without it.
        with self.st.lock:
            call = self._route(flow)
        if call is not None:
            leg = self.leg()
            if leg is None:
                flow.stop("sip", "the lab's SIP leg is not running in this process")
            else:
                result = leg.place(call.invite())
                flow.sip = result.summary()
                flow.twilio_call_sid = result.twilio_call_sid
                flow.hop("sip", **{k: flow.sip[k] for k in ("status", "reason", "from", "pai", "ppi", "rpid", "to")})
                if result.status is None:
                    flow.stop("sip", result.error or "no final answer")
                else:
                    flow.outcome = "twilio_answered" if result.answered else "twilio_rejected"
                    if not result.answered:
                        flow.stopped_at = "sip"
                        flow.reason = f"the SIP Domain answered {result.status} {result.reason}".strip()
                        if flow.sip.get("decision"):
                            flow.reason += f" ({flow.sip['decision']})"
        return flow

    def _route(self, flow: "Flow") -> TrunkCall | None:
        """Inbound rule -> destination -> agents -> no-answer -> outbound rule -> trunk; the call to place or None."""
        cfg = self.config
        rule = self._inbound_rule(flow.did)
        if rule is None:
            flow.stop("inbound_rule", f"no inbound rule for DID {flow.did}")
            return None
        dest = rule.get("OfficeHoursDestination") or {}
        flow.hop(
            "inbound_rule", id=rule["Id"], name=rule.get("RuleName", ""), did=rule["Data"], destination=_dest(dest)
        )
        to = dest.get("To")
        origin: dict | None = None
        if to in ("Queue", "RingGroup"):
            coll = cfg.queues if to == "Queue" else cfg.ring_groups
            group = coll.find("Number", dest.get("Number"))
            if group is None:
                flow.stop("destination", f"the {to} {dest.get('Number')} of the inbound rule does not exist")
                return None
            origin = group
            members = group.get("Agents" if to == "Queue" else "Members") or []
            states = []
            for member in members:
                user = cfg.users.find("Number", member["Number"])
                dnd = cfg.is_dnd(user)
                states.append(
                    {"number": member["Number"], "dnd": dnd, "profile": (user or {}).get("CurrentProfileName")}
                )
            flow.hop(
                to.lower() if to == "Queue" else "ring_group",
                number=group["Number"],
                name=group["Name"],
                members=states,
            )
            available = [s["number"] for s in states if not s["dnd"]]
            if available:
                flow.answered_by_agent = available[0]
                flow.outcome = "answered_by_agent"
                flow.reason = f"extension {available[0]} is not on DND: an agent answers, no fallback"
                return None
            no_answer = group.get("ForwardNoAnswer") or {}
            flow.hop("no_answer", destination=_dest(no_answer))
            dest = no_answer
        elif to == "Extension":
            user = cfg.users.find("Number", dest.get("Number"))
            if user is not None and not cfg.is_dnd(user):
                flow.answered_by_agent = user["Number"]
                flow.outcome = "answered_by_agent"
                flow.reason = f"the destination is extension {user['Number']}, which is not on DND"
                return None
            flow.stop("destination", f"the destination is extension {dest.get('Number')} on DND (its voicemail)")
            return None
        to = dest.get("To")
        if to in ("VoiceMail", "VoiceMailOfDestination"):
            flow.stop("no_answer" if origin else "destination", "the destination is voicemail")
            return None
        if to != "External":
            where = "no_answer" if origin else "destination"
            flow.stop(where, f"the destination is {to or 'None'}, not an outside number: no call leaves the PBX")
            return None
        number = (dest.get("External") or "").strip()
        flow.fallback_number = number
        rule_out = self._outbound_rule(number, origin)
        if rule_out is None:
            flow.stop("outbound_rule", f"no outbound rule matched {number}")
            return None
        route = rule_out["Routes"][0]
        flow.outbound_rule = {
            "id": rule_out["Id"],
            "name": rule_out.get("Name", ""),
            "prefix": rule_out.get("Prefix", ""),
        }
        flow.hop("outbound_rule", **flow.outbound_rule, route=1, trunk_id=route["TrunkId"])
        trunk = cfg.trunks.items.get(route["TrunkId"])
        if trunk is None:
            flow.stop("outbound_rule", f"route 1 of outbound rule {rule_out['Id']} has no trunk")
            return None
        strip = route.get("StripDigits") or 0
        dialled = (route.get("Prepend") or "") + number[strip:] + (route.get("Append") or "")
        e164 = dict(self.st.e164.value)
        rewritten = e164_rewrite(dialled, e164) if e164.get("Enabled") else dialled
        flow.hop(
            "e164",
            enabled=bool(e164.get("Enabled")),
            number=dialled,
            dialled=rewritten,
            note="the lab rewrites +CC... numbers (see docs/lab.md)" if rewritten != dialled else "",
        )
        gw = trunk["Gateway"]
        flow.trunk = {
            "id": trunk["Id"],
            "number": trunk["Number"],
            "name": gw.get("Name", ""),
            "host": gw.get("Host", ""),
        }
        flow.dialled = rewritten
        flow.hop("trunk", **flow.trunk, template=gw.get("TemplateFilename", ""))
        if not gw.get("Host"):
            flow.stop("trunk", f"trunk {trunk['Number']} has no registrar")
            return None
        return self.trunk_call(
            trunk,
            rewritten,
            flow.caller or "anonymous",
            caller_name=flow.caller_name,
            route_caller_id=route.get("CallerID") or "",
        )

    def _inbound_rule(self, did: str) -> dict | None:
        rules = [r for r in self.config.inbound.items.values() if r.get("Condition") == "BasedOnDID"]
        exact = next((r for r in rules if r.get("Data") == did), None)
        if exact is not None:
            return exact
        digits = did.lstrip("+")
        return next((r for r in rules if (r.get("Data") or "").lstrip("+") == digits), None)

    def _outbound_rule(self, number: str, origin: dict | None) -> dict | None:
        digits = len(re.sub(r"\D", "", number))
        origin_groups = {g.get("GroupId", g.get("Id")) for g in (origin or {}).get("Groups", [])}
        if self.st.variant("forward_department") == "forward-dept-none":
            origin_groups = set()  # the forwarded leg carries no department (lab/variants.py)
        for rule in sorted(self.config.outbound.items.values(), key=lambda r: r["Priority"]):
            # Several prefixes are comma-separated (3CX's UI documentation); an empty one matches every number.
            prefixes = [p.strip() for p in (rule.get("Prefix") or "").split(",") if p.strip()]
            if prefixes and not any(number.startswith(p) for p in prefixes):
                continue
            if rule.get("NumberLengthRanges") and not _length_ok(digits, rule["NumberLengthRanges"]):
                continue
            if rule.get("GroupIds") and not origin_groups & set(rule["GroupIds"]):
                continue
            if rule.get("DNRanges") and origin is not None and not _in_ranges(origin["Number"], rule["DNRanges"]):
                continue
            return rule
        return None


def _dest(dest: dict) -> dict:
    return {k: dest.get(k) for k in ("To", "Number", "External", "Name") if dest.get(k) not in (None, "")}


def _length_ok(length: int, ranges: str) -> bool:
    for part in ranges.replace(" ", "").split(","):
        lo, _sep, hi = part.partition("-")
        if lo.isdigit() and int(lo) <= length <= int(hi or lo):
            return True
    return False


def _in_ranges(number: str, ranges: list[dict]) -> bool:
    return number.isdigit() and any(int(r["From"]) <= int(number) <= int(r["To"]) for r in ranges)


def e164_rewrite(number: str, settings: dict) -> str:
    """The lab's model of "Process E164 numbers" on an outgoing number (an assumption, docs/lab.md).

    ``+<CountryCode><national>`` becomes ``<NationalCode><national>``, any other ``+<digits>``
    becomes ``<InternationalCode><digits>``; numbers without '+' are left alone.
    """
    if not number.startswith("+"):
        return number
    digits = number[1:]
    country = settings.get("CountryCode") or ""
    if country and digits.startswith(country):
        return (settings.get("NationalCode") or "") + digits[len(country) :]
    return (settings.get("InternationalCode") or "00") + digits


@dataclass
class Flow:
    """The /_lab/calls answer, built hop by hop."""

    did: str
    caller: str
    caller_name: str | None = None
    hops: list[dict] = field(default_factory=list)
    outcome: str = "stopped"
    stopped_at: str | None = None
    reason: str = ""
    answered_by_agent: str | None = None
    fallback_number: str | None = None
    outbound_rule: dict | None = None
    trunk: dict | None = None
    dialled: str | None = None
    sip: dict | None = None
    twilio_call_sid: str | None = None

    def hop(self, step: str, **info: Any) -> None:
        self.hops.append({"step": step, **info})

    def stop(self, step: str, reason: str) -> None:
        self.outcome, self.stopped_at, self.reason = "stopped", step, reason

    def as_dict(self, st: "ThreeCX") -> dict:
        out = {
            "pbx": st.prefix.rsplit("/", 1)[-1] if st.prefix else None,
            "public_ip": st.public_ip or "127.0.0.1",
            "did": self.did,
            "caller": self.caller,
            "outcome": self.outcome,
            "stopped_at": self.stopped_at,
            "reason": self.reason,
            "answered_by_agent": self.answered_by_agent,
            "fallback_number": self.fallback_number,
            "outbound_rule": self.outbound_rule,
            "trunk": self.trunk,
            "dialled": self.dialled,
            "sip": self.sip,
            "twilio_call_sid": self.twilio_call_sid,
            "hops": self.hops,
        }
        return out
