"""Shared input checks: each error names the option, the problem and the fix."""

import pytest

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _validation as v


@pytest.mark.parametrize("value", ["+14155550100", "14155550100", "800", "+971501234567"])
def test_phone_numbers_ok(value):
    assert v.check_phone_number("number", value) == value


@pytest.mark.parametrize(
    "value,fragment",
    [
        ("+1 415 555", "without spaces"),
        ("(415)5550100", "without spaces"),
        ("12", "between 3 and 15 digits"),
        ("+1234567890123456", "between 3 and 15 digits"),
        ("+0441234567", "never starts with 0"),
    ],
)
def test_phone_numbers_bad(value, fragment):
    with pytest.raises(ValueError, match="^number") as err:
        v.check_phone_number("number", value)
    assert fragment in str(err.value)


def test_phone_number_requiring_plus():
    with pytest.raises(ValueError, match="full international format"):
        v.check_phone_number("fallback_number", "14155550100", require_plus=True)


@pytest.mark.parametrize("value", ["acme.sip.us1.twilio.com", "pbx.example.com", "a-b.example.com."])
def test_fqdn_ok(value):
    assert v.check_fqdn("registrar", value) == value.rstrip(".").lower()


@pytest.mark.parametrize("value", ["localhost", "-bad.example.com", "bad_.example.com", "a..b.com", "x" * 64 + ".com", ""])
def test_fqdn_bad(value):
    with pytest.raises(ValueError, match="^registrar"):
        v.check_fqdn("registrar", value)


@pytest.mark.parametrize(
    "value,prefix,expected",
    [("203.0.113.10", None, ("203.0.113.10", 32)), ("198.51.100.0/24", None, ("198.51.100.0", 24)), ("192.0.2.4", 30, ("192.0.2.4", 30))],
)
def test_ipv4_ok(value, prefix, expected):
    assert v.check_ipv4("ip_addresses", value, prefix) == expected


@pytest.mark.parametrize(
    "value,prefix,fragment",
    [
        ("2001:db8::1", None, "IPv6"),
        ("300.1.1.1", None, "not an IPv4 address"),
        ("10.0.0.0/0", None, "Twilio stores it as /32"),
        ("10.0.0.0", 0, "Twilio stores it as /32"),
        ("10.0.0.0", 33, "from 1 to 32"),
        ("10.0.0.0/8", 8, "not both"),
        ("10.0.0.0/x", None, "whole number"),
    ],
)
def test_ipv4_bad(value, prefix, fragment):
    with pytest.raises(ValueError) as err:
        v.check_ipv4("ip_addresses", value, prefix)
    assert str(err.value).startswith("ip_addresses") and fragment in str(err.value)


def test_twilio_password_rule_never_echoes_the_password():
    assert v.check_twilio_password("password", "IWasAtSignal2018") == "IWasAtSignal2018"
    with pytest.raises(ValueError) as err:
        v.check_twilio_password("credentials[0].password", "short1A")
    text = str(err.value)
    assert "short1A" not in text and "at least 12 characters (it has 7)" in text
    with pytest.raises(ValueError, match="a digit, an upper-case letter"):
        v.check_twilio_password("password", "alllowercaseletters")


def test_sip_uri():
    assert v.check_sip_uri("destination", "sip:+14155550100@acme.sip.us1.twilio.com")
    for bad in ("+14155550100", "sip:acme.sip.us1.twilio.com", "sip:@acme.sip.us1.twilio.com", "sip:1@bad_host"):
        with pytest.raises(ValueError, match="^destination"):
            v.check_sip_uri("destination", bad)


@pytest.mark.parametrize("value,ok", [(None, True), (10, True), (0, False), (-5, False), (4000, False)])
def test_check_positive(value, ok):
    if ok:
        v.check_positive({"ring_timeout": value}, "ring_timeout", maximum=3600)
    else:
        with pytest.raises(ValueError, match="^ring_timeout must be"):
            v.check_positive({"ring_timeout": value}, "ring_timeout", maximum=3600)


