# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Input checks shared by modules (and, through filters, by roles).

PRIVATE to this collection: may change without notice.

Every check runs before any write and raises ValueError with a message that names the
option, says what is wrong with the value and how to fix it.  Modules run them inside
``module.api_errors()``, which turns the ValueError into fail_json.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_regions import SIP_SUFFIX


def check_digits(params, option, min_length=0, max_length=None, extra="", name=None):
    """``params[option]``, when set, must be digits (plus ``extra`` characters) of a bounded length.

    ``name`` is how messages name the option (the option itself unless given).
    """
    value = params.get(option)
    if value is None:
        return
    option = name or option
    allowed = "digits" + (" and %s" % " ".join(extra) if extra else "")
    bad = sorted(set(ch for ch in value if not (ch.isdigit() and ch.isascii()) and ch not in extra))
    if bad:
        raise ValueError(
            "%s must contain only %s; %r contains %s. Write it without spaces or separators, for example '44' rather than '+44'."
            % (option, allowed, value, ", ".join(repr(ch) for ch in bad))
        )
    if len(value) < min_length:
        # Only reached with min_length >= 1 (no length is below 0), so the advice always applies.
        raise ValueError("%s must have at least %d digit(s); got %r. Leave it unset to keep the PBX's value" % (option, min_length, value))
    if max_length is not None and len(value) > max_length:
        raise ValueError("%s must have at most %d characters; got %r (%d)" % (option, max_length, value, len(value)))


def check_positive(params, option, maximum=None, name=None):
    """``params[option]``, when set, must be a whole number above 0 (timeouts, counts)."""
    value = params.get(option)
    if value is None:
        return
    option = name or option
    if value <= 0:
        raise ValueError("%s must be greater than 0; got %s" % (option, value))
    if maximum is not None and value > maximum:
        raise ValueError("%s must be at most %s; got %s" % (option, maximum, value))


def check_phone_number(option, value, require_plus=False):
    """A dialable number: optional leading +, then 3 to 15 digits (E.164 allows at most 15)."""
    text = str(value)
    digits = text[1:] if text.startswith("+") else text
    if require_plus and not text.startswith("+"):
        raise ValueError("%s must be in full international format with a leading '+' (for example +14155550100); got %r" % (option, text))
    if not digits.isdigit() or not digits.isascii():
        raise ValueError(
            "%s must be a phone number made of digits with an optional leading '+', without spaces, dashes or brackets; got %r" % (option, text)
        )
    if not 3 <= len(digits) <= 15:
        raise ValueError("%s must have between 3 and 15 digits (E.164 allows at most 15); got %r with %d" % (option, text, len(digits)))
    if text.startswith("+") and digits[0] == "0":
        raise ValueError("%s: after '+' comes the country code, which never starts with 0; got %r" % (option, text))
    return text


def _is_label(label):
    """A DNS label: 1 to 63 letters, digits and hyphens, with no leading or trailing hyphen."""
    return bool(label) and len(label) <= 63 and label[0] != "-" and label[-1] != "-" and all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in label)


def check_fqdn(option, value):
    """A DNS host name (letters, digits, hyphens; dot-separated labels of at most 63)."""
    text = str(value).rstrip(".")
    labels = text.split(".")
    if not text or len(text) > 253 or len(labels) < 2:
        raise ValueError("%s must be a fully qualified host name such as example.sip.us1.twilio.com; got %r" % (option, value))
    for label in labels:
        if not _is_label(label):
            raise ValueError(
                "%s must be a host name made of letters, digits and hyphens (no leading or trailing hyphen, labels of 1 to 63 characters); "
                "%r has the bad part %r" % (option, value, label)
            )
    return text.lower()


def check_ipv4(option, value, prefix=None):
    """An IPv4 address (and optional prefix 1-32); returns (address, prefix or 32)."""
    text = str(value).strip()
    if "/" in text:
        if prefix is not None:
            raise ValueError("%s: give the prefix either in the address (%r) or as cidr_prefix_length, not both" % (option, text))
        text, _sep, prefix = text.partition("/")
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        kind = "an IPv6 address" if ":" in text else "not an IPv4 address"
        raise ValueError(
            "%s: %r is %s; Twilio IP access control lists take IPv4 dotted-decimal addresses only (for example 203.0.113.10)" % (option, text, kind)
        )
    if prefix is None:
        return str(address), 32
    try:
        length = int(prefix)
    except (TypeError, ValueError):
        raise ValueError("%s: the prefix length must be a whole number from 1 to 32; got %r" % (option, prefix))
    if length == 0:
        raise ValueError(
            "%s: a /0 prefix would admit every address on the internet (and Twilio stores it as /32, so the list would never "
            "converge); list the PBX's public addresses instead" % option
        )
    if not 1 <= length <= 32:
        raise ValueError("%s: the prefix length must be from 1 to 32; got %s" % (option, length))
    network = ipaddress.IPv4Network("%s/%d" % (address, length), strict=False)
    if network.network_address != address:
        raise ValueError(
            "%s: %s/%d has host bits set; the network is %s (give that, or %s/32 for the one address)" % (option, address, length, network, address)
        )
    return str(address), length


