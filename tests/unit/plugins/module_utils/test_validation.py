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