def test_wide_ranges_are_refused_unless_allowed():
    assert v.check_ip_coverage("ips", [("10.0.0.0", 16)]) == 65536  # a /16 is the most
    for entries in ([("0.0.0.0", 1), ("128.0.0.0", 1)], [("10.0.0.0", 15)], [("10.0.0.0", 16), ("203.0.113.10", 32)]):
        with pytest.raises(ValueError, match="more than a /16.*set allow_wide_ranges: true"):
            v.check_ip_coverage("ips", entries)
        assert v.check_ip_coverage("ips", entries, allow_wide=True) > 65536
    # Overlapping entries count once.
    assert v.check_ip_coverage("ips", [("10.0.0.0", 16), ("10.0.1.0", 24)]) == 65536


def test_host_bits_are_refused_with_the_network():
    with pytest.raises(ValueError, match=r"10.0.0.1/24 has host bits set; the network is 10.0.0.0/24"):
        v.check_ipv4("ip_addresses[0]", "10.0.0.1/24")
    assert v.check_ipv4("ip_addresses[0]", "10.0.0.1/32") == ("10.0.0.1", 32)


def test_urls_must_use_https_unless_allowed():
    assert v.check_http_url("voice_url", "https://x.example.com/v") == "https://x.example.com/v"
    with pytest.raises(ValueError, match="voice_url must use https://.*set allow_http_webhooks: true"):
        v.check_http_url("voice_url", "http://x.example.com/v", allow_option="allow_http_webhooks")
    assert v.check_http_url("voice_url", "http://x.example.com/v", allow_http=True) == "http://x.example.com/v"
    for bad in ("ftp://pbx.example.com", "127.0.0.1:5001", "pbx.example.com"):
        with pytest.raises(ValueError, match="url must be an absolute https:// URL"):
            v.check_http_url("url", bad, allow_empty=False)


def test_ca_files_must_be_readable_pem(tmp_path):
    pem = tmp_path / "ca.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    assert v.check_pem_file("ca_path", str(pem)) == str(pem)
    with pytest.raises(ValueError, match="ca_path: /nonexistent/ca.pem cannot be read"):
        v.check_pem_file("ca_path", "/nonexistent/ca.pem")
    other = tmp_path / "other.txt"
    other.write_text("not a certificate")
    with pytest.raises(ValueError, match="ca_bundle: .* holds no PEM certificate"):
        v.check_pem_file("ca_bundle", str(other))


def test_dotted_domain_names_must_end_with_the_twilio_suffix():
    assert v.check_sip_domain_name("domain_name", "pbx.acme.sip.twilio.com") == "pbx.acme.sip.twilio.com"
    for bad in ("rel.sip.example.com", "pbx.acme"):
        with pytest.raises(ValueError, match="has dots but does not end with .sip.twilio.com"):
            v.check_sip_domain_name("domain_name", bad)


# ---- boundaries and exact messages (found by scripts/mutation: each of these was a surviving mutant)


def test_digits_length_limits_are_inclusive_and_the_messages_exact():
    v.check_digits({"code": "123"}, "code", min_length=3, max_length=3)  # exactly the bounds: accepted
    with pytest.raises(ValueError) as err:
        v.check_digits({"code": "1234"}, "code", max_length=3)
    assert str(err.value) == "code must have at most 3 characters; got '1234' (4)"
    with pytest.raises(ValueError) as err:
        v.check_digits({"code": "1"}, "code", min_length=2)
    assert str(err.value) == "code must have at least 2 digit(s); got '1'. Leave it unset to keep the PBX's value"
    with pytest.raises(ValueError) as err:
        v.check_digits({"code": "4-4"}, "code")
    assert str(err.value) == (
        "code must contain only digits; '4-4' contains '-'. Write it without spaces or separators, for example '44' rather than '+44'."
    )
    with pytest.raises(ValueError) as err:
        v.check_digits({"prefix": "9x"}, "prefix", extra="+*#")
    assert "prefix must contain only digits and + * #; '9x' contains 'x'." in str(err.value)


def test_phone_numbers_of_exactly_3_and_15_digits_are_accepted():
    assert v.check_phone_number("number", "+" + "1" * 15) == "+" + "1" * 15
    assert v.check_phone_number("number", "123") == "123"


