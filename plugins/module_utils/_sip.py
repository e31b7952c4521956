# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A minimal SIP user agent client for OPTIONS probes (RFC 3261), on the standard library only.

PRIVATE to this collection: may change without notice.

It runs wherever the probing task runs (possibly a 3CX PBX without the twilio SDK or requests),
so it imports nothing outside the Python standard library.

* :func:`check_host`, :func:`check_user`, :func:`check_source_address`: input checks raising
  ValueError with a message naming the option;
* :class:`OptionsRequest`: one OPTIONS request (Via branch ``z9hG4bK...`` with ``rport``,
  From tag, Call-ID, CSeq ``1 OPTIONS``, ...) and the test whether a response belongs to it;
* :func:`parse_message`: a SIP message's start line and headers (folded lines, compact forms
  such as ``v:`` and ``i:``, several values on one line); :class:`StreamFramer`: messages cut
  out of a TCP/TLS byte stream by Content-Length;
* :func:`probe`: resolve the host (IPv4 and IPv6), send the request over UDP (retransmitted
  after each ``timeout`` without a final answer), TCP or TLS, wait for the final response
  (1xx answers are provisional: keep waiting) and describe the outcome as a dict.

An unreachable server is an outcome, not an error: :func:`probe` returns ``reachable: False``
with the reason in ``error``. It raises :class:`ProbeSetupError` only for a local problem found
before anything is sent (``source_address`` cannot be bound, unreadable CA file).
"""

from __future__ import annotations

import binascii
import ipaddress
import os
import re
import socket
import time

try:
    import ssl
except ImportError:  # pragma: no cover - a Python built without OpenSSL
    ssl = None

USER_AGENT = "voip.threecx_twilio sip_options_probe"
DEFAULT_PORTS = {"udp": 5060, "tcp": 5060, "tls": 5061}
TRANSPORTS = ("udp", "tcp", "tls")
MAGIC_COOKIE = "z9hG4bK"
MAX_MESSAGE = 65535
MAX_RETRIES = 10
MAX_TIMEOUT = 60.0

# RFC 3261 section 7.3.3 and later RFCs: compact header names.
COMPACT_FORMS = {
    "a": "accept-contact",
    "b": "referred-by",
    "c": "content-type",
    "d": "request-disposition",
    "e": "content-encoding",
    "f": "from",
    "i": "call-id",
    "j": "reject-contact",
    "k": "supported",
    "l": "content-length",
    "m": "contact",
    "n": "identity-info",
    "o": "event",
    "r": "refer-to",
    "s": "subject",
    "t": "to",
    "u": "allow-events",
    "v": "via",
    "x": "session-expires",
    "y": "identity",
}

# user = 1*( unreserved / escaped / user-unreserved ), RFC 3261 section 25.1.
_USER = re.compile(r"^(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+$")
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_STATUS_LINE = re.compile(r"^SIP/2\.0[ \t]+([1-6][0-9]{2})(?:[ \t]+(.*))?$", re.IGNORECASE)
_REQUEST_LINE = re.compile(r"^([A-Za-z]+)[ \t]+(\S+)[ \t]+SIP/2\.0$", re.IGNORECASE)
_CONTENT_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)$", re.IGNORECASE | re.MULTILINE)


class SipParseError(ValueError):
    """Bytes that are not a SIP message (or not a well-framed one on a stream)."""


class ProbeSetupError(Exception):
    """A local problem found before anything was sent; ``option`` names the option to fix."""

    def __init__(self, option, message):
        super(ProbeSetupError, self).__init__(message)
        self.option = option


# ---- input checks ----------------------------------------------------------------------


def ip_literal(text):
    """The ipaddress object for an IP literal (IPv6 may be in brackets), else None."""
    value = str(text)
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def check_host(option, value):
    """A host name or an IP literal; returns it without brackets and trailing dot, names lower-case."""
    text = str(value or "").strip()
    address = ip_literal(text)
    if address is not None:
        return str(address)
    name = text.rstrip(".")
    labels = name.split(".")
    if not name or len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(
            "%s must be a host name (letters, digits and hyphens in dot-separated labels, such as acme.sip.us1.twilio.com) "
            "or an IP address; got %r" % (option, value)
        )
    return name.lower()


def check_user(option, value):
    """A SIP URI user part (RFC 3261 characters, no '@', ':' or spaces); None stays None."""
    if value is None:
        return None
    text = str(value)
    if not text or len(text) > 128 or not _USER.match(text):
        raise ValueError(
            "%s must be a SIP user part of 1 to 128 letters, digits or - _ . ! ~ * ' ( ) & = + $ , ; ? / (or %%XX escapes), "
            "without '@', ':' or spaces; got %r" % (option, value)
        )
    return text


def check_source_address(option, value, host):
    """An IP address to bind, of the same family as ``host`` when that is an IP literal."""
    if value is None:
        return None
    address = ip_literal(value)
    if address is None:
        raise ValueError("%s must be an IP address of this host (such as 192.0.2.10 or 2001:db8::10), not a name; got %r" % (option, value))
    target = ip_literal(host)
    if target is not None and target.version != address.version:
        raise ValueError(
            "%s is an IPv%d address but host %s is IPv%d; use addresses of the same family" % (option, address.version, host, target.version)
        )
    return str(address)


# ---- messages --------------------------------------------------------------------------


def random_token(nbytes=8):
    return binascii.hexlify(os.urandom(nbytes)).decode("ascii")


def format_host(host):
    """A host for a URI or Via: IPv6 literals in brackets."""
    address = ip_literal(host)
    if address is not None and address.version == 6:
        return "[%s]" % address
    return str(host)


def format_hostport(host, port):
    return "%s:%d" % (format_host(host), port)


class OptionsRequest(object):
    """One OPTIONS request and its transaction identifiers.

    ``local_host``/``local_port`` are the socket's own address (Via sent-by, Contact, From).
    Retransmissions over UDP send the same bytes (same branch), as RFC 3261 section 17.1.2 asks.
    """

    def __init__(self, host, port, transport, local_host, local_port, from_user="probe", request_uri_user=None, user_agent=USER_AGENT):
        self.transport = transport.lower()
        self.branch = MAGIC_COOKIE + random_token(10)
        self.tag = random_token(6)
        self.call_id = random_token(16)
        self.cseq = 1
        self.method = "OPTIONS"
        target = format_host(host)
        if port != DEFAULT_PORTS[self.transport]:
            target = "%s:%d" % (target, port)
        params = "" if self.transport == "udp" else ";transport=%s" % self.transport
        user = "%s@" % request_uri_user if request_uri_user else ""
        self.request_uri = "sip:%s%s%s" % (user, target, params)
        self.to_uri = "sip:%s%s" % (user, target)
        local = format_hostport(local_host, local_port)
        self.via = "SIP/2.0/%s %s;branch=%s;rport" % (self.transport.upper(), local, self.branch)
        self.from_uri = "sip:%s@%s" % (from_user, format_host(local_host))
        self.contact = "sip:%s@%s%s" % (from_user, local, params)
        self.user_agent = user_agent

    def lines(self):
        return [
            "%s %s SIP/2.0" % (self.method, self.request_uri),
            "Via: %s" % self.via,
            "Max-Forwards: 70",
            "From: <%s>;tag=%s" % (self.from_uri, self.tag),
            "To: <%s>" % self.to_uri,
            "Call-ID: %s" % self.call_id,
            "CSeq: %d %s" % (self.cseq, self.method),
            "Contact: <%s>" % self.contact,
            "Accept: application/sdp",
            "User-Agent: %s" % self.user_agent,
            "Content-Length: 0",
        ]

    def to_bytes(self):
        return ("\r\n".join(self.lines()) + "\r\n\r\n").encode("utf-8")

    def matches(self, message):
        """Whether ``message`` is a response to this request: same Call-ID, CSeq and top Via branch."""
        if message is None or not message.is_response:
            return False
        if message.header("call-id") != self.call_id:
            return False
        cseq = (message.header("cseq") or "").split()
        if len(cseq) != 2 or cseq[0] != str(self.cseq) or cseq[1] != self.method:
            return False
        via = message.top_via()
        return via is not None and (via["params"].get("branch") or "").lower() == self.branch.lower()


class SipMessage(object):
    """A parsed SIP message. Header names are stored lower-case in their long form; each
    header keeps its values in order (one per line, or per comma for :meth:`values`)."""

    def __init__(self, start_line, headers, body=b""):
        self.start_line = start_line
        self.headers = headers
        self.body = body
        self.status_code = None
        self.reason = None
        self.method = None
        status = _STATUS_LINE.match(start_line)
        if status:
            self.status_code = int(status.group(1))
            self.reason = (status.group(2) or "").strip()
            return
        request = _REQUEST_LINE.match(start_line)
        if not request:
            raise SipParseError("not a SIP start line: %r" % start_line[:80])
        self.method = request.group(1).upper()

    @property
    def is_response(self):
        return self.status_code is not None

    @property
    def is_final(self):
        return self.is_response and self.status_code >= 200

    def header(self, name):
        """The first value of a header (by long or compact name), stripped, or None."""
        found = self.headers.get(canonical_name(name))
        return found[0].strip() if found else None

    def values(self, name):
        """Every comma-separated value of every line of a header."""
        out = []
        for line in self.headers.get(canonical_name(name), []):
            out.extend(v for v in split_list(line) if v)
        return out

    def top_via(self):
        vias = self.values("via")
        return parse_via(vias[0]) if vias else None


def canonical_name(name):
    name = name.strip().lower()
    return COMPACT_FORMS.get(name, name)


def split_list(value, separator=","):
    """Split a header value at top-level separators (not inside quotes or <...>); values stripped."""
    out, current, quoted, angle, escaped = [], [], False, False, False
    for ch in value:
        if escaped:
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            angle = True
        elif not quoted and ch == ">":
            angle = False
        elif ch == separator and not quoted and not angle:
            out.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    out.append("".join(current).strip())
    return out


def parse_via(value):
    """``SIP/2.0/UDP host:port;branch=...;received=...;rport=...`` as a dict (param names lower-case)."""
    parts = split_list(value, ";")
    sent = parts[0].split(None, 1)
    params = {}
    for part in parts[1:]:
        if not part:
            continue
        key, sep, val = part.partition("=")
        params[key.strip().lower()] = val.strip().strip('"') if sep else None
    return {
        "protocol": sent[0].replace(" ", "").upper() if sent else "",
        "sent_by": sent[1].strip() if len(sent) > 1 else "",
        "params": params,
    }


def parse_message(data):
    """Parse one SIP message (bytes) into a :class:`SipMessage`; raises :class:`SipParseError`."""
    if not isinstance(data, bytes):
        data = bytes(data)
    data = data.lstrip(b"\r\n")
    head, body = data, b""
    for sep in (b"\r\n\r\n", b"\n\n"):
        index = data.find(sep)
        if index >= 0:
            start = index + len(sep)
            head, body = data[:index], data[start:]
            break
    text = head.decode("utf-8", "replace")
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or not lines[0].strip():
        raise SipParseError("empty message")
    headers = {}
    current = None
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t":
            # Folded continuation of the previous header's value (RFC 3261 section 7.3.1).
            if current is None:
                continue
            values = headers[current]
            values[-1] = values[-1].rstrip() + " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or " " in name.strip():
            # Not a header: skip it rather than lose the answer (a probe asks "did it answer?").
            current = None
            continue
        current = canonical_name(name)
        headers.setdefault(current, []).append(value.strip())
    return SipMessage(lines[0].strip(), headers, body)


class StreamFramer(object):
    """Cut SIP messages out of a stream by Content-Length (RFC 3261 section 18.3).

    Leading CRLFs (keep-alive pings and pongs, RFC 5626) are skipped. A message without
    Content-Length is taken to have no body.
    """

    def __init__(self, limit=MAX_MESSAGE):
        self.buffer = b""
        self.limit = limit

    def feed(self, data):
        """Add bytes; return the complete messages now available (list of bytes)."""
        self.buffer += data
        messages = []
        while True:
            self.buffer = self.buffer.lstrip(b"\r\n")
            if not self.buffer:
                break
            end, sep_len = self.buffer.find(b"\r\n\r\n"), 4
            if end < 0:
                end, sep_len = self.buffer.find(b"\n\n"), 2
            if end < 0:
                if len(self.buffer) > self.limit:
                    raise SipParseError("no end of headers within %d bytes" % self.limit)
                break
            head = self.buffer[:end]
            found = _CONTENT_LENGTH.findall(head.replace(b"\r\n", b"\n"))
            length = 0
            if found:
                text = found[0].strip()
                if not text.isdigit():
                    raise SipParseError("bad Content-Length: %r" % text[:20])
                length = int(text)
            total = end + sep_len + length
            if total > self.limit:
                raise SipParseError("message of %d bytes exceeds %d" % (total, self.limit))
            if len(self.buffer) < total:
                break
            messages.append(self.buffer[:total])
            self.buffer = self.buffer[total:]
        return messages


# ---- the probe -------------------------------------------------------------------------


def selected_headers(message):
    """What the result shows of a response: identification and capabilities, never anything else."""
    via = message.top_via() or {"params": {}}
    rport = via["params"].get("rport")
    return {
        "server": message.header("server"),
        "user_agent": message.header("user-agent"),
        "allow": [v.upper() for v in message.values("allow")] if "allow" in message.headers else None,
        "supported": message.values("supported") if "supported" in message.headers else None,
        "accept": message.values("accept") if "accept" in message.headers else None,
        "via_received": via["params"].get("received"),
        "via_rport": int(rport) if rport and rport.isdigit() else None,
    }


def resolve(host, port, transport, source_address=None):
    """getaddrinfo for the transport, IPv4 and IPv6 (or the family of ``source_address``)."""
    family = socket.AF_UNSPEC
    if source_address is not None:
        family = socket.AF_INET6 if ip_literal(source_address).version == 6 else socket.AF_INET
    socktype = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
    infos = socket.getaddrinfo(host, port, family, socktype)
    seen, out = set(), []
    for info in infos:
        key = (info[0], info[4][:2])
        if key not in seen:
            seen.add(key)
            out.append(info)
    return out


def tls_context(validate_certs=True, ca_path=None):
    """A client TLS context (TLS 1.2 or later); raises ProbeSetupError for a bad ca_path."""
    if ssl is None:
        raise ProbeSetupError("transport", "transport=tls needs a Python with the ssl module")
    try:
        if ca_path and os.path.isdir(ca_path):
            context = ssl.create_default_context(capath=ca_path)
        else:
            context = ssl.create_default_context(cafile=ca_path or None)
    except (OSError, ssl.SSLError) as exc:
        raise ProbeSetupError("ca_path", "ca_path %s cannot be used as CA certificates: %s" % (ca_path, exc))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if not validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _ms(seconds):
    return round(seconds * 1000.0, 3)


class _Probe(object):
    """The state of one probe; :meth:`run_udp` or :meth:`run_stream` fills and returns :attr:`result`."""

    def __init__(self, host, port, transport, timeout, retries, source_address, from_user, request_uri_user, ssl_context, clock):
        self.host = host
        self.port = port
        self.transport = transport
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.source_address = source_address
        self.from_user = from_user
        self.request_uri_user = request_uri_user
        self.ssl_context = ssl_context
        self.clock = clock
        self.request = None
        self.response = None
        self.result = {
            "reachable": False,
            "final": False,
            "status_code": None,
            "reason": None,
            "rtt_ms": None,
            "connect_ms": None,
            "attempts": 0,
            "transport": transport,
            "target": format_hostport(host, port),
            "resolved_address": None,
            "local_address": None,
            "response_headers": None,
            "error": None,
        }

    # -- shared

    def _socket(self, family, socktype):
        """A socket bound to source_address; OSError when it cannot be opened, ProbeSetupError when it cannot be bound."""
        sock = socket.socket(family, socktype)
        if self.source_address is not None:
            try:
                sock.bind((self.source_address, 0))
            except OSError as exc:
                sock.close()
                raise ProbeSetupError("source_address", "source_address %s cannot be bound on this host: %s" % (self.source_address, exc))
        return sock

    def _start(self, sock, sockaddr):
        local = sock.getsockname()
        self.result["resolved_address"] = sockaddr[0]
        self.result["local_address"] = format_hostport(local[0], local[1])
        self.request = OptionsRequest(self.host, self.port, self.transport, local[0], local[1], self.from_user, self.request_uri_user)
        return self.request.to_bytes()

    def _accept(self, data, sent_at):
        """Take one received message; True when the final response has arrived."""
        try:
            message = parse_message(data)
        except SipParseError:
            return False
        if not self.request.matches(message):
            return False
        self.response = message
        self.result.update(
            reachable=True,
            final=message.is_final,
            status_code=message.status_code,
            reason=message.reason,
            rtt_ms=_ms(self.clock() - sent_at),
            response_headers=selected_headers(message),
        )
        return message.is_final

    def fail(self, error):
        """Record why no (final) answer came and return the result."""
        if self.response is None:
            self.result["error"] = error
        else:
            self.result["error"] = "no final response: %s" % error
        return self.result

    # -- UDP: retransmit the same request every `timeout` seconds, at most `retries` times

    def run_udp(self, infos):
        family, socktype, _proto, _name, sockaddr = infos[0]
        self.result["resolved_address"] = sockaddr[0]
        try:
            sock = self._socket(family, socktype)
        except OSError as exc:
            return self.fail("cannot open a socket: %s" % exc)
        try:
            try:
                # A connected socket receives only from the target and reports ICMP errors.
                sock.connect(sockaddr)
            except OSError as exc:
                return self.fail("cannot send to %s: %s" % (format_hostport(sockaddr[0], sockaddr[1]), exc))
            data = self._start(sock, sockaddr)
            for attempt in range(1, self.retries + 2):
                sent_at = self.clock()
                try:
                    sock.send(data)
                except ConnectionRefusedError:
                    return self.fail("connection refused (ICMP port unreachable)")
                except OSError as exc:
                    return self.fail("cannot send: %s" % exc)
                self.result["attempts"] = attempt
                deadline = sent_at + self.timeout
                while True:
                    remaining = deadline - self.clock()
                    if remaining <= 0:
                        break
                    sock.settimeout(remaining)
                    try:
                        received = sock.recv(MAX_MESSAGE)
                    except socket.timeout:
                        break
                    except ConnectionRefusedError:
                        return self.fail("connection refused (ICMP port unreachable)")
                    except OSError as exc:
                        return self.fail("cannot receive: %s" % exc)
                    if self._accept(received, sent_at):
                        return self.result
            return self.fail("no answer to %d attempt(s) of %s s each" % (self.result["attempts"], _seconds(self.timeout)))
        finally:
            sock.close()

    # -- TCP and TLS: one connection, one request; the same total time as UDP's attempts

    def run_stream(self, infos):
        deadline = self.clock() + self.timeout * (self.retries + 1)
        errors = []
        for family, socktype, _proto, _name, sockaddr in infos:
            remaining = deadline - self.clock()
            if remaining <= 0:
                break
            try:
                sock = self._socket(family, socktype)
            except OSError as exc:
                errors.append((sockaddr, "cannot open a socket: %s" % exc))
                continue
            try:
                started = self.clock()
                sock.settimeout(remaining)
                try:
                    sock.connect(sockaddr)
                except ConnectionRefusedError:
                    errors.append((sockaddr, "connection refused"))
                    continue
                except socket.timeout:
                    errors.append((sockaddr, "connection timed out"))
                    continue
                except OSError as exc:
                    errors.append((sockaddr, "cannot connect: %s" % exc))
                    continue
                if self.ssl_context is not None:
                    sock.settimeout(max(deadline - self.clock(), 0.001))
                    try:
                        sock = self.ssl_context.wrap_socket(sock, server_hostname=self.host)
                    except socket.timeout:
                        errors.append((sockaddr, "TLS handshake timed out"))
                        continue
                    except (ssl.SSLError, OSError) as exc:
                        errors.append((sockaddr, "TLS handshake failed: %s" % exc))
                        continue
                self.result["connect_ms"] = _ms(self.clock() - started)
                return self._exchange(sock, sockaddr, deadline)
            finally:
                sock.close()
        if not errors:
            self.result["resolved_address"] = infos[0][4][0]
            return self.fail("no answer within %s s" % _seconds(self.timeout * (self.retries + 1)))
        sockaddr, error = errors[-1]
        self.result["resolved_address"] = sockaddr[0]
        if len(errors) > 1:
            error = "; ".join("%s: %s" % (format_hostport(a[0], a[1]), e) for a, e in errors)
        return self.fail(error)

    def _exchange(self, sock, sockaddr, deadline):
        data = self._start(sock, sockaddr)
        framer = StreamFramer()
        sent_at = self.clock()
        try:
            sock.settimeout(max(deadline - sent_at, 0.001))
            sock.sendall(data)
        except OSError as exc:
            return self.fail("cannot send: %s" % exc)
        self.result["attempts"] = 1
        while True:
            remaining = deadline - self.clock()
            if remaining <= 0:
                return self.fail("no answer within %s s" % _seconds(self.timeout * (self.retries + 1)))
            sock.settimeout(remaining)
            try:
                received = sock.recv(MAX_MESSAGE)
            except socket.timeout:
                continue
            except OSError as exc:
                return self.fail("connection lost: %s" % exc)
            if not received:
                return self.fail("the server closed the connection without a final response")
            try:
                messages = framer.feed(received)
            except SipParseError as exc:
                return self.fail("unreadable answer: %s" % exc)
            for message in messages:
                if self._accept(message, sent_at):
                    return self.result


def _seconds(value):
    return ("%.3f" % value).rstrip("0").rstrip(".")


def probe(
    host,
    port=None,
    transport="udp",
    timeout=2.0,
    retries=2,
    source_address=None,
    from_user="probe",
    request_uri_user=None,
    ssl_context=None,
    clock=time.monotonic,
):
    """Send one OPTIONS request to ``host:port`` and describe what came back (a dict).

    ``reachable`` is True when a response to the request arrived (``final`` says whether it was
    a final one, 2xx-6xx); ``status_code``, ``reason`` and ``rtt_ms`` are those of the final
    response, or of the last provisional one when none came. ``error`` says why nothing (final)
    came. For ``transport="tls"`` pass ``ssl_context`` (see :func:`tls_context`; the default
    verifies the certificate against the system CAs and ``host``).
    """
    transport = transport.lower()
    if transport not in TRANSPORTS:
        raise ValueError("transport must be one of %s; got %r" % (", ".join(TRANSPORTS), transport))
    if port is None:
        port = DEFAULT_PORTS[transport]
    if transport == "tls" and ssl_context is None:
        ssl_context = tls_context()
    state = _Probe(
        host, port, transport, timeout, retries, source_address, from_user, request_uri_user, ssl_context if transport == "tls" else None, clock
    )
    try:
        infos = resolve(host, port, transport, source_address)
    except (socket.gaierror, UnicodeError) as exc:
        return state.fail("cannot resolve %s: %s" % (host, exc))
    if not infos:
        return state.fail("cannot resolve %s: no address" % host)
    if transport == "udp":
        return state.run_udp(infos)
    return state.run_stream(infos)
