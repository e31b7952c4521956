"""SIP resources of the Twilio stand-in: Domains, IP access control, credentials, mappings.

Each resource is one :class:`ResourceDef`; the rules the generic store does
not know are the small hooks below. Error codes and every behaviour the lab
had to infer are listed in docs/lab.md ("SIP resources").
"""

from __future__ import annotations

import ipaddress
import re

from .resources import Ctx, Field, ResourceDef, Resources

# Twilio error codes (docs/lab.md says where each comes from).
DOMAIN_ERROR = 21231  # "Domain Validation Error"
CREDENTIAL_LIST_ERROR = 21240  # "Credential List Validation Error"
CREDENTIAL_ERROR = 21243  # "Credential Validation Error"
ACL_ERROR = 21502  # no SIP-specific code is documented: the lab's generic bad-value code

CALLS_IP = "auth_calls_ip_access_control_list_mappings"
CALLS_CREDS = "auth_calls_credential_list_mappings"
REGISTRATION_CREDS = "auth_registrations_credential_list_mappings"

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
DOMAIN_NAME = re.compile(rf"^(?:{_LABEL}\.)+sip\.twilio\.com$", re.IGNORECASE)


def _method(param: str, name: str) -> Field:
    return Field(param, name, kind="method", default="POST")


# ---------------------------------------------------------------- domains


def check_domain(ctx: Ctx) -> None:
    name = ctx.values.get("domain_name")
    if name is None:
        return
    if not DOMAIN_NAME.match(name):
        ctx.fail(
            f"DomainName {name!r} is invalid: use labels of letters, digits and '-' "
            "and end the name with .sip.twilio.com (e.g. acme-fallback.sip.twilio.com)"
        )
    for store in ctx.store.peers():
        for rec in store.rows("domains"):
            if rec["sid"] == ctx.sid or rec["domain_name"].lower() != name.lower():
                continue
            if store is ctx.store:
                ctx.fail(f"DomainName {name} already exists in this account (domain {rec['sid']})")
            # The code (and status) of a name another account holds is unconfirmed (variant domain_taken).
            code, status = TAKEN_ERRORS[ctx.store.variants.get("domain_taken", "domain-taken-21231")]
            ctx.fail(f"DomainName {name} is not available: it is held by another account", code=code, status=status)


TAKEN_ERRORS = {"domain-taken-21231": (DOMAIN_ERROR, 400), "domain-taken-21248": (21248, 400), "domain-taken-409": (20409, 409)}


def calls_mappings(store: Resources, kind: str, domain_sid: str) -> list[dict]:
    """The Calls mappings of a domain of one kind (CALLS_IP / CALLS_CREDS): both paths admit calls.
    With ``mappings-separate`` the legacy path keeps records of its own, which count too."""
    rows = store.rows(kind, domain_sid=domain_sid)
    if store.separate_mappings():
        legacy = "ip_access_control_list_mappings" if kind == CALLS_IP else "credential_list_mappings"
        seen = {r["sid"] for r in rows}
        rows += [r for r in store.rows(legacy, domain_sid=domain_sid) if r["sid"] not in seen]
    return rows


def domain_auth_type(store: Resources, domain_sid: str) -> str:
    kinds = []
    if calls_mappings(store, CALLS_IP, domain_sid):
        kinds.append("IP_ACL")
    if calls_mappings(store, CALLS_CREDS, domain_sid):
        kinds.append("CREDENTIAL_LIST")
    return ",".join(kinds)


def _domain_computed(store: Resources, rec: dict) -> dict:
    base = store.uri_of(DOMAINS, rec)[: -len(".json")]
    return {
        "api_version": "2010-04-01",
        "auth_type": domain_auth_type(store, rec["sid"]),
        "subresource_uris": {
            "credential_list_mappings": f"{base}/CredentialListMappings.json",
            "ip_access_control_list_mappings": f"{base}/IpAccessControlListMappings.json",
        },
    }


DOMAINS = ResourceDef(
    name="domains",
    path="SIP/Domains",
    sid_prefix="SD",
    data_key="domains",
    fields=[
        Field("DomainName", "domain_name"),
        Field("FriendlyName", "friendly_name", max_length=64),
        Field("VoiceUrl", "voice_url"),
        _method("VoiceMethod", "voice_method"),
        Field("VoiceFallbackUrl", "voice_fallback_url"),
        _method("VoiceFallbackMethod", "voice_fallback_method"),
        Field("VoiceStatusCallbackUrl", "voice_status_callback_url"),
        _method("VoiceStatusCallbackMethod", "voice_status_callback_method"),
        Field("SipRegistration", "sip_registration", kind="bool", default=False),
        Field("EmergencyCallingEnabled", "emergency_calling_enabled", kind="bool", default=False),
        Field("Secure", "secure", kind="bool", default=False),
        Field("ByocTrunkSid", "byoc_trunk_sid"),
        Field("EmergencyCallerSid", "emergency_caller_sid"),
    ],
    required_create=("DomainName",),
    error_code=DOMAIN_ERROR,
    check=check_domain,
    computed=_domain_computed,
)


