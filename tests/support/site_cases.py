"""Good and bad site variables, shared by the site model's unit tests and the fleet test.

A bad case is ``(id, change, variable)``: the change laid over a good site, and the site variable
the refusal must name. A good case is ``(id, change)``: the site model and every module must take
it. ``SITE_ONLY`` lists the bad cases that the site model refuses on purpose although no module
option would (a rule of the site, or a stricter type than a module's conversions): every other
bad case must be refused by a module too, with the same check.
"""

from __future__ import annotations

HEX = "0123456789abcdef" * 2
GOOD_PASSWORD = "Fallback2Twilio"

BASE = dict(
    twilio_sip_domain_name="acme",
    twilio_sip_domain_friendly_name="Acme 3CX fallback",
    twilio_sip_domain_region="us1",
    twilio_sip_domain_account_sid="AC" + HEX,
    twilio_sip_domain_auth_token="not-a-real-token",
    twilio_sip_domain_pbx_public_ips=["203.0.113.10"],
    twilio_sip_domain_voice_url="https://voice.example.com/acme",
    threecx_fallback_url="https://pbx.example.com",
    threecx_fallback_client_id="ansible",
    threecx_fallback_client_secret="not-a-real-secret",
    threecx_fallback_did="+12125550100",
    threecx_fallback_group_number="800",
    threecx_fallback_group_name="Front desk",
    threecx_fallback_agents=["100", "101"],
    threecx_fallback_fallback_number="+12125550199",
)

CREDENTIALS = dict(
    twilio_sip_domain_auth_mode="credentials",
    twilio_sip_domain_credentials=[{"username": "acme-pbx", "password": GOOD_PASSWORD}],
)

