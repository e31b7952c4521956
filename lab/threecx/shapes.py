"""Where a 3CX response may lack a property the 20.0.10 document lists.

The lab's response validation (lab/spec.py, ``StrictShapes``) wants every documented
property in every 2xx body. The exceptions below come from the references, not from
convenience; each names its source. Everything else the lab serves carries every
property of its type.
"""

from __future__ import annotations

from . import entities as E


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def version_hidden(version: str) -> dict[str, set[str]]:
    """Properties a PBX of *version* does not have yet (shared/reference/3cx-xapi.md, version table)."""
    return {
        type_name: {prop for prop, since in props.items() if _key(version) < _key(since)}
        for type_name, props in E.SINCE.items()
    }


class ReplyRules:
    """The validator's hook for one reply: ``rules(type name, object)`` -> the properties that may be
    missing from that object; ``rules.not_in_version(type name)`` -> the properties this PBX's version
    does not have at all, so that a reply carrying one is a violation too."""

    def __init__(self, version: str, path: str):
        self.version = version
        self.hidden = version_hidden(version)
        self.init_trunk = path.startswith("/xapi/v1/Trunks/Pbx.InitTrunk(")

    def not_in_version(self, type_name: str) -> set[str]:
        return self.hidden.get(type_name, set())

    def __call__(self, type_name: str, obj: dict) -> set[str]:
        out = set(self.hidden.get(type_name, ()))
        if type_name == "Pbx.ConcealedPassword":
            # 3cx-xapi.md §3.4: "AuthPassword ({Value,Concealed}; reads may return {"Concealed":true})".
            out.add("Value")
        elif type_name == "Pbx.OutboundRoute" and obj.get("TrunkId") == -1:
            # 3cx-xapi.md §3.6: unused routes are
            # {"TrunkId":-1,"StripDigits":0,"Prepend":"","Append":"","CallerID":""} (live replies).
            out.add("TrunkName")
        elif self.init_trunk and type_name in ("Pbx.Trunk", "Pbx.Gateway"):
            # 3cx-xapi.md §2: InitTrunk "returns a filled Pbx.Trunk without an Id" (the gateway's
            # Id is the trunk's, assigned when the trunk is created).
            out.add("Id")
        return out


def absent_allowed(version: str, path: str) -> ReplyRules:
    """The rules for one reply of a PBX of *version* to a request for *path*."""
    return ReplyRules(version, path)