def test_fqdn_limits_are_inclusive():
    label63 = "a" * 63
    assert v.check_fqdn("registrar", label63 + ".com") == label63 + ".com"
    name253 = ".".join(["a" * 49] * 5) + ".abc"  # 5 labels of 49, 4 dots, then ".abc": 253 characters
    assert len(name253) == 253 and v.check_fqdn("registrar", name253) == name253
    with pytest.raises(ValueError, match="fully qualified"):
        v.check_fqdn("registrar", name253 + "c")
    assert v.check_fqdn("registrar", "Example.COM.") == "example.com"  # two labels, trailing dot, lower case


def test_ipv4_messages_and_prefix_forms_are_exact():
    with pytest.raises(ValueError) as err:
        v.check_ipv4("ip_addresses[0]", "example.com")
    assert str(err.value) == (
        "ip_addresses[0]: 'example.com' is not an IPv4 address; Twilio IP access control lists take IPv4 dotted-decimal addresses only "
        "(for example 203.0.113.10)"
    )
    with pytest.raises(ValueError) as err:
        v.check_ipv4("ip_addresses[0]", "10.0.0.1/24")
    assert str(err.value) == "ip_addresses[0]: 10.0.0.1/24 has host bits set; the network is 10.0.0.0/24 (give that, or 10.0.0.1/32 for the one address)"
    with pytest.raises(ValueError) as err:
        v.check_ipv4("ip_addresses[0]", "0.0.0.0/0")
    assert str(err.value).endswith("so the list would never converge); list the PBX's public addresses instead")
    with pytest.raises(ValueError, match="prefix length must be a whole number"):
        v.check_ipv4("ip_addresses[0]", "10.0.0.0/24/8")  # the first "/" splits: "24/8" is no number


def test_exactly_a_slash_16_is_not_wide():
    assert v.check_ip_coverage("ip_addresses", [("10.0.0.0", 16)]) == 2**16
    assert v.wide_range_warning("ip_addresses", 2**16, "allow_wide_ranges") is None
    assert "more than a /16" in v.wide_range_warning("ip_addresses", 2**16 + 1, "allow_wide_ranges")


def test_password_of_exactly_12_characters_is_accepted_and_each_missing_part_is_named():
    assert v.check_twilio_password("password", "Abcdefghij12") == "Abcdefghij12"
    with pytest.raises(ValueError) as err:
        v.check_twilio_password("password", "ABCDEFGHIJKL")
    assert str(err.value) == "password does not meet Twilio's password rule; it needs a digit, a lower-case letter"


@pytest.mark.parametrize(
    "uri",
    [
        "sip:+14155550100@acme.sip.twilio.com;transport=tcp:x",  # a parameter holding ':' does not end the host early
        "sip:+14155550100@acme.sip.twilio.com:5060;transport=udp;lr",
        "sips:user@acme.sip.twilio.com:5061",
    ],
)
def test_sip_uri_host_is_the_part_between_at_and_the_first_colon_or_semicolon(uri):
    assert v.check_sip_uri("no_answer_destination.external", uri) == uri


@pytest.mark.parametrize("uri", ["sip:+1415@bad_host.example.com", "tel:+14155550100@acme.sip.twilio.com", "sip+14155550100"])
def test_sip_uri_bad_hosts_and_schemes_are_refused(uri):
    with pytest.raises(ValueError, match="no_answer_destination.external"):
        v.check_sip_uri("no_answer_destination.external", uri)


# ---- the survivors of the second mutation run (docs/testing.md lists the ones that are harmless, with the reason)


def test_digits_message_lists_every_bad_character():
    with pytest.raises(ValueError) as err:
        v.check_digits({"code": "+4 4"}, "code")
    assert str(err.value) == (
        "code must contain only digits; '+4 4' contains ' ', '+'. Write it without spaces or separators, for example '44' rather than '+44'."
    )


def test_phone_number_messages_are_exact():
    with pytest.raises(ValueError) as err:
        v.check_phone_number("fallback_number", "14155550100", require_plus=True)
    assert str(err.value) == "fallback_number must be in full international format with a leading '+' (for example +14155550100); got '14155550100'"
    with pytest.raises(ValueError) as err:
        v.check_phone_number("number", "12")
    assert str(err.value) == "number must have between 3 and 15 digits (E.164 allows at most 15); got '12' with 2"


