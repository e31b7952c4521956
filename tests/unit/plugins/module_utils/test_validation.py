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
