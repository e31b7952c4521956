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
    [("203.0.113.10", None, ("203.0.113.10", 32)), ("198.51.100.0/24", None, ("198.51.100.0", 24)), ("192.0.2.1", 30, ("192.0.2.1", 30))],
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