# More addresses than a /16 in one IP access control list is no longer "the PBX's public addresses".
WIDE_RANGE_ADDRESSES = 2**16


def check_ip_coverage(option, entries, allow_wide=False, allow_option="allow_wide_ranges"):
    """``entries`` ([(address, prefix)]) together may cover at most a /16, unless ``allow_wide``."""
    networks = ipaddress.collapse_addresses(ipaddress.IPv4Network("%s/%d" % (a, p)) for a, p in entries)
    covered = sum(n.num_addresses for n in networks)
    if covered > WIDE_RANGE_ADDRESSES and not allow_wide:
        raise ValueError(
            "%s together cover %d addresses, more than a /16 (%d): an IP access control list should hold the PBX's public "
            "addresses, and wide ranges admit anyone in them to the SIP Domain. Narrow them, or set %s: true if you mean it"
            % (option, covered, WIDE_RANGE_ADDRESSES, allow_option)
        )
    return covered


def wide_range_warning(option, covered, allow_option):
    """What a module says when ``allow_option`` let ranges wider than a /16 through (None when they are not)."""
    if covered <= WIDE_RANGE_ADDRESSES:
        return None
    return "%s together cover %d addresses, more than a /16, accepted because %s is true: anyone in them can reach the SIP Domain" % (
        option,
        covered,
        allow_option,
    )


def http_url_warning(option, value, allow_option):
    """What a module says when ``allow_option`` let an http:// URL through (None for https or unset)."""
    if value and str(value).lower().startswith("http://"):
        return "%s is http:// (%s), accepted because %s is true: the vendor sends to it in the clear" % (option, value, allow_option)
    return None


def check_twilio_password(option, value):
    """Twilio's rule for SIP credential passwords: 12+ characters with a digit, an upper and a lower case letter."""
    text = str(value)
    missing = []
    if len(text) < 12:
        missing.append("at least 12 characters (it has %d)" % len(text))
    if not any(ch.isdigit() for ch in text):
        missing.append("a digit")
    if not any(ch.isupper() for ch in text):
        missing.append("an upper-case letter")
    if not any(ch.islower() for ch in text):
        missing.append("a lower-case letter")
    if missing:
        # Never echo the password itself.
        raise ValueError("%s does not meet Twilio's password rule; it needs %s" % (option, ", ".join(missing)))
    return text


def check_sip_uri(option, value):
    """sip:user@host[:port] or sips:...; returns it unchanged."""
    text = str(value)
    scheme, sep, rest = text.partition(":")
    if scheme.lower() not in ("sip", "sips") or not sep or "@" not in rest:
        raise ValueError("%s must be a SIP URI such as sip:+14155550100@example.sip.us1.twilio.com; got %r" % (option, text))
    user, _at, hostport = rest.partition("@")
    host = hostport.split(";", 1)[0].split(":", 1)[0]
    if not user:
        raise ValueError("%s: the SIP URI %r has no user part before '@'" % (option, text))
    check_fqdn(option, host)
    return text


# ---- Twilio SIP side (appended) ------------------------------------------------------------