BAD = [
    # --- the SIP Domain
    ("name-underscore", dict(twilio_sip_domain_name="acme_pbx"), "twilio_sip_domain_name"),
    ("name-empty", dict(twilio_sip_domain_name=""), "twilio_sip_domain_name"),
    ("name-long-label", dict(twilio_sip_domain_name="a" * 64), "twilio_sip_domain_name"),
    ("name-regional", dict(twilio_sip_domain_name="acme.sip.ie1.twilio.com"), "twilio_sip_domain_name"),
    ("name-leading-hyphen", dict(twilio_sip_domain_name="-acme"), "twilio_sip_domain_name"),
    ("name-list", dict(twilio_sip_domain_name=["acme"]), "twilio_sip_domain_name"),
    ("name-unicode", dict(twilio_sip_domain_name="ácme"), "twilio_sip_domain_name"),
    ("name-other-twilio-host", dict(twilio_sip_domain_name="acme.twilio.com"), "twilio_sip_domain_name"),
    ("name-quote", dict(twilio_sip_domain_name="o'neil"), "twilio_sip_domain_name"),
    ("name-other-domain", dict(twilio_sip_domain_name="rel.sip.example.com"), "twilio_sip_domain_name"),
    ("name-dotted-short", dict(twilio_sip_domain_name="pbx.acme"), "twilio_sip_domain_name"),
    ("friendly-name-long", dict(twilio_sip_domain_friendly_name="x" * 65), "twilio_sip_domain_friendly_name"),
    ("friendly-name-list", dict(twilio_sip_domain_friendly_name=["x"]), "twilio_sip_domain_friendly_name"),
    ("region-unknown", dict(twilio_sip_domain_region="de1"), "twilio_sip_domain_region"),
    ("region-upper-case", dict(twilio_sip_domain_region="US1"), "twilio_sip_domain_region"),
    ("auth-mode-unknown", dict(twilio_sip_domain_auth_mode="vpn"), "twilio_sip_domain_auth_mode"),
    ("auth-mode-credentials-none", dict(twilio_sip_domain_auth_mode="credentials"), "twilio_sip_domain_credentials"),
    ("auth-mode-acl-no-ips", dict(twilio_sip_domain_pbx_public_ips=[]), "twilio_sip_domain_pbx_public_ips"),
    # --- the PBX's public addresses
    ("ips-string", dict(twilio_sip_domain_pbx_public_ips="203.0.113.10"), "twilio_sip_domain_pbx_public_ips"),
    ("ips-ipv6", dict(twilio_sip_domain_pbx_public_ips=["2001:db8::1"]), "twilio_sip_domain_pbx_public_ips"),
    ("ips-slash-0", dict(twilio_sip_domain_pbx_public_ips=["203.0.113.10/0"]), "twilio_sip_domain_pbx_public_ips"),
    ("ips-slash-33", dict(twilio_sip_domain_pbx_public_ips=["203.0.113.10/33"]), "twilio_sip_domain_pbx_public_ips"),
    ("ips-octet", dict(twilio_sip_domain_pbx_public_ips=["203.0.113.300"]), "twilio_sip_domain_pbx_public_ips"),
    ("ips-twice", dict(twilio_sip_domain_pbx_public_ips=["203.0.113.10", "203.0.113.10/32"]), "twilio_sip_domain_pbx_public_ips"),
    ("ips-too-many", dict(twilio_sip_domain_pbx_public_ips=["198.51.100.%d" % i for i in range(101)]), "twilio_sip_domain_pbx_public_ips"),
    ("ips-mapping", dict(twilio_sip_domain_pbx_public_ips=[{"ip": "203.0.113.10", "port": 5060}]), "twilio_sip_domain_pbx_public_ips"),
    ("ips-hostname", dict(twilio_sip_domain_pbx_public_ips=["pbx.example.com"]), "twilio_sip_domain_pbx_public_ips"),
    ("ips-host-bits", dict(twilio_sip_domain_pbx_public_ips=["10.0.0.1/24"]), "twilio_sip_domain_pbx_public_ips"),
    ("ips-world-in-halves", dict(twilio_sip_domain_pbx_public_ips=["0.0.0.0/1", "128.0.0.0/1"]), "twilio_sip_domain_pbx_public_ips"),
    ("ips-wider-than-16", dict(twilio_sip_domain_pbx_public_ips=["10.0.0.0/16", "10.1.0.0/24"]), "twilio_sip_domain_pbx_public_ips"),
    ("wide-not-bool", dict(twilio_sip_domain_allow_wide_ranges="sure"), "twilio_sip_domain_allow_wide_ranges"),
    # --- SIP credentials
    ("password-weak", dict(CREDENTIALS, twilio_sip_domain_credentials=[{"username": "u", "password": "short"}]), "twilio_sip_domain_credentials"),
    (
        "password-no-upper",
        dict(CREDENTIALS, twilio_sip_domain_credentials=[{"username": "u", "password": "alllowercase123"}]),
        "twilio_sip_domain_credentials",
    ),
    (
        "username-long",
        dict(CREDENTIALS, twilio_sip_domain_credentials=[{"username": "u" * 33, "password": GOOD_PASSWORD}]),
        "twilio_sip_domain_credentials",
    ),
    (
        "username-twice",
        dict(CREDENTIALS, twilio_sip_domain_credentials=[{"username": "u", "password": GOOD_PASSWORD}] * 2),
        "twilio_sip_domain_credentials",
    ),
    ("password-missing", dict(CREDENTIALS, twilio_sip_domain_credentials=[{"username": "u"}]), "twilio_sip_domain_credentials"),
    ("credentials-string", dict(CREDENTIALS, twilio_sip_domain_credentials="u:" + GOOD_PASSWORD), "twilio_sip_domain_credentials"),
    ("credential-list-name-long", dict(CREDENTIALS, twilio_sip_domain_credential_list_name="x" * 65), "twilio_sip_domain_credential_list_name"),
    ("update-password-choice", dict(CREDENTIALS, twilio_sip_domain_update_password="sometimes"), "twilio_sip_domain_update_password"),
    ("acl-name-long", dict(twilio_sip_domain_acl_name="x" * 256), "twilio_sip_domain_acl_name"),
    ("purge-not-bool", dict(twilio_sip_domain_purge_mappings="maybe"), "twilio_sip_domain_purge_mappings"),
    # --- the voice handler
    ("voice-url-ftp", dict(twilio_sip_domain_voice_url="ftp://voice.example.com/x"), "twilio_sip_domain_voice_url"),
    ("voice-url-space", dict(twilio_sip_domain_voice_url="https://voice example.com/x"), "twilio_sip_domain_voice_url"),
    ("voice-url-http", dict(twilio_sip_domain_voice_url="http://voice.example.com/x"), "twilio_sip_domain_voice_url"),
    ("fallback-url-http", dict(twilio_sip_domain_voice_fallback_url="http://voice.example.com/f"), "twilio_sip_domain_voice_fallback_url"),
    ("two-handlers", dict(twilio_sip_domain_twiml_app="Acme bot"), "twilio_sip_domain_twiml_app"),
    ("no-handler", dict(twilio_sip_domain_voice_url=""), "twilio_sip_domain_voice_url"),
    ("studio-flow-short", dict(twilio_sip_domain_voice_url="", twilio_sip_domain_studio_flow="FW123"), "twilio_sip_domain_studio_flow"),
    ("studio-flow-prefix", dict(twilio_sip_domain_voice_url="", twilio_sip_domain_studio_flow="XX" + HEX), "twilio_sip_domain_studio_flow"),
    ("twiml-app-blank", dict(twilio_sip_domain_voice_url="", twilio_sip_domain_twiml_app="   "), "twilio_sip_domain_twiml_app"),
    ("voice-method-choice", dict(twilio_sip_domain_voice_method="PUT"), "twilio_sip_domain_voice_method"),
    ("fallback-url-bad", dict(twilio_sip_domain_voice_fallback_url="not a url"), "twilio_sip_domain_voice_fallback_url"),
    (
        "fallback-url-with-app",
        dict(twilio_sip_domain_voice_url="", twilio_sip_domain_twiml_app="Acme bot", twilio_sip_domain_voice_fallback_url="https://x.example.com/f"),
        "twilio_sip_domain_voice_fallback_url",
    ),
    ("secure-not-bool", dict(twilio_sip_domain_secure="sometimes"), "twilio_sip_domain_secure"),
    # --- Twilio credentials
    ("account-sid-short", dict(twilio_sip_domain_account_sid="AC123"), "twilio_sip_domain_account_sid"),
    ("account-sid-unset", dict(twilio_sip_domain_account_sid=""), "twilio_sip_domain_account_sid"),
    ("auth-token-unset", dict(twilio_sip_domain_auth_token=""), "twilio_sip_domain_auth_token"),
    ("api-key-alone", dict(twilio_sip_domain_auth_token="", twilio_sip_domain_api_key="SK" + HEX), "twilio_sip_domain_api_key"),
    ("api-key-prefix", dict(twilio_sip_domain_api_key="AK" + HEX, twilio_sip_domain_api_secret="s3cr3t-value"), "twilio_sip_domain_api_key"),
    # --- the PBX connection
    ("url-unset", dict(threecx_fallback_url=""), "threecx_fallback_url"),
    ("url-no-scheme", dict(threecx_fallback_url="pbx.example.com"), "threecx_fallback_url"),
    ("url-http", dict(threecx_fallback_url="http://pbx.example.com"), "threecx_fallback_url"),
    ("url-ftp", dict(threecx_fallback_url="ftp://pbx.example.com"), "threecx_fallback_url"),
    ("url-host-port", dict(threecx_fallback_url="127.0.0.1:5001"), "threecx_fallback_url"),
    ("ca-path-missing", dict(threecx_fallback_ca_path="/nonexistent/ca.pem"), "threecx_fallback_ca_path"),
    ("api-base-url-http", dict(twilio_sip_domain_api_base_url="http://127.0.0.1:5000"), "twilio_sip_domain_api_base_url"),
    ("ca-bundle-missing", dict(twilio_sip_domain_ca_bundle="/nonexistent/bundle.pem"), "twilio_sip_domain_ca_bundle"),
    ("ca-bundle-not-pem", dict(twilio_sip_domain_ca_bundle="/etc/hostname"), "twilio_sip_domain_ca_bundle"),
    ("client-id-unset", dict(threecx_fallback_client_id=""), "threecx_fallback_client_id"),
    ("client-secret-unset", dict(threecx_fallback_client_secret=""), "threecx_fallback_client_secret"),
    ("validate-certs-not-bool", dict(threecx_fallback_validate_certs="maybe"), "threecx_fallback_validate_certs"),
    # --- template and trunk
    ("template-quote", dict(threecx_fallback_template_name="gulf-o'neil-cid.pv.xml"), "threecx_fallback_template_name"),
    ("template-suffix", dict(threecx_fallback_template_name="twilio.xml"), "threecx_fallback_template_name"),
    ("template-dots", dict(threecx_fallback_template_name="a..b.pv.xml"), "threecx_fallback_template_name"),
    ("template-long", dict(threecx_fallback_template_name="t" * 100 + ".pv.xml"), "threecx_fallback_template_name"),
    ("template-same-as-source", dict(threecx_fallback_template_name="GenericSIPTrunk.pv.xml"), "threecx_fallback_template_name"),
    ("template-source-bad", dict(threecx_fallback_template_source="generic.txt"), "threecx_fallback_template_source"),
    ("parameter-name-space", dict(threecx_fallback_parameter_names={"pai_user_part": "P Asserted"}), "threecx_fallback_parameter_names"),
    ("parameter-names-string", dict(threecx_fallback_parameter_names="PAI"), "threecx_fallback_parameter_names"),
    ("parameter-names-unknown-role", dict(threecx_fallback_parameter_names={"pai": "PAI"}), "threecx_fallback_parameter_names"),
    ("trunk-name-blank", dict(threecx_fallback_trunk_name="   "), "threecx_fallback_trunk_name"),
    ("sip-domain-bad-host", dict(threecx_fallback_sip_domain="not a host!"), "threecx_fallback_sip_domain"),
    ("sip-domain-one-label", dict(threecx_fallback_sip_domain="acme"), "threecx_fallback_sip_domain"),
    ("port-high", dict(threecx_fallback_port=70000), "threecx_fallback_port"),
    ("port-zero", dict(threecx_fallback_port=0), "threecx_fallback_port"),
    ("port-text", dict(threecx_fallback_port="5060x"), "threecx_fallback_port"),
    ("transport-choice", dict(threecx_fallback_transport="SCTP"), "threecx_fallback_transport"),
    ("trunk-auth-choice", dict(threecx_fallback_auth_mode="digest"), "threecx_fallback_auth_mode"),
    ("trunk-credentials-missing", dict(threecx_fallback_auth_mode="credentials"), "threecx_fallback_auth_id"),
    ("trunk-ip-with-password", dict(threecx_fallback_auth_password="Secret12345678"), "threecx_fallback_auth_password"),
    ("trunk-update-password-choice", dict(threecx_fallback_update_password="never"), "threecx_fallback_update_password"),
    # --- numbers
    ("did-dashes", dict(threecx_fallback_did="212-555-0100"), "threecx_fallback_did"),
    ("did-short", dict(threecx_fallback_did="12"), "threecx_fallback_did"),
    ("did-country-zero", dict(threecx_fallback_did="+0212555"), "threecx_fallback_did"),
    ("did-list", dict(threecx_fallback_did=["+12125550100"]), "threecx_fallback_did"),
    ("did-fullwidth", dict(threecx_fallback_did="+\uff11\uff12\uff11\uff12\uff15\uff15\uff15"), "threecx_fallback_did"),
    ("fallback-no-plus", dict(threecx_fallback_fallback_number="12125550199"), "threecx_fallback_fallback_number"),
    ("fallback-spaces", dict(threecx_fallback_fallback_number="+1 212 555 0199"), "threecx_fallback_fallback_number"),
    ("fallback-long", dict(threecx_fallback_fallback_number="+1234567890123456"), "threecx_fallback_fallback_number"),
    # --- the queue or ring group
    ("group-type-choice", dict(threecx_fallback_group_type="hunt_group"), "threecx_fallback_group_type"),
    ("group-number-dash", dict(threecx_fallback_group_number="8-00"), "threecx_fallback_group_number"),
    ("group-number-long", dict(threecx_fallback_group_number="12345678901"), "threecx_fallback_group_number"),
    ("group-name-blank", dict(threecx_fallback_group_name="  "), "threecx_fallback_group_name"),
    ("agents-string", dict(threecx_fallback_agents="100,101"), "threecx_fallback_agents"),
    ("agents-letters", dict(threecx_fallback_agents=["10a"]), "threecx_fallback_agents"),
    ("agents-mapping", dict(threecx_fallback_agents=[{"number": "100"}]), "threecx_fallback_agents"),
    ("agents-fullwidth", dict(threecx_fallback_agents=["\uff11\uff10\uff10"]), "threecx_fallback_agents"),
    ("ring-timeout-zero", dict(threecx_fallback_ring_timeout=0), "threecx_fallback_ring_timeout"),
    ("ring-timeout-text", dict(threecx_fallback_ring_timeout="ten"), "threecx_fallback_ring_timeout"),
    ("ring-timeout-bool", dict(threecx_fallback_ring_timeout=True), "threecx_fallback_ring_timeout"),
    ("queue-timeout-huge", dict(threecx_fallback_queue_timeout=1000000000), "threecx_fallback_queue_timeout"),
    ("queue-timeout-negative", dict(threecx_fallback_queue_timeout=-5), "threecx_fallback_queue_timeout"),
    ("ring-group-time-zero", dict(threecx_fallback_group_type="ring_group", threecx_fallback_ring_timeout=0), "threecx_fallback_ring_timeout"),
    # --- the outbound rule
    ("rule-name-blank", dict(threecx_fallback_outbound_rule_name="  "), "threecx_fallback_outbound_rule_name"),
    ("rule-position-choice", dict(threecx_fallback_outbound_rule_position="middle"), "threecx_fallback_outbound_rule_position"),
    ("departments-string", dict(threecx_fallback_departments="Support"), "threecx_fallback_departments"),
    ("departments-blank", dict(threecx_fallback_departments=[" "]), "threecx_fallback_departments"),
]