@pytest.mark.parametrize("value", ["bad-.example.com", "example.com-", "pbx.EXAMPLE.COMX"])
def test_fqdn_trailing_hyphens_are_refused_and_only_dots_are_stripped(value):
    if value.endswith("X"):  # an upper-case X at the end is part of the name, not stripped like a dot
        assert v.check_fqdn("registrar", value) == "pbx.example.comx"
        return
    with pytest.raises(ValueError) as err:
        v.check_fqdn("registrar", value)
    bad = value.split(".")[0] if value.startswith("bad") else "com-"
    assert str(err.value) == (
        "registrar must be a host name made of letters, digits and hyphens (no leading or trailing hyphen, labels of 1 to 63 characters); "
        "%r has the bad part %r" % (value, bad)
    )


def test_wide_range_messages_are_exact():
    with pytest.raises(ValueError) as err:
        v.check_ip_coverage("ip_addresses", [("10.0.0.0", 15)])
    assert str(err.value) == (
        "ip_addresses together cover 131072 addresses, more than a /16 (65536): an IP access control list should hold the PBX's public "
        "addresses, and wide ranges admit anyone in them to the SIP Domain. Narrow them, or set allow_wide_ranges: true if you mean it"
    )
    assert v.wide_range_warning("ip_addresses", 131072, "allow_wide_ranges") == (
        "ip_addresses together cover 131072 addresses, more than a /16, accepted because allow_wide_ranges is true: anyone in them can reach the SIP Domain"
    )


HTTP_WARNING = "voice_url is http:// (%s), accepted because allow_http_webhooks is true: the vendor sends to it in the clear"


@pytest.mark.parametrize(
    "value,expected",
    [
        ("http://x.example.com/v", HTTP_WARNING % "http://x.example.com/v"),
        ("HTTP://x.example.com/v", HTTP_WARNING % "HTTP://x.example.com/v"),
        ("https://x.example.com/v", None),
        (None, None),
        ("", None),
    ],
)
def test_http_url_warning(value, expected):
    assert v.http_url_warning("voice_url", value, "allow_http_webhooks") == expected


def test_short_password_message_is_exact():
    with pytest.raises(ValueError) as err:
        v.check_twilio_password("credentials[0].password", "Short1A")
    assert str(err.value) == "credentials[0].password does not meet Twilio's password rule; it needs at least 12 characters (it has 7)"


def test_sip_uri_user_part_may_not_hold_an_at_and_parameters_do_not_end_the_host():
    # RFC 3261: '@' is not allowed unescaped in the user part, so the host starts after the first '@'.
    with pytest.raises(ValueError, match="^destination must be a host name"):
        v.check_sip_uri("destination", "sip:a@b@acme.sip.twilio.com")
    # Two parameters and no port: the host ends at the first ';'.
    assert v.check_sip_uri("destination", "sip:+1415@acme.sip.twilio.com;transport=udp;lr") == "sip:+1415@acme.sip.twilio.com;transport=udp;lr"
    with pytest.raises(ValueError) as err:
        v.check_sip_uri("destination", "sip:@acme.sip.twilio.com")
    assert str(err.value) == "destination: the SIP URI 'sip:@acme.sip.twilio.com' has no user part before '@'"


SUFFIX_MESSAGE = (
    "domain_name: %r has dots but does not end with .sip.twilio.com; give a short name such as acme (Twilio adds .sip.twilio.com), "
    "or the full name ending with .sip.twilio.com"
)
BAD_PART_MESSAGE = (
    "domain_name may contain only letters, digits and hyphens (no leading or trailing hyphen, at most 63 per dot-separated part); %r has the bad part %r"
)
LONG_NAME = ".".join(["a" * 63] * 3) + "." + "b" * 46 + ".sip.twilio.com"  # 238 characters and the suffix: 253
TOO_LONG_NAME = ".".join(["a" * 63] * 3) + "." + "b" * 47 + ".sip.twilio.com"  # 254


@pytest.mark.parametrize(
    "value,expected",
    [
        ("acme", "acme.sip.twilio.com"),
        ("acme.", "acme.sip.twilio.com"),  # a trailing dot, as in DNS, is dropped
        (" ACME.SIP.TWILIO.COM. ", "acme.sip.twilio.com"),
        ("pbx.acme.sip.twilio.com", "pbx.acme.sip.twilio.com"),
        (LONG_NAME, LONG_NAME),  # exactly 253 characters: the longest host name
    ],
)
def test_sip_domain_names_accepted(value, expected):
    assert v.check_sip_domain_name("domain_name", value) == expected