# ---------------------------------------------------------------- IP access control


def _refuse_if_mapped(*mapping_stores: str, code: int = DOMAIN_ERROR):
    def before_delete(ctx: Ctx) -> None:
        domains = sorted({m["domain_sid"] for name in mapping_stores for m in ctx.store.rows(name, sid=ctx.sid)})
        if domains:
            ctx.fail(
                f"{ctx.sid} is mapped to SIP domain(s) {', '.join(domains)}; delete the mapping(s) first", code=code
            )

    return before_delete


IP_ACCESS_CONTROL_LISTS = ResourceDef(
    name="ip_access_control_lists",
    path="SIP/IpAccessControlLists",
    sid_prefix="AL",
    data_key="ip_access_control_lists",
    fields=[Field("FriendlyName", "friendly_name", max_length=255)],
    required_create=("FriendlyName",),
    required_update=("FriendlyName",),
    error_code=ACL_ERROR,
    max_count=1000,
    before_delete=_refuse_if_mapped(CALLS_IP),
    extra=lambda rec, uri: {"subresource_uris": {"ip_addresses": uri[: -len(".json")] + "/IpAddresses.json"}},
)


def check_ip_address(ctx: Ctx) -> None:
    values = ctx.values
    if "ip_address" in values:
        raw = values["ip_address"]
        try:
            ipaddress.IPv4Address(raw)
        except ValueError:
            ctx.fail(f"IpAddress {raw!r} is not an IPv4 address in dotted decimal notation (IPv6 is not supported)")
    if "cidr_prefix_length" in values:
        prefix = values["cidr_prefix_length"]
        if not 0 <= prefix <= 32:
            ctx.fail(f"CidrPrefixLength {prefix} is invalid: use 1..32 (0 is stored as 32)")
        if prefix == 0:
            # Twilio stores /0 as /32 (terraform-provider-twilio#137): never a wildcard.
            values["cidr_prefix_length"] = 32


IP_ADDRESSES = ResourceDef(
    name="ip_addresses",
    path="SIP/IpAccessControlLists/{IpAccessControlListSid}/IpAddresses",
    sid_prefix="IP",
    data_key="ip_addresses",
    fields=[
        Field("FriendlyName", "friendly_name", max_length=255),
        Field("IpAddress", "ip_address"),
        Field("CidrPrefixLength", "cidr_prefix_length", kind="int", default=32),
    ],
    required_create=("FriendlyName", "IpAddress"),
    error_code=ACL_ERROR,
    max_count=100,
    check=check_ip_address,
    parent_param="IpAccessControlListSid",
    parent_field="ip_access_control_list_sid",
    parent_resource="ip_access_control_lists",
)


# ---------------------------------------------------------------- credentials

CREDENTIAL_LISTS = ResourceDef(
    name="credential_lists",
    path="SIP/CredentialLists",
    sid_prefix="CL",
    data_key="credential_lists",
    fields=[Field("FriendlyName", "friendly_name", max_length=64)],
    required_create=("FriendlyName",),
    required_update=("FriendlyName",),
    error_code=CREDENTIAL_LIST_ERROR,
    max_count=100,
    before_delete=_refuse_if_mapped(CALLS_CREDS, REGISTRATION_CREDS),
    extra=lambda rec, uri: {"subresource_uris": {"credentials": uri[: -len(".json")] + "/Credentials.json"}},
)

PASSWORD_RULE = "at least 12 characters with at least one digit, one upper-case and one lower-case letter"


def password_ok(password: str) -> bool:
    return (
        len(password) >= 12
        and re.search(r"[0-9]", password) is not None
        and re.search(r"[A-Z]", password) is not None
        and re.search(r"[a-z]", password) is not None
    )


def check_credential(ctx: Ctx) -> None:
    username = ctx.values.get("username")
    if username is not None:
        if not username:
            ctx.fail("Username must not be empty")
        if ctx.store.rows("credentials", credential_list_sid=ctx.parents.get("CredentialListSid"), username=username):
            ctx.fail(f"Username {username} already exists in this credential list")
    password = ctx.values.get("password")
    if password is not None and not password_ok(password):
        ctx.fail(f"Password is too weak: it must have {PASSWORD_RULE}")


CREDENTIALS = ResourceDef(
    name="credentials",
    path="SIP/CredentialLists/{CredentialListSid}/Credentials",
    sid_prefix="CR",
    data_key="credentials",
    fields=[
        Field("Username", "username", max_length=32, updatable=False),
        Field("Password", "password", secret=True),
    ],
    required_create=("Username", "Password"),
    error_code=CREDENTIAL_ERROR,
    max_count=1000,
    check=check_credential,
    parent_param="CredentialListSid",
    parent_field="credential_list_sid",
    parent_resource="credential_lists",
)


# ---------------------------------------------------------------- domain mappings

