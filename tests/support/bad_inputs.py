"""Bad module options, each with the option its refusal must name (issue 16's hostile-input suite).

Every case is one module task that a careless or hostile user could write: the module must refuse
it before any request, with a message naming the option (``named``) and never quoting more than
200 characters of a value. ``tests/integration/test_bad_input.py`` runs each against the lab and
reads the lab's request log to prove that none of them sent anything.

``ACCEPTED`` are values that are refused unless an ``allow_*`` option says the user means them
(docs/twilio.md): with that option they are accepted with a warning that names both options.

A case is ``(id, module, changes, named)``: ``changes`` are applied to the module's good
arguments (``DROP`` removes an option).
"""

DROP = object()
LONG = "x" * 3000  # a paste: quoted at most 200 characters
PW = "Secret0Password1"

# The good arguments of each module, without the connection (added from the lab's endpoints).
GOOD = {
    "twilio_ip_acl": dict(friendly_name="acme PBX", ip_addresses=["203.0.113.10"]),
    "twilio_credential_list": dict(friendly_name="acme PBX", credentials=[{"username": "acme-3cx", "password": PW}]),
    "twilio_sip_domain": dict(domain_name="acme-bad", voice_url="https://example.com/voice"),
    "threecx_e164": dict(country_code="1"),
    "threecx_queue": dict(number="800", name="Fallback"),
    "threecx_ring_group": dict(number="801", name="Fallback ring"),
    "threecx_template": dict(name="twilio-sip-domain.pv.xml"),
    "threecx_trunk": dict(name="Twilio", template="twilio-sip-domain.pv.xml", registrar="acme.sip.us1.twilio.com"),
    "threecx_inbound_rule": dict(did="+14155550100", destination={"type": "queue", "number": "800"}),
    "threecx_outbound_rule": dict(name="Twilio fallback", fallback_number="+14155550199"),
    # The journal is never reached: every case fails before any request or file.
    "threecx_agent_presence": dict(group_type="queue", group="800", journal="/nonexistent/presence/acme.json"),
}
TWILIO = ("twilio_ip_acl", "twilio_credential_list", "twilio_sip_domain")
THREECX = tuple(m for m in GOOD if m.startswith("threecx_"))


def _connection_cases():
    cases = []
    for module in TWILIO:
        cases += [
            (module + "-account-sid", module, dict(account_sid="AB" + "0" * 32), "account_sid"),
            (module + "-no-token", module, dict(auth_token=DROP), "auth_token"),
            (module + "-key-without-secret", module, dict(auth_token=DROP, api_key="SK" + "1" * 32), "api_secret"),
            (module + "-region", module, dict(region="eu1"), "region"),
            (module + "-base-url-http", module, dict(api_base_url="http://127.0.0.1:1"), "api_base_url"),
            (module + "-base-url-ftp", module, dict(api_base_url="ftp://example.com"), "api_base_url"),
            (module + "-ca-missing", module, dict(ca_bundle="/nonexistent/ca.pem"), "ca_bundle"),
            (module + "-ca-not-pem", module, dict(ca_bundle="/etc/hostname"), "ca_bundle"),
            (module + "-timeout", module, dict(timeout=0), "timeout"),
            (module + "-retries", module, dict(max_retries=11), "max_retries"),
            (module + "-settle", module, dict(settle_timeout=601), "settle_timeout"),
        ]
    for module in THREECX:
        cases += [
            (module + "-url-http", module, dict(url="http://127.0.0.1:5001"), "url"),
            (module + "-url-bare", module, dict(url="127.0.0.1:5001"), "url"),
            (module + "-ca-missing", module, dict(ca_path="/nonexistent/ca.pem"), "ca_path"),
            (module + "-no-secret", module, dict(client_secret=DROP), "client_secret"),
            (module + "-timeout", module, dict(timeout=-1), "timeout"),
            (module + "-retries", module, dict(max_retries=-1), "max_retries"),
        ]
    return cases