@pytest.mark.parametrize(
    "value,message",
    [
        (" ", "domain_name must not be empty; give a short name such as acme or the full acme.sip.twilio.com"),
        (
            "acme.sip.ie1.twilio.com",
            "domain_name: 'acme.sip.ie1.twilio.com' is a regional or edge SIP URI, not a domain name; give acme.sip.twilio.com (or just acme) "
            "and use the module's sip_uri / sip_uris results for the region's address",
        ),
        (
            "pbx.sip.acme.sip.dublin.ie1.twilio.com",  # the name before the last ".sip." (a sub-domain may have a "sip" part)
            "domain_name: 'pbx.sip.acme.sip.dublin.ie1.twilio.com' is a regional or edge SIP URI, not a domain name; give pbx.sip.acme.sip.twilio.com "
            "(or just pbx.sip.acme) and use the module's sip_uri / sip_uris results for the region's address",
        ),
        ("acme.twilio.com", "domain_name: a Twilio SIP Domain name must end with .sip.twilio.com; got 'acme.twilio.com'"),
        ("pbx.acme", SUFFIX_MESSAGE % "pbx.acme"),
        (".acme", SUFFIX_MESSAGE % ".acme"),  # only trailing dots are dropped
        (".sip.twilio.com", "domain_name: '.sip.twilio.com' has no name before .sip.twilio.com"),
        ("acme_pbx", BAD_PART_MESSAGE % ("acme_pbx", "acme_pbx")),
        ("pbx-.acme.sip.twilio.com", BAD_PART_MESSAGE % ("pbx-.acme.sip.twilio.com", "pbx-")),
        (TOO_LONG_NAME, "domain_name: %r is longer than a host name may be" % TOO_LONG_NAME),
    ],
)
def test_sip_domain_names_refused_with_the_fix(value, message):
    with pytest.raises(ValueError) as err:
        v.check_sip_domain_name("domain_name", value)
    assert str(err.value) == message


@pytest.mark.parametrize(
    "url",
    [
        "https://x.example.com/voice?next=https://y.example.com/",  # a "://" in the query is not the scheme's
        "https://user:p%40ss@x.example.com/voice",
        "https://x.example.com?a=1?b=2",
        "https://x.example.com/a/b/c",
    ],
)
def test_http_urls_accepted(url):
    assert v.check_http_url("voice_url", url) == url


@pytest.mark.parametrize(
    "url",
    [
        "https:///voice",  # three slashes: no host
        "https:///a/voice",
        "https://?voice",
        "https://?a=1?b=2",
        "https://user@/voice",
        "https://user:p@ss@/voice",  # the host is after the last '@', and there is none
    ],
)
def test_http_urls_without_a_host_are_refused(url):
    with pytest.raises(ValueError) as err:
        v.check_http_url("url", url, allow_empty=False)
    assert str(err.value) == "url must be an absolute https:// URL without spaces (for example https://example.com/voice); got %r" % url


def test_http_url_messages_name_the_fix_that_applies():
    with pytest.raises(ValueError) as err:
        v.check_http_url("voice_fallback_url", "ftp://x.example.com")
    assert str(err.value) == (
        'voice_fallback_url must be an absolute https:// URL without spaces (for example https://example.com/voice), or "" to clear it; '
        "got 'ftp://x.example.com'"
    )
    with pytest.raises(ValueError) as err:
        v.check_http_url("voice_url", "http://x.example.com/v", allow_option="allow_http_webhooks")
    assert str(err.value) == (
        "voice_url must use https://; 'http://x.example.com/v' would be sent in the clear (set allow_http_webhooks: true if the endpoint only speaks http)"
    )
    with pytest.raises(ValueError) as err:
        v.check_http_url("url", "http://pbx.example.com", allow_empty=False)
    assert str(err.value) == "url must use https://; 'http://pbx.example.com' would be sent in the clear"


def test_pem_file_messages_are_exact(tmp_path):
    missing = str(tmp_path / "missing.pem")
    with pytest.raises(ValueError) as err:
        v.check_pem_file("ca_path", missing)
    assert str(err.value) == "ca_path: %s cannot be read (No such file or directory); give the path of a PEM file of CA certificates" % missing
    other = tmp_path / "other.txt"
    other.write_text("not a certificate")
    with pytest.raises(ValueError) as err:
        v.check_pem_file("ca_bundle", str(other))
    assert str(err.value) == "ca_bundle: %s holds no PEM certificate (-----BEGIN CERTIFICATE-----); give a PEM file of CA certificates" % other