# Refused by the site model on purpose, although no module option would refuse the value as the
# role passes it: a rule of the site (what an auth mode or the fallback flow needs), or a type
# stricter than a module's conversions (a module splits a string into a list at commas, and
# turns a list into its text).
SITE_ONLY = {
    "wide-not-bool",
    "friendly-name-list",
    "auth-mode-unknown",
    "auth-mode-credentials-none",
    "auth-mode-acl-no-ips",
    "ips-string",
    "ips-mapping",
    "purge-not-bool",
    "secure-not-bool",
    "validate-certs-not-bool",
    "parameter-names-string",
    "port-text",
    "fallback-no-plus",
    "group-type-choice",
    "agents-string",
    "agents-mapping",
    "ring-timeout-text",
    "ring-timeout-bool",
    "departments-string",
}

GOOD = [
    ("base", {}),
    ("name-full", dict(twilio_sip_domain_name="acme-1.sip.twilio.com")),
    ("name-subdomain", dict(twilio_sip_domain_name="pbx.acme.sip.twilio.com")),
    ("ips-wide-allowed", dict(twilio_sip_domain_pbx_public_ips=["10.0.0.0/8"], twilio_sip_domain_allow_wide_ranges=True)),
    ("http-webhook-allowed", dict(twilio_sip_domain_voice_url="http://voice.example.com/acme", twilio_sip_domain_allow_http_webhooks=True)),
    ("region-ie1", dict(twilio_sip_domain_region="ie1")),
    ("region-unset", dict(twilio_sip_domain_region="")),
    ("ips-range", dict(twilio_sip_domain_pbx_public_ips=["198.51.100.0/24", "203.0.113.10"])),
    ("credentials", CREDENTIALS),
    ("both", dict(CREDENTIALS, twilio_sip_domain_auth_mode="both")),
    ("api-key", dict(twilio_sip_domain_auth_token="", twilio_sip_domain_api_key="SK" + HEX, twilio_sip_domain_api_secret="s3cr3t-value")),
    ("studio", dict(twilio_sip_domain_voice_url="", twilio_sip_domain_studio_flow="FW" + HEX)),
    ("twiml-app", dict(twilio_sip_domain_voice_url="", twilio_sip_domain_twiml_app="Acme bot")),
    ("fallback-url", dict(twilio_sip_domain_voice_fallback_url="https://fallback.example.com/voice")),
    ("purge-text", dict(twilio_sip_domain_purge_mappings="yes")),
    ("template-spaces", dict(threecx_fallback_template_name="Twilio CID (v2).pv.xml")),
    ("parameter-names", dict(threecx_fallback_parameter_names={"pai_user_part": "PAssertedIdentityUserPart"})),
    ("port-text-number", dict(threecx_fallback_port="5080")),
    ("trunk-credentials", dict(threecx_fallback_auth_mode="credentials", threecx_fallback_auth_id="acme", threecx_fallback_auth_password="Secret12345678")),
    ("did-no-plus", dict(threecx_fallback_did="12125550100")),
    ("group-number-int", dict(threecx_fallback_group_number=800)),
    ("agents-ints", dict(threecx_fallback_agents=[100, "101"])),
    ("agents-none", dict(threecx_fallback_agents=[])),
    ("ring-group", dict(threecx_fallback_group_type="ring_group", threecx_fallback_group_number="801")),
    ("timeouts-text", dict(threecx_fallback_ring_timeout="15", threecx_fallback_queue_timeout="30")),
    ("departments", dict(threecx_fallback_departments=["Support"])),
    ("sip-domain-given", dict(threecx_fallback_sip_domain="acme.sip.us1.twilio.com")),
    ("validate-certs-text", dict(threecx_fallback_validate_certs="false")),
    ("position-last", dict(threecx_fallback_outbound_rule_position="last")),
]


def site(change):
    """A copy of the good site with ``change`` laid over it."""
    out = dict(BASE)
    out.update(change)
    return out