AUTH_MAPPING_OUTPUT = ("account_sid", "date_created", "date_updated", "friendly_name", "sid")
LEGACY_MAPPING_OUTPUT = ("account_sid", "date_created", "date_updated", "domain_sid", "friendly_name", "sid", "uri")


def _mapping(
    name: str, path: str, data_key: str, param: str, target: str, output: tuple, store: str | None = None
) -> ResourceDef:
    def computed(st: Resources, rec: dict) -> dict:
        mapped = st.get(target, rec["sid"]) or {}
        return {"friendly_name": mapped.get("friendly_name")}

    return ResourceDef(
        name=name,
        path="SIP/Domains/{DomainSid}/" + path,
        sid_prefix="AL" if target == "ip_access_control_lists" else "CL",
        data_key=data_key,
        fields=[],
        required_create=(param,),
        operations=frozenset({"list", "create", "fetch", "delete"}),
        parent_param="DomainSid",
        parent_field="domain_sid",
        parent_resource="domains",
        error_code=DOMAIN_ERROR,
        maps=(param, target),
        computed=computed,
        output=output,
        store=store,
    )


AUTH_CALLS_IP_MAPPINGS = _mapping(
    CALLS_IP,
    "Auth/Calls/IpAccessControlListMappings",
    "contents",
    "IpAccessControlListSid",
    "ip_access_control_lists",
    AUTH_MAPPING_OUTPUT,
)
AUTH_CALLS_CREDENTIAL_MAPPINGS = _mapping(
    CALLS_CREDS,
    "Auth/Calls/CredentialListMappings",
    "contents",
    "CredentialListSid",
    "credential_lists",
    AUTH_MAPPING_OUTPUT,
)
AUTH_REGISTRATIONS_CREDENTIAL_MAPPINGS = _mapping(
    REGISTRATION_CREDS,
    "Auth/Registrations/CredentialListMappings",
    "contents",
    "CredentialListSid",
    "credential_lists",
    AUTH_MAPPING_OUTPUT,
)
# The legacy paths read and write the same records as Auth/Calls (docs/lab.md).
LEGACY_IP_MAPPINGS = _mapping(
    "ip_access_control_list_mappings",
    "IpAccessControlListMappings",
    "ip_access_control_list_mappings",
    "IpAccessControlListSid",
    "ip_access_control_lists",
    LEGACY_MAPPING_OUTPUT,
    store=CALLS_IP,
)
LEGACY_CREDENTIAL_MAPPINGS = _mapping(
    "credential_list_mappings",
    "CredentialListMappings",
    "credential_list_mappings",
    "CredentialListSid",
    "credential_lists",
    LEGACY_MAPPING_OUTPUT,
    store=CALLS_CREDS,
)

ALL = [
    DOMAINS,
    IP_ACCESS_CONTROL_LISTS,
    IP_ADDRESSES,
    CREDENTIAL_LISTS,
    CREDENTIALS,
    AUTH_CALLS_IP_MAPPINGS,
    AUTH_CALLS_CREDENTIAL_MAPPINGS,
    AUTH_REGISTRATIONS_CREDENTIAL_MAPPINGS,
    LEGACY_IP_MAPPINGS,
    LEGACY_CREDENTIAL_MAPPINGS,
]


# ---------------------------------------------------------------- lab-only view for the SIP stand-in


def _credentials(store: Resources, mapping_store: str, domain_sid: str) -> list[dict]:
    out = []
    for mapping in calls_mappings(store, mapping_store, domain_sid) if mapping_store == CALLS_CREDS else store.rows(mapping_store, domain_sid=domain_sid):
        for cred in store.rows("credentials", credential_list_sid=mapping["sid"]):
            secret = store.secrets.get(cred["sid"], {}).get("password")
            out.append({"username": cred["username"], "password": secret, "credential_list_sid": mapping["sid"]})
    return out


def sip_auth(stores: dict[str, Resources]) -> dict:
    """Per SIP domain name: who may send it INVITEs (and REGISTERs).

    ``stores`` maps a region to its account's store. This is the one place
    where passwords leave the lab (GET /_lab/sip/auth, never logged).
    """
    domains = {}
    for region, store in stores.items():
        for dom in store.rows("domains"):
            ips = []
            for mapping in calls_mappings(store, CALLS_IP, dom["sid"]):
                for ip in store.rows("ip_addresses", ip_access_control_list_sid=mapping["sid"]):
                    ips.append(
                        {
                            "cidr": f"{ip['ip_address']}/{ip['cidr_prefix_length']}",
                            "ip_access_control_list_sid": mapping["sid"],
                        }
                    )
            domains[dom["domain_name"]] = {
                "region": region,
                "account_sid": store.account_sid,
                "domain_sid": dom["sid"],
                "auth_type": domain_auth_type(store, dom["sid"]),
                "ip_addresses": ips,
                "credentials": _credentials(store, CALLS_CREDS, dom["sid"]),
                "registration_credentials": _credentials(store, REGISTRATION_CREDS, dom["sid"]),
            }
    return {"domains": domains}
