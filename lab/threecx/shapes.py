"""Where a 3CX response may lack a property the 20.0.10 document lists.

The lab's response validation (lab/spec.py, ``StrictShapes``) wants every documented
property in every 2xx body. The exceptions below come from the references, not from
convenience; each names its source. Everything else the lab serves carries every
property of its type.
"""

from __future__ import annotations

from typing import Callable

from . import entities as E


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def version_hidden(version: str) -> dict[str, set[str]]:
    """Properties a PBX of *version* does not have yet (shared/reference/3cx-xapi.md, version table)."""
    return {
        type_name: {prop for prop, since in props.items() if _key(version) < _key(since)}
        for type_name, props in E.SINCE.items()
    }


def absent_allowed(version: str, path: str) -> Callable[[str, dict], set[str]]:
    """The validator's hook: (type name, the object) -> properties that may be missing from it."""
    hidden = version_hidden(version)
    init_trunk = path.startswith("/xapi/v1/Trunks/Pbx.InitTrunk(")

    def absent(type_name: str, obj: dict) -> set[str]:
        out = set(hidden.get(type_name, ()))
        if type_name == "Pbx.ConcealedPassword":
            # 3cx-xapi.md §3.4: "AuthPassword ({Value,Concealed}; reads may return {"Concealed":true})".
            out.add("Value")
        elif type_name == "Pbx.OutboundRoute" and obj.get("TrunkId") == -1:
            # 3cx-xapi.md §3.6: unused routes are
            # {"TrunkId":-1,"StripDigits":0,"Prepend":"","Append":"","CallerID":""} (live replies).
            out.add("TrunkName")
        elif init_trunk and type_name in ("Pbx.Trunk", "Pbx.Gateway"):
            # 3cx-xapi.md §2: InitTrunk "returns a filled Pbx.Trunk without an Id" (the gateway's
            # Id is the trunk's, assigned when the trunk is created).
            out.add("Id")
        return out

    return absent