CASES = _connection_cases() + [
    # twilio_ip_acl
    ("acl-slash-zero", "twilio_ip_acl", dict(ip_addresses=["0.0.0.0/0"]), "ip_addresses[0]"),
    ("acl-two-halves", "twilio_ip_acl", dict(ip_addresses=["0.0.0.0/1", "128.0.0.0/1"]), "ip_addresses"),
    ("acl-slash-8", "twilio_ip_acl", dict(ip_addresses=["10.0.0.0/8"]), "ip_addresses"),
    ("acl-many-slash-17", "twilio_ip_acl", dict(ip_addresses=["10.0.0.0/17", "10.1.0.0/17", "10.2.0.0/17"]), "ip_addresses"),
    ("acl-host-bits", "twilio_ip_acl", dict(ip_addresses=["10.0.0.1/24"]), "ip_addresses[0]"),
    ("acl-prefix-33", "twilio_ip_acl", dict(ip_addresses=["10.0.0.1/33"]), "ip_addresses[0]"),
    ("acl-not-an-ip", "twilio_ip_acl", dict(ip_addresses=["pbx.example.com"]), "ip_addresses[0]"),
    ("acl-ipv6", "twilio_ip_acl", dict(ip_addresses=["2001:db8::1"]), "ip_addresses[0]"),
    ("acl-octet-256", "twilio_ip_acl", dict(ip_addresses=["203.0.113.256"]), "ip_addresses[0]"),
    ("acl-twice", "twilio_ip_acl", dict(ip_addresses=["203.0.113.10", "203.0.113.10/32"]), "ip_addresses"),
    ("acl-unknown-key", "twilio_ip_acl", dict(ip_addresses=[{"ip": "203.0.113.10", "mask": 32}]), "ip_addresses[0]"),
    ("acl-dict-no-ip", "twilio_ip_acl", dict(ip_addresses=[{"friendly_name": "x"}]), "ip_addresses[0]"),
    ("acl-bool-prefix", "twilio_ip_acl", dict(ip_addresses=[{"ip": "203.0.113.10", "cidr_prefix_length": True}]), "ip_addresses[0]"),
    ("acl-number", "twilio_ip_acl", dict(ip_addresses=[12345]), "ip_addresses[0]"),
    ("acl-101-entries", "twilio_ip_acl", dict(ip_addresses=["203.0.113.%d" % i for i in range(101)] + ["198.51.100.1"]), "ip_addresses"),
    ("acl-name-long", "twilio_ip_acl", dict(friendly_name="a" * 256), "friendly_name"),
    ("acl-name-paste", "twilio_ip_acl", dict(friendly_name=LONG), "friendly_name"),
    ("acl-name-empty", "twilio_ip_acl", dict(friendly_name=""), "friendly_name"),
    ("acl-state", "twilio_ip_acl", dict(state="gone"), "state"),
    ("acl-purge-type", "twilio_ip_acl", dict(purge_ip_addresses="sometimes"), "purge_ip_addresses"),
    ("acl-paste-address", "twilio_ip_acl", dict(ip_addresses=[LONG]), "ip_addresses[0]"),
    # twilio_credential_list
    ("cred-short-password", "twilio_credential_list", dict(credentials=[{"username": "u", "password": "short1A"}]), "credentials[0].password"),
    ("cred-no-upper", "twilio_credential_list", dict(credentials=[{"username": "u", "password": "alllowercase123"}]), "credentials[0].password"),
    ("cred-no-digit", "twilio_credential_list", dict(credentials=[{"username": "u", "password": "NoDigitsHereAtAll"}]), "credentials[0].password"),
    ("cred-long-username", "twilio_credential_list", dict(credentials=[{"username": "u" * 33, "password": PW}]), "credentials[0].username"),
    ("cred-twice", "twilio_credential_list", dict(credentials=[{"username": "u", "password": PW}, {"username": "u", "password": PW}]), "credentials"),
    ("cred-no-password", "twilio_credential_list", dict(credentials=[{"username": "u"}]), "password"),
    ("cred-unknown-key", "twilio_credential_list", dict(credentials=[{"username": "u", "password": PW, "realm": "x"}]), "realm"),
    ("cred-name-long", "twilio_credential_list", dict(friendly_name="x" * 65), "friendly_name"),
    ("cred-update-password", "twilio_credential_list", dict(update_password="sometimes"), "update_password"),
    ("cred-not-a-list", "twilio_credential_list", dict(credentials="acme-3cx:" + PW), "credentials"),
    # twilio_sip_domain
    ("domain-dotted", "twilio_sip_domain", dict(domain_name="rel.sip.example.com"), "domain_name"),
    ("domain-regional", "twilio_sip_domain", dict(domain_name="acme.sip.ie1.twilio.com"), "domain_name"),
    ("domain-underscore", "twilio_sip_domain", dict(domain_name="acme_pbx"), "domain_name"),
    ("domain-hyphen-end", "twilio_sip_domain", dict(domain_name="acme-"), "domain_name"),
    ("domain-empty", "twilio_sip_domain", dict(domain_name=""), "domain_name"),
    ("domain-twilio-not-sip", "twilio_sip_domain", dict(domain_name="acme.twilio.com"), "domain_name"),
    ("domain-paste", "twilio_sip_domain", dict(domain_name=LONG), "domain_name"),
    ("domain-voice-http", "twilio_sip_domain", dict(voice_url="http://example.com/voice"), "voice_url"),
    ("domain-voice-ftp", "twilio_sip_domain", dict(voice_url="ftp://example.com/voice"), "voice_url"),
    ("domain-voice-relative", "twilio_sip_domain", dict(voice_url="/voice"), "voice_url"),
    ("domain-voice-space", "twilio_sip_domain", dict(voice_url="https://example.com/a b"), "voice_url"),
    ("domain-fallback-http", "twilio_sip_domain", dict(voice_fallback_url="http://example.com/f"), "voice_fallback_url"),
    ("domain-status-http", "twilio_sip_domain", dict(voice_status_callback_url="http://example.com/s"), "voice_status_callback_url"),
    ("domain-method", "twilio_sip_domain", dict(voice_method="PUT"), "voice_method"),
    ("domain-two-handlers", "twilio_sip_domain", dict(studio_flow="FW" + "0" * 32), "voice_url"),
    ("domain-no-handler", "twilio_sip_domain", dict(voice_url=DROP), "voice_url"),
    ("domain-studio-sid", "twilio_sip_domain", dict(voice_url=DROP, studio_flow="FX" + "0" * 32), "studio_flow"),
    ("domain-emergency-sid", "twilio_sip_domain", dict(emergency_caller_sid="PN123"), "emergency_caller_sid"),
    ("domain-byoc-sid", "twilio_sip_domain", dict(byoc_trunk_sid="TK" + "0" * 32), "byoc_trunk_sid"),
    ("domain-friendly-long", "twilio_sip_domain", dict(friendly_name="f" * 65), "friendly_name"),
    ("domain-empty-app", "twilio_sip_domain", dict(voice_url=DROP, twiml_app="  "), "twiml_app"),
    ("domain-empty-acl-ref", "twilio_sip_domain", dict(ip_access_control_lists=[""]), "ip_access_control_lists[0]"),
    ("domain-empty-cl-ref", "twilio_sip_domain", dict(credential_lists=[" "]), "credential_lists[0]"),
    ("domain-secure-type", "twilio_sip_domain", dict(secure="maybe"), "secure"),
    # threecx_agent_presence
    ("presence-group-letters", "threecx_agent_presence", dict(group="80a"), "group"),
    ("presence-group-without-type", "threecx_agent_presence", dict(group_type=DROP), "group_type"),
    ("presence-profile-blank", "threecx_agent_presence", dict(profile="  "), "profile"),
    ("presence-journal-directory", "threecx_agent_presence", dict(journal="/tmp"), "journal"),
    ("presence-state", "threecx_agent_presence", dict(state="off"), "state"),
    # threecx_e164
    ("e164-country-letters", "threecx_e164", dict(country_code="US"), "country_code"),
    ("e164-country-long", "threecx_e164", dict(country_code="1234"), "country_code"),
    ("e164-area-long", "threecx_e164", dict(area_code="1234567"), "area_code"),
    ("e164-international", "threecx_e164", dict(international_code="+011"), "international_code"),
    ("e164-prefix", "threecx_e164", dict(prefix="9a"), "prefix"),
    ("e164-process-type", "threecx_e164", dict(process_e164="perhaps"), "process_e164"),
    # threecx_queue / threecx_ring_group
    ("queue-number-letters", "threecx_queue", dict(number="80a"), "number"),
    ("queue-number-long", "threecx_queue", dict(number="12345678901"), "number"),
    ("queue-name-blank", "threecx_queue", dict(name="  "), "name"),
    ("queue-ring-timeout", "threecx_queue", dict(ring_timeout=0), "ring_timeout"),
    ("queue-queue-timeout", "threecx_queue", dict(queue_timeout=86401), "queue_timeout"),
    ("queue-agent", "threecx_queue", dict(agents=["101", "10x"]), "agents"),
    ("queue-strategy", "threecx_queue", dict(polling_strategy="random"), "polling_strategy"),
    ("queue-dest-type", "threecx_queue", dict(no_answer_destination={"type": "fax"}), "no_answer_destination"),
    ("queue-dest-external-number", "threecx_queue", dict(no_answer_destination={"type": "external", "number": "1"}), "no_answer_destination"),
    (
        "queue-dest-external-bad",
        "threecx_queue",
        dict(no_answer_destination={"type": "external", "external": "call me maybe"}),
        "no_answer_destination.external",
    ),
    ("queue-dest-sip-bad", "threecx_queue", dict(no_answer_destination={"type": "external", "external": "sip:nobody"}), "no_answer_destination.external"),
    ("queue-dest-no-number", "threecx_queue", dict(no_answer_destination={"type": "extension"}), "no_answer_destination"),
    ("ring-number", "threecx_ring_group", dict(number=""), "number"),
    ("ring-time", "threecx_ring_group", dict(ring_time=-5), "ring_time"),
    ("ring-member", "threecx_ring_group", dict(members=["1 01"]), "members"),
    ("ring-strategy", "threecx_ring_group", dict(ring_strategy="round_robin"), "ring_strategy"),
    # threecx_template
    ("template-name", "threecx_template", dict(name="twilio.xml"), "name"),
    ("template-path", "threecx_template", dict(name="../etc/passwd.pv.xml"), "name"),
    ("template-same-source", "threecx_template", dict(source_template="twilio-sip-domain.pv.xml"), "name"),
    ("template-source-name", "threecx_template", dict(source_template="Generic"), "source_template"),
    ("template-variable", "threecx_template", dict(caller_id_variable="OriginatorCallerId"), "caller_id_variable"),
    ("template-codecs-empty", "threecx_template", dict(codecs=[]), "codecs"),
    ("template-codec-twice", "threecx_template", dict(codecs=["PCMU", "pcmu"]), "codecs"),
    ("template-codec-name", "threecx_template", dict(codecs=["G.711 u-law"]), "codecs"),
    ("template-parameter-name", "threecx_template", dict(parameter_names={"pai_user_part": "P-Asserted Identity"}), "parameter_names.pai_user_part"),
    ("template-src-and-content", "threecx_template", dict(src="/etc/hostname", content="<x/>"), "src"),
    ("template-display-blank", "threecx_template", dict(display_name=" "), "display_name"),
    # threecx_trunk
    ("trunk-name-blank", "threecx_trunk", dict(name=" "), "name"),
    ("trunk-template", "threecx_trunk", dict(template="twilio"), "template"),
    ("trunk-registrar", "threecx_trunk", dict(registrar="acme sip"), "registrar"),
    ("trunk-proxy", "threecx_trunk", dict(outbound_proxy="-bad-.example.com"), "outbound_proxy"),
    ("trunk-port", "threecx_trunk", dict(port=70000), "port"),
    ("trunk-proxy-port", "threecx_trunk", dict(proxy_port=0), "proxy_port"),
    ("trunk-calls", "threecx_trunk", dict(simultaneous_calls=10001), "simultaneous_calls"),
    ("trunk-did", "threecx_trunk", dict(did_numbers=["+14155550100", "call me"]), "did_numbers[1]"),
    ("trunk-caller-id", "threecx_trunk", dict(outbound_caller_id="0800 FALLBACK"), "outbound_caller_id"),
    ("trunk-ip-with-password", "threecx_trunk", dict(authentication="ip_based", auth_id="a", auth_password="b"), "authentication"),
    ("trunk-credentials-missing", "threecx_trunk", dict(authentication="credentials"), "auth_id"),
    ("trunk-empty-password", "threecx_trunk", dict(auth_password=""), "auth_password"),
    ("trunk-transport", "threecx_trunk", dict(transport="SCTP"), "transport"),
    ("trunk-update-password", "threecx_trunk", dict(update_password="never"), "update_password"),
    # threecx_inbound_rule
    ("inbound-did", "threecx_inbound_rule", dict(did="4155550100x"), "did"),
    ("inbound-did-paste", "threecx_inbound_rule", dict(did=LONG), "did"),
    ("inbound-name-blank", "threecx_inbound_rule", dict(name=""), "name"),
    ("inbound-trunk-blank", "threecx_inbound_rule", dict(trunk=" "), "trunk"),
    ("inbound-dest-number", "threecx_inbound_rule", dict(destination={"type": "queue", "number": "q1"}), "destination.number"),
    ("inbound-ooo-external", "threecx_inbound_rule", dict(out_of_office_destination={"type": "voicemail", "external": "+1"}), "out_of_office_destination"),
    ("inbound-none-number", "threecx_inbound_rule", dict(destination={"type": "none", "number": "800"}), "destination"),
    # threecx_outbound_rule
    ("outbound-name-blank", "threecx_outbound_rule", dict(name="  "), "name"),
    ("outbound-fallback", "threecx_outbound_rule", dict(fallback_number="+1 415 CALL"), "fallback_number"),
    ("outbound-prefix", "threecx_outbound_rule", dict(fallback_number=DROP, prefix="9x"), "prefix"),
    ("outbound-both", "threecx_outbound_rule", dict(prefix="9"), "prefix"),
    ("outbound-prepend", "threecx_outbound_rule", dict(prepend="+1-"), "prepend"),
    ("outbound-strip", "threecx_outbound_rule", dict(strip_digits=33), "strip_digits"),
    ("outbound-department", "threecx_outbound_rule", dict(departments=["Sales", ""]), "departments[1]"),
    ("outbound-range-order", "threecx_outbound_rule", dict(dn_ranges=[{"from": "200", "to": "100"}]), "dn_ranges"),
    ("outbound-range-letters", "threecx_outbound_rule", dict(dn_ranges=[{"from": "1a"}]), "dn_ranges.from"),
    ("outbound-position", "threecx_outbound_rule", dict(position="middle"), "position"),
    ("outbound-trunk-blank", "threecx_outbound_rule", dict(trunk=""), "trunk"),
]

# Refused without their allow_* option, accepted with it and a warning naming both options.
ACCEPTED = [
    ("acl-two-halves", "twilio_ip_acl", dict(ip_addresses=["0.0.0.0/1", "128.0.0.0/1"]), "allow_wide_ranges", ("ip_addresses", "allow_wide_ranges")),
    ("acl-slash-8", "twilio_ip_acl", dict(ip_addresses=["10.0.0.0/8"]), "allow_wide_ranges", ("ip_addresses", "allow_wide_ranges")),
    ("domain-voice-http", "twilio_sip_domain", dict(voice_url="http://example.com/voice"), "allow_http_webhooks", ("voice_url", "allow_http_webhooks")),
    (
        "domain-status-http",
        "twilio_sip_domain",
        dict(voice_status_callback_url="http://example.com/s"),
        "allow_http_webhooks",
        ("voice_status_callback_url", "allow_http_webhooks"),
    ),
]


def arguments(module, changes, connection):
    """The module's good arguments with ``changes`` applied, on ``connection``."""
    args = dict(connection, **GOOD[module])
    for option, value in changes.items():
        if value is DROP:
            args.pop(option, None)
        else:
            args[option] = value
    return args