SID_BODY = "0123456789abcdef0123456789ABCDEF"  # Twilio's own pattern is ^PN[0-9a-fA-F]{32}$ (twilio_api_v2010.json)


@pytest.mark.parametrize(
    "value,allow_empty,ok",
    [
        ("PN" + SID_BODY, False, True),
        ("PN" + SID_BODY.upper(), False, True),
        ("", True, True),
        ("", False, False),  # the default: "" clears nothing where clearing is not offered
        ("PN" + "X" * 32, False, False),
        ("PN" + SID_BODY[:-1], False, False),
        ("FW" + SID_BODY, False, False),
    ],
)
def test_sids(value, allow_empty, ok):
    kwargs = {"allow_empty": True} if allow_empty else {}
    if ok:
        assert v.check_sid("emergency_caller_sid", value, "PN", **kwargs) == value
        return
    with pytest.raises(ValueError) as err:
        v.check_sid("emergency_caller_sid", value, "PN", **kwargs)
    assert str(err.value) == "emergency_caller_sid must be a Twilio SID starting with PN followed by 32 hexadecimal digits; got %r" % value


def test_sid_message_offers_clearing_where_it_is_allowed():
    with pytest.raises(ValueError) as err:
        v.check_sid("byoc_trunk_sid", "BY1", "BY", allow_empty=True)
    assert str(err.value) == "byoc_trunk_sid must be a Twilio SID starting with BY followed by 32 hexadecimal digits (or \"\" to clear it); got 'BY1'"


def _connection_problems(**params):
    from ansible_collections.voip.threecx_twilio.plugins.module_utils._inputs import Names, Problems

    p = dict(timeout=None, max_retries=None)
    p.update(params)
    problems = Problems()
    names = Names({"timeout": "site_timeout", "max_retries": "site_max_retries", "settle_timeout": "site_settle_timeout"})
    v.check_connection_numbers(p, names, problems)
    return problems.messages


@pytest.mark.parametrize(
    "params",
    [dict(timeout=1), dict(timeout=0.5), dict(max_retries=0), dict(max_retries=10), dict(settle_timeout=0), dict(settle_timeout=600), {}],
)
def test_connection_numbers_accepted(params):
    assert _connection_problems(**params) == []


@pytest.mark.parametrize(
    "params,message",
    [
        (dict(timeout=0), "site_timeout must be a positive number of seconds, got 0"),
        (dict(max_retries=11), "site_max_retries must be between 0 and 10, got 11"),
        (dict(max_retries=-1), "site_max_retries must be between 0 and 10, got -1"),
        (dict(settle_timeout=601), "site_settle_timeout must be from 0 to 600 seconds, got 601"),
        (dict(settle_timeout=-1), "site_settle_timeout must be from 0 to 600 seconds, got -1"),
    ],
)
def test_connection_numbers_refused(params, message):
    assert _connection_problems(**params) == [message]


def test_endpoint_check_names_the_options_and_checks_both(tmp_path):
    # Built here, not at import: mutmut switches a mutant on only for calls made inside a test.
    from ansible_collections.voip.threecx_twilio.plugins.module_utils._inputs import Names, Problems

    check = v.endpoint_check("url", "ca_path")
    names = Names({"url": "threecx_url", "ca_path": "threecx_ca_path"})
    problems = Problems()
    check({"url": "pbx.example.com", "ca_path": str(tmp_path / "none.pem")}, names, problems)
    assert problems.messages == [
        "threecx_url must be an absolute https:// URL without spaces (for example https://example.com/voice); got 'pbx.example.com'",
        "threecx_ca_path: %s cannot be read (No such file or directory); give the path of a PEM file of CA certificates" % (tmp_path / "none.pem"),
    ]
    pem = tmp_path / "ca.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    for params in ({"url": "https://pbx.example.com", "ca_path": str(pem)}, {"url": None, "ca_path": None}, {"url": ""}):
        problems = Problems()
        check(params, names, problems)
        assert problems.messages == []