def check_sip_domain_name(option, value):
    """A Twilio SIP Domain name: ``acme`` or ``acme.sip.twilio.com``; returns the full, lower-case name.

    Labels are letters, digits and hyphens (Twilio's rule); a sub-domain (``pbx.acme``) is allowed.
    The regional or edge URI (``acme.sip.ie1.twilio.com``) is not a domain name and is refused
    with the name to use instead.
    """
    text = str(value).strip().lower().rstrip(".")
    if not text:
        raise ValueError("%s must not be empty; give a short name such as acme or the full acme.sip.twilio.com" % option)
    if text.endswith(SIP_SUFFIX):
        short = text[: -len(SIP_SUFFIX)]
    elif text.endswith(".twilio.com") and ".sip." in text:
        # The region or edge part never holds ".sip.", the name may (pbx.sip.acme): cut at the last one.
        short = text.rsplit(".sip.", 1)[0]
        raise ValueError(
            "%s: %r is a regional or edge SIP URI, not a domain name; give %s.sip.twilio.com (or just %s) "
            "and use the module's sip_uri / sip_uris results for the region's address" % (option, value, short, short)
        )
    elif text.endswith("twilio.com"):
        raise ValueError("%s: a Twilio SIP Domain name must end with .sip.twilio.com; got %r" % (option, value))
    elif "." in text:
        raise ValueError(
            "%s: %r has dots but does not end with .sip.twilio.com; give a short name such as acme (Twilio adds .sip.twilio.com), "
            "or the full name ending with .sip.twilio.com" % (option, value)
        )
    else:
        short = text
    if not short:
        raise ValueError("%s: %r has no name before .sip.twilio.com" % (option, value))
    for label in short.split("."):
        if not _is_label(label):
            raise ValueError(
                "%s may contain only letters, digits and hyphens (no leading or trailing hyphen, at most 63 per "
                "dot-separated part); %r has the bad part %r" % (option, value, label)
            )
    full = short + SIP_SUFFIX
    if len(full) > 253:
        raise ValueError("%s: %r is longer than a host name may be" % (option, value))
    return full


def check_http_url(option, value, allow_empty=True, allow_http=False, allow_option=None):
    """An absolute https URL (a webhook, an API address); ``""`` clears the setting when ``allow_empty``.

    http:// only with ``allow_http`` (where the vendor allows it and the user said so with
    ``allow_option``): the request would carry the call's data, or credentials, in the clear.
    """
    if value is None:
        return None
    text = str(value)
    if text == "" and allow_empty:
        return text
    scheme, sep, rest = text.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    if not sep or scheme.lower() not in ("http", "https") or not host or any(ch.isspace() for ch in text):
        raise ValueError(
            "%s must be an absolute https:// URL without spaces (for example https://example.com/voice)%s; got %r"
            % (option, ', or "" to clear it' if allow_empty else "", text)
        )
    if scheme.lower() == "http" and not allow_http:
        raise ValueError(
            "%s must use https://; %r would be sent in the clear%s"
            % (option, text, (" (set %s: true if the endpoint only speaks http)" % allow_option) if allow_option else "")
        )
    return text


def check_pem_file(option, value):
    """A readable file of PEM certificates (a CA bundle), checked before any request."""
    if value is None:
        return None
    path = str(value)
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 20)
    except (IOError, OSError) as exc:
        raise ValueError("%s: %s cannot be read (%s); give the path of a PEM file of CA certificates" % (option, path, exc.strerror or exc))
    if b"-----BEGIN CERTIFICATE-----" not in head:
        raise ValueError("%s: %s holds no PEM certificate (-----BEGIN CERTIFICATE-----); give a PEM file of CA certificates" % (option, path))
    return path


def check_sid(option, value, prefix, allow_empty=False):
    """A Twilio SID: two-letter ``prefix`` and 32 hex digits (``""`` allowed to clear when ``allow_empty``)."""
    if value is None:
        return None
    text = str(value)
    if text == "" and allow_empty:
        return text
    body = text[2:]
    if not (text[:2] == prefix and len(body) == 32 and all(ch in "0123456789abcdefABCDEF" for ch in body)):
        raise ValueError(
            "%s must be a Twilio SID starting with %s followed by 32 hexadecimal digits%s; got %r"
            % (option, prefix, ' (or "" to clear it)' if allow_empty else "", text)
        )
    return text


def check_connection_numbers(p, n, problems):
    """The connection options both vendors' modules share: a timeout and a bounded retry count."""
    with problems:
        if p["timeout"] is not None and p["timeout"] <= 0:
            raise ValueError("%s must be a positive number of seconds, got %s" % (n("timeout"), p["timeout"]))
    with problems:
        if p["max_retries"] is not None and not 0 <= p["max_retries"] <= 10:
            raise ValueError("%s must be between 0 and 10, got %s" % (n("max_retries"), p["max_retries"]))
    with problems:
        if p.get("settle_timeout") is not None and not 0 <= p["settle_timeout"] <= 600:
            raise ValueError("%s must be from 0 to 600 seconds, got %s" % (n("settle_timeout"), p["settle_timeout"]))


def endpoint_check(url_option, ca_option):
    """The check of a connection's address (https) and CA file (readable PEM), before any request."""

    def check(p, n, problems):
        with problems:
            if p.get(url_option):
                check_http_url(n(url_option), p[url_option], allow_empty=False)
        with problems:
            check_pem_file(n(ca_option), p.get(ca_option))

    return check
