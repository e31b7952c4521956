"""Variants: the plausible readings of the vendor behaviours no public source confirms.

For every UNCONFIRMED or inferred behaviour the collection depends on, the lab can play each
plausible reading. A *behaviour* (``nav_write``, ``paging``, ...) has several *variants*, one of
them the default (what the lab did before variants existed, and still does unless told). A PBX
(3CX) or an account (Twilio) plays one variant per behaviour; choose them with
``lab up --variant NAME``, ``lab pbx add NAME --variant ...``, ``POST /_lab/variants`` or the
``variants`` option of ``POST /_lab/reset``. ``lab variants`` lists them (docs/lab.md, *Variants*).

Each variant names the reference it came from (``shared/reference/*.md``), so that a reading
the lab plays is never an invention of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

THREECX = "threecx"
TWILIO = "twilio"


@dataclass(frozen=True)
class Variant:
    name: str
    behaviour: str
    vendor: str
    summary: str
    reference: str
    default: bool = False

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "behaviour": self.behaviour,
            "vendor": self.vendor,
            "default": self.default,
            "summary": self.summary,
            "reference": self.reference,
        }


_XAPI = "3cx-xapi.md"
_TWILIO = "twilio.md"

ALL: tuple[Variant, ...] = (
    # ---- 3CX: navigation properties (Queue.Agents, Queue.Managers, RingGroup.Members, InboundRule.TrunkDN)
    Variant(
        "nav-inline",
        "nav_write",
        THREECX,
        "navigation properties written inline (Agents: [{Number}], TrunkDN: {Id}) are stored; X@odata.bind is an unknown property (400)",
        _XAPI + " §3.1 (Agents PATCH [I]), §3.7 (TrunkDN write format UNCONFIRMED)",
        default=True,
    ),
    Variant(
        "nav-inline-ignored",
        "nav_write",
        THREECX,
        "navigation properties written inline are silently ignored (201/204, nothing stored); X@odata.bind is stored",
        _XAPI + " §3.1, §3.7; the vendor document marks Agents, Members, TrunkDN x-ms-navigationProperty (OData writes links with @odata.bind)",
    ),
    Variant(
        "nav-bind-only",
        "nav_write",
        THREECX,
        "navigation properties written inline are refused (400 naming the property); X@odata.bind is stored",
        _XAPI + " §3.7 ('plain object or @odata.bind' UNCONFIRMED)",
    ),
    # ---- 3CX: template upload
    Variant(
        "template-post",
        "template_upload",
        THREECX,
        "POST /TrunkTemplates {Id, Name, Content} creates a custom template (PATCH changes it)",
        _XAPI + " §3.5 ('the plausible route but UNCONFIRMED')",
        default=True,
    ),
    Variant(
        "template-file-only",
        "template_upload",
        THREECX,
        "POST and PATCH /TrunkTemplates are refused (405): templates come only as a file in the provider folder (Import Provider)",
        _XAPI + " §3.5 (fallback: the provider folder), §4 (its location)",
    ),
    # ---- 3CX: P-Asserted-Identity / P-Preferred-Identity parameter names
    Variant(
        "pai-names-lab",
        "pai_names",
        THREECX,
        "the catalogue names them PAssertedIdentity{DisplayName,UserPart,HostPart} and PPreferredIdentity{...} (the reference's best guess)",
        _XAPI + " §4 ('Best guesses'; UNCONFIRMED)",
        default=True,
    ),
    Variant(
        "pai-names-hyphen",
        "pai_names",
        THREECX,
        "the catalogue names them P-AssertedIdentity{DisplayName,UserPart,HostPart} and P-PreferredIdentity{...}",
        _XAPI + " §4 (the VoIP-provider-checker summary writes P-AssertedIdentityUserPart)",
    ),
    Variant(
        "pai-names-absent",
        "pai_names",
        THREECX,
        "the catalogue has no PAI/PPI parameters at all (templates' bindings to them are dropped)",
        _XAPI + " §4 (names UNCONFIRMED: 'read the exact Names from GET /Defs/GatewayParameters')",
    ),
    # ---- 3CX: token lifetime unit
    Variant(
        "expires-by-version",
        "token_expiry",
        THREECX,
        "expires_in is minutes (60) before 20.0.9 and seconds (3600) from 20.0.9",
        _XAPI + " §1 (tutorial commit 1c6947c [C])",
        default=True,
    ),
    Variant(
        "expires-minutes",
        "token_expiry",
        THREECX,
        "expires_in is minutes (60) on every version (the token still lives 60 minutes)",
        _XAPI + " §1 ('a 20.0.8 user read expires_in:60 as seconds'; docs: valid 60 min)",
    ),
    Variant(
        "expires-seconds",
        "token_expiry",
        THREECX,
        "expires_in is seconds (3600) on every version",
        _XAPI + " §1 (OAuth2 says seconds)",
    ),
    # ---- 3CX: token cool-down
    Variant(
        "token-cooldown-5",
        "token_cooldown",
        THREECX,
        "more than 5 token requests in 60 s: /connect/token answers 403 for 180 s",
        _XAPI + " §1 (one live report: 403, ~180 s; anecdotal, UNCONFIRMED)",
        default=True,
    ),
    Variant(
        "token-cooldown-2",
        "token_cooldown",
        THREECX,
        "more than 2 token requests in 60 s: /connect/token answers 403 for 180 s",
        _XAPI + " §1 (the threshold is not known)",
    ),
    Variant(
        "token-no-cooldown",
        "token_cooldown",
        THREECX,
        "no limit on token requests",
        _XAPI + " §1 ('Rate limits: None documented')",
    ),
    # ---- 3CX: paging
    Variant(
        "paging-none",
        "paging",
        THREECX,
        "a list answers every entity in one page (no server page limit, no @odata.nextLink)",
        _XAPI + " §1 ('Whether @odata.nextLink is emitted is UNCONFIRMED')",
        default=True,
    ),
    Variant(
        "paging-nextlink",
        "paging",
        THREECX,
        "a list answers at most 2 entities per page and links the next page with @odata.nextLink",
        _XAPI + " §1 (OData server-driven paging)",
    ),
    Variant(
        "paging-silent",
        "paging",
        THREECX,
        "a list answers at most 2 entities per page, a larger $top is cut silently, and no @odata.nextLink says so",
        _XAPI + " §1 (nextLink UNCONFIRMED; $count=true [C] gives the total)",
    ),
    # ---- 3CX: outbound rule routes
    Variant(
        "routes-pad",
        "outbound_routes",
        THREECX,
        "an outbound rule written with fewer than 5 routes is padded with unused routes",
        _XAPI + " §3.6 (replies always show 5 routes [C]; 'Whether POST needs all 5 is UNCONFIRMED')",
        default=True,
    ),
    Variant(
        "routes-need-five",
        "outbound_routes",
        THREECX,
        "an outbound rule POST or PATCH of Routes with fewer than 5 routes is refused (400)",
        _XAPI + " §3.6",
    ),
    # ---- 3CX: department of the forwarded queue leg
    Variant(
        "forward-dept-queue",
        "forward_department",
        THREECX,
        "a queue's / ring group's forward-to-external leg carries the queue's departments (Groups) for outbound-rule matching",
        _XAPI + " §3.6 ('UNCONFIRMED (probably the queue's Groups)')",
        default=True,
    ),
    Variant(
        "forward-dept-none",
        "forward_department",
        THREECX,
        "the forwarded leg carries no department: an outbound rule with departments (GroupIds) never matches it",
        _XAPI + " §3.6 ('calls from a route point with no department did not match any rule')",
    ),
    # ---- 3CX: Do Not Disturb
    Variant(
        "dnd-profile",
        "dnd",
        THREECX,
        "DND is the user's presence profile: CurrentProfileName 'Out of office'",
        "docs/lab.md (Pbx.User has no DND flag; v20 client's DND = Out of office [I]); setup-guide.md step 10",
        default=True,
    ),
    Variant(
        "dnd-flag",
        "dnd",
        THREECX,
        "DND is a separate flag the XAPI does not show: the profile stays as it was, the agent is not rung",
        "setup-guide.md step 10 and its failure table (DND); the vendor document's Pbx.User has no such property",
    ),
    # ---- 3CX: writing a user's presence profile (the DND of the round-trip call)
    Variant(
        "presence-stored",
        "presence_write",
        THREECX,
        "PATCH /Users({Id}) with CurrentProfileName sets the user's presence profile",
        _XAPI + " has no source on presence; the vendor document: PATCH /Users({Id}) takes a Pbx.User, CurrentProfileName not readOnly",
        default=True,
    ),
    Variant(
        "presence-ignored",
        "presence_write",
        THREECX,
        "PATCH /Users({Id}) answers 204 but keeps CurrentProfileName: the profile is the user's own switch",
        _XAPI + " has no source on presence; the vendor document does not say an admin's PATCH sets a user's current profile",
    ),
    # ---- Twilio: legacy vs Auth/Calls mapping stores
    Variant(
        "mappings-shared",
        "mapping_stores",
        TWILIO,
        "legacy (Domains/{SD}/...Mappings) and Auth/Calls mappings are one store: either path shows every mapping",
        _TWILIO + " §1 ('Whether both share one store is unconfirmed — read both')",
        default=True,
    ),
    Variant(
        "mappings-separate",
        "mapping_stores",
        TWILIO,
        "legacy and Auth/Calls mappings are two stores: a path shows only what was mapped through it (both admit calls)",
        _TWILIO + " §1",
    ),
    # ---- Twilio: a domain name another account holds
    Variant(
        "domain-taken-21231",
        "domain_taken",
        TWILIO,
        "creating a SIP Domain whose name another account holds: 400, code 21231 (Domain Validation Error)",
        _TWILIO + " §1c (21231 = Domain Validation Error; the duplicate's code is unconfirmed)",
        default=True,
    ),
    Variant(
        "domain-taken-21248",
        "domain_taken",
        TWILIO,
        "the same: 400, code 21248 (the Elastic SIP Trunking 'domain already taken' code)",
        _TWILIO + " §1c ('21248 Trunk Domain already taken is the Elastic-SIP-Trunking analogue')",
    ),
    Variant(
        "domain-taken-409",
        "domain_taken",
        TWILIO,
        "the same: 409 Conflict, code 20409",
        _TWILIO + " §1c (status unconfirmed) and docs/lab.md (injected statuses map to code 20000+status)",
    ),
)

BY_NAME = {v.name: v for v in ALL}
BEHAVIOURS: dict[str, list[Variant]] = {}
for _v in ALL:
    BEHAVIOURS.setdefault(_v.behaviour, []).append(_v)
DEFAULTS = {b: next(v.name for v in vs if v.default) for b, vs in BEHAVIOURS.items()}


def vendor_behaviours(vendor: str) -> list[str]:
    return [b for b, vs in BEHAVIOURS.items() if vs[0].vendor == vendor]


def resolve(names: Iterable[str], vendor: str | None = None, base: dict | None = None) -> dict[str, str]:
    """Behaviour -> variant name: ``base`` (default: every default) with ``names`` laid over it.

    ``vendor`` limits the result to that vendor's behaviours (names of the other vendor are
    accepted and left out, so one ``--variant`` list serves both stand-ins). Raises ValueError
    naming an unknown variant (and the known ones) or two variants of one behaviour.
    """
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise ValueError("variants must be a list of variant names (see 'lab variants')")
    out = dict(base) if base is not None else dict(DEFAULTS)
    seen: dict[str, str] = {}
    for name in names:
        variant = BY_NAME.get(name) if isinstance(name, str) else None
        if variant is None:
            raise ValueError(f"unknown variant {name!r}; the variants are: {', '.join(BY_NAME)} (see 'lab variants')")
        if variant.behaviour in seen and seen[variant.behaviour] != name:
            raise ValueError(f"variants {seen[variant.behaviour]!r} and {name!r} are two readings of one behaviour ({variant.behaviour}); choose one")
        seen[variant.behaviour] = name
        out[variant.behaviour] = name
    if vendor is not None:
        out = {b: n for b, n in out.items() if BY_NAME[n].vendor == vendor}
    return out


def catalogue() -> list[dict]:
    return [v.as_dict() for v in ALL]


def non_default(active: dict[str, str]) -> list[str]:
    return [name for behaviour, name in active.items() if DEFAULTS.get(behaviour) != name]
