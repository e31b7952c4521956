"""_sip: the OPTIONS request, response parsing and matching, stream framing, and the probe
loop against tiny SIP responders on loopback (real sockets, no sleeps)."""

import select
import socket
import threading

import pytest

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _sip as sip

# ---- responders shared with the module's tests ------------------------------------------


def request_headers(data):
    """(start line, [(name, value)]) of a request, parsed independently of the code under test."""
    head = data.split(b"\r\n\r\n", 1)[0].decode()
    lines = head.split("\r\n")
    return lines[0], [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:]]


def answer(data, code=200, reason="OK", addr=None, extra=(), call_id=None, branch=None, cseq=None, body=b""):
    """A response to request bytes ``data``, copying Via/From/To/Call-ID/CSeq as a UAS does."""
    _start, headers = request_headers(data)
    lines = ["SIP/2.0 %d %s" % (code, reason)] if reason is not None else ["SIP/2.0 %d" % code]
    for name, value in headers:
        low = name.lower()
        if low == "via":
            if addr is not None:
                value = value.replace(";rport", ";received=%s;rport=%d" % (addr[0], addr[1]))
            if branch is not None:
                value = value.split(";branch=")[0] + ";branch=" + branch
            lines.append("Via: " + value)
        elif low == "to":
            lines.append("To: %s;tag=uas1" % value)
        elif low == "call-id":
            lines.append("Call-ID: " + (call_id or value))
        elif low == "cseq":
            lines.append("CSeq: " + (cseq or value))
        elif low == "from":
            lines.append("From: " + value)
    lines.extend(extra)
    lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def ok_with_headers(data, addr, code=200, reason="OK"):
    return answer(
        data,
        code,
        reason,
        addr=addr,
        extra=["Server: lab-uas/1.0", "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS", "Supported: timer", "Accept: application/sdp"],
    )


class UdpResponder(object):
    """A UDP SIP server thread: ``handler(data, addr, n)`` returns the datagrams to send back."""

    def __init__(self, handler, host="127.0.0.1"):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.received = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            ready, _w, _x = select.select([self.sock], [], [], 0.02)
            if not ready:
                continue
            data, addr = self.sock.recvfrom(65535)
            self.received.append((data, addr))
            for reply in self.handler(data, addr, len(self.received)) or []:
                self.sock.sendto(reply, addr)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


class TcpResponder(object):
    """A TCP (or TLS, with ``ssl_context``) SIP server thread, one connection at a time:
    ``handler(data, addr, n)`` returns the chunks to send, each with its own sendall, or
    :attr:`CLOSE` to close the connection."""

    CLOSE = object()

    def __init__(self, handler, host="127.0.0.1", ssl_context=None):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.ssl_context = ssl_context
        self.received = []
        self.connections = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            ready, _w, _x = select.select([self.sock], [], [], 0.02)
            if not ready:
                continue
            conn, addr = self.sock.accept()
            self.connections.append(addr)
            try:
                conn.settimeout(2)
                if self.ssl_context is not None:
                    try:
                        conn = self.ssl_context.wrap_socket(conn, server_side=True)
                    except (OSError, ValueError):
                        continue
                self.serve(conn, addr)
            finally:
                conn.close()

    def serve(self, conn, addr):
        buf = b""
        while not self.stop.is_set():
            try:
                chunk = conn.recv(65535)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b"\r\n\r\n" in buf:
                data, buf = buf.split(b"\r\n\r\n", 1)
                data += b"\r\n\r\n"
                self.received.append((data, addr))
                replies = self.handler(data, addr, len(self.received))
                if replies is self.CLOSE:
                    return
                for reply in replies or []:
                    conn.sendall(reply)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def closed_port(socktype):
    """A loopback port nobody listens on (bound, then released)."""
    sock = socket.socket(socket.AF_INET, socktype)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def ipv6_loopback():
    if not socket.has_ipv6:
        return False
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        sock.bind(("::1", 0))
        sock.close()
        return True
    except OSError:
        return False


# ---- the request -------------------------------------------------------------------------


def make_request(**kwargs):
    args = dict(host="acme.sip.us1.twilio.com", port=5060, transport="udp", local_host="192.0.2.10", local_port=40000)
    args.update(kwargs)
    return sip.OptionsRequest(**args)


def test_request_has_every_header_with_crlf_and_no_body():
    req = make_request()
    data = req.to_bytes()
    assert data.endswith(b"\r\n\r\n") and data.count(b"\r\n\r\n") == 1
    head = data[:-4].decode()
    assert "\n" not in head.replace("\r\n", "")
    lines = head.split("\r\n")
    assert lines[0] == "OPTIONS sip:acme.sip.us1.twilio.com SIP/2.0"
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert headers["Via"] == "SIP/2.0/UDP 192.0.2.10:40000;branch=%s;rport" % req.branch
    assert req.branch.startswith("z9hG4bK") and len(req.branch) > 16
    assert headers["Max-Forwards"] == "70"
    assert headers["From"] == "<sip:probe@192.0.2.10>;tag=%s" % req.tag and req.tag
    assert headers["To"] == "<sip:acme.sip.us1.twilio.com>"
    assert headers["Call-ID"] == req.call_id and len(req.call_id) >= 16
    assert headers["CSeq"] == "1 OPTIONS"
    assert headers["Contact"] == "<sip:probe@192.0.2.10:40000>"
    assert headers["Accept"] == "application/sdp"
    assert headers["User-Agent"] == "voip.threecx_twilio sip_options_probe"
    assert headers["Content-Length"] == "0"
    assert [line.split(":")[0] for line in lines[1:]][-1] == "Content-Length"


def test_requests_are_unique():
    one, two = make_request(), make_request()
    assert one.branch != two.branch and one.call_id != two.call_id and one.tag != two.tag


def test_request_uri_forms():
    req = make_request(transport="tcp", port=5080, request_uri_user="+14155550100", from_user="monitor")
    assert req.request_uri == "sip:+14155550100@acme.sip.us1.twilio.com:5080;transport=tcp"
    assert req.to_uri == "sip:+14155550100@acme.sip.us1.twilio.com:5080"
    assert req.via.startswith("SIP/2.0/TCP 192.0.2.10:40000;")
    assert req.contact == "sip:monitor@192.0.2.10:40000;transport=tcp"
    tls = make_request(transport="tls", port=5061)
    assert tls.request_uri == "sip:acme.sip.us1.twilio.com;transport=tls" and tls.via.startswith("SIP/2.0/TLS ")
    v6 = make_request(host="2001:db8::1", local_host="2001:db8::10", local_port=5062)
    assert v6.request_uri == "sip:[2001:db8::1]"
    assert v6.via.startswith("SIP/2.0/UDP [2001:db8::10]:5062;") and v6.from_uri == "sip:probe@[2001:db8::10]"


# ---- parsing -----------------------------------------------------------------------------

RESPONSE = (
    b"SIP/2.0 200 OK Fine Thanks\r\n"
    b"v: SIP/2.0/UDP 192.0.2.10:40000;branch=z9hG4bKabc;received=198.51.100.7;rport=61000,"
    b" SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKother\r\n"
    b"i: call-1\r\n"
    b"f: <sip:probe@192.0.2.10>;tag=t1\r\n"
    b"t: <sip:acme.sip.us1.twilio.com>;tag=t2\r\n"
    b"CSeq: 1 OPTIONS\r\n"
    b"Server: Twilio\r\n"
    b"  Gateway\r\n"
    b"ALLOW: invite, ACK,\r\n\tCANCEL, OPTIONS\r\n"
    b"k: timer\r\n"
    b'Contact: <sip:uas@198.51.100.1>;q=0.5, "A, B" <sip:b@h>\r\n'
    b"l: 4\r\n"
    b"\r\n"
    b"body"
)


def test_response_status_line_and_headers():
    msg = sip.parse_message(RESPONSE)
    assert msg.is_response and msg.is_final and msg.status_code == 200 and msg.reason == "OK Fine Thanks"
    assert msg.header("Call-ID") == msg.header("i") == "call-1"
    assert msg.header("from").endswith("tag=t1") and msg.header("t").endswith("tag=t2")
    assert msg.header("server") == "Twilio Gateway"
    assert msg.values("allow") == ["invite", "ACK", "CANCEL", "OPTIONS"]
    assert msg.values("contact") == ["<sip:uas@198.51.100.1>;q=0.5", '"A, B" <sip:b@h>']
    assert msg.header("content-length") == "4" and msg.body == b"body"
    assert len(msg.values("via")) == 2
    top = msg.top_via()
    assert top["protocol"] == "SIP/2.0/UDP" and top["sent_by"] == "192.0.2.10:40000"
    assert top["params"] == {"branch": "z9hG4bKabc", "received": "198.51.100.7", "rport": "61000"}
    assert sip.selected_headers(msg) == {
        "server": "Twilio Gateway",
        "user_agent": None,
        "allow": ["INVITE", "ACK", "CANCEL", "OPTIONS"],
        "supported": ["timer"],
        "accept": None,
        "via_received": "198.51.100.7",
        "via_rport": 61000,
    }


@pytest.mark.parametrize(
    "line,code,reason,final",
    [
        (b"SIP/2.0 100 Trying", 100, "Trying", False),
        (b"SIP/2.0 183 Session Progress", 183, "Session Progress", False),
        (b"sip/2.0 404", 404, "", True),
        (b"SIP/2.0 503 Service Unavailable ", 503, "Service Unavailable", True),
    ],
)
def test_status_lines(line, code, reason, final):
    msg = sip.parse_message(line + b"\r\nCall-ID: x\r\n\r\n")
    assert (msg.status_code, msg.reason, msg.is_final) == (code, reason, final)


def test_requests_bare_lf_and_junk():
    msg = sip.parse_message(b"\r\nOPTIONS sip:pbx SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nnot a header\ni: c\n\n")
    assert not msg.is_response and msg.method == "OPTIONS" and msg.header("call-id") == "c"
    for junk in (b"", b"\r\n\r\n", b"hello world\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\n", b"SIP/2.0 99 Low\r\n\r\n"):
        with pytest.raises(sip.SipParseError):
            sip.parse_message(junk)


# ---- matching ----------------------------------------------------------------------------


def test_matching_by_call_id_cseq_and_branch():
    req = make_request()
    data = req.to_bytes()
    assert req.matches(sip.parse_message(answer(data)))
    assert req.matches(sip.parse_message(answer(data, branch=req.branch.upper())))
    assert not req.matches(sip.parse_message(answer(data, call_id="another-call")))
    assert not req.matches(sip.parse_message(answer(data, branch="z9hG4bKsomeoneelse")))
    assert not req.matches(sip.parse_message(answer(data, cseq="1 INVITE")))
    assert not req.matches(sip.parse_message(answer(data, cseq="2 OPTIONS")))
    assert not req.matches(sip.parse_message(data))  # our own request looped back
    assert not req.matches(sip.parse_message(b"SIP/2.0 200 OK\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\n\r\n" % req.call_id.encode()))
    compact = b"SIP/2.0 200 OK\r\nv: SIP/2.0/UDP x;rport;branch=%s\r\ni: %s\r\nCSeq: 1 OPTIONS\r\n\r\n" % (req.branch.encode(), req.call_id.encode())
    assert req.matches(sip.parse_message(compact))


# ---- stream framing ----------------------------------------------------------------------


def test_stream_framer_cuts_by_content_length():
    framer = sip.StreamFramer()
    one = b"SIP/2.0 100 Trying\r\nContent-Length: 0\r\n\r\n"
    two = b"SIP/2.0 200 OK\r\nl: 5\r\n\r\nhello"
    three = b"SIP/2.0 202 Accepted\r\n\r\n"
    stream = b"\r\n\r\n" + one + two + b"\r\n" + three
    out = []
    for i in range(len(stream)):  # one byte at a time
        out.extend(framer.feed(bytes([stream[i]])))
    assert out == [one, two, three] and framer.buffer == b""
    assert sip.StreamFramer().feed(one + two[:-2]) == [one]


def test_stream_framer_limits():
    with pytest.raises(sip.SipParseError, match="no end of headers"):
        sip.StreamFramer(limit=100).feed(b"SIP/2.0 200 OK\r\n" + b"X: y\r\n" * 30)
    with pytest.raises(sip.SipParseError, match="exceeds"):
        sip.StreamFramer(limit=100).feed(b"SIP/2.0 200 OK\r\nContent-Length: 500\r\n\r\n")
    with pytest.raises(sip.SipParseError, match="bad Content-Length"):
        sip.StreamFramer().feed(b"SIP/2.0 200 OK\r\nContent-Length: -1\r\n\r\n")


# ---- input checks ------------------------------------------------------------------------


def test_checks():
    assert sip.check_host("host", "ACME.sip.us1.twilio.com.") == "acme.sip.us1.twilio.com"
    assert sip.check_host("host", "[2001:DB8::1]") == "2001:db8::1"
    assert sip.check_host("host", "localhost") == "localhost"
    for bad in ("", "bad host", "a..b", "-a.example.com", "sip:acme.example.com", "x" * 64 + ".com"):
        with pytest.raises(ValueError, match="^host must be"):
            sip.check_host("host", bad)
    assert sip.check_user("from_user", "+1415%20x") == "+1415%20x" and sip.check_user("u", None) is None
    for bad in ("", "a b", "a@b", "a:b", "<a>", "%zz"):
        with pytest.raises(ValueError, match="^from_user must be"):
            sip.check_user("from_user", bad)
    assert sip.check_source_address("source_address", "127.0.0.5", "localhost") == "127.0.0.5"
    with pytest.raises(ValueError, match="^source_address must be an IP address"):
        sip.check_source_address("source_address", "pbx.example.com", "localhost")
    with pytest.raises(ValueError, match="^source_address is an IPv6 address but host 127.0.0.1 is IPv4"):
        sip.check_source_address("source_address", "::1", "127.0.0.1")


# ---- the probe loop ----------------------------------------------------------------------


def test_udp_provisional_then_final_on_the_retransmission():
    def handler(data, addr, n):
        return [answer(data, 100, "Trying")] if n == 1 else [ok_with_headers(data, addr)]

    with UdpResponder(handler) as uas:
        res = sip.probe("127.0.0.1", uas.port, timeout=0.3, retries=2)
    assert res["reachable"] and res["final"] and res["status_code"] == 200 and res["attempts"] == 2
    assert res["error"] is None and res["response_headers"]["server"] == "lab-uas/1.0"
    assert uas.received[0][0] == uas.received[1][0]  # a retransmission is the same request


def test_udp_provisional_only():
    with UdpResponder(lambda data, addr, n: [answer(data, 180, "Ringing")]) as uas:
        res = sip.probe("127.0.0.1", uas.port, timeout=0.2, retries=1)
    assert res["reachable"] and not res["final"] and res["status_code"] == 180 and res["reason"] == "Ringing"
    assert res["attempts"] == 2 and res["error"].startswith("no final response: no answer to 2 attempt(s)")


def test_udp_ignores_strays_and_other_transactions():
    def handler(data, addr, n):
        return [
            b"hello",
            b"\r\n\r\n",
            answer(data, 500, "Other Call", call_id="not-ours"),
            answer(data, 500, "Other Branch", branch="z9hG4bKnotours"),
            b"OPTIONS sip:probe@127.0.0.1 SIP/2.0\r\nCall-ID: x\r\n\r\n",
            answer(data, 100, "Trying"),
            answer(data, 486, "Busy Here"),
            answer(data, 200, "Too Late"),
        ]

    with UdpResponder(handler) as uas:
        res = sip.probe("127.0.0.1", uas.port, timeout=1, retries=0)
    assert (res["status_code"], res["reason"], res["attempts"]) == (486, "Busy Here", 1)


def test_tcp_answer_in_pieces_with_a_body_after_a_provisional():
    def handler(data, addr, n):
        full = answer(data, 100, "Trying") + b"\r\n" + answer(data, 200, "OK", body=b"v=0\r\n")
        return [full[:10], full[10:57], full[57:-3], full[-3:]]

    with TcpResponder(handler) as uas:
        res = sip.probe("127.0.0.1", uas.port, transport="tcp", timeout=1, retries=0)
    assert res["final"] and res["status_code"] == 200 and res["attempts"] == 1 and res["connect_ms"] is not None
    assert b"SIP/2.0/TCP 127.0.0.1:" in uas.received[0][0] and b";transport=tcp SIP/2.0" in uas.received[0][0]


def test_tcp_server_closing_without_an_answer():
    with TcpResponder(lambda data, addr, n: TcpResponder.CLOSE) as uas:
        res = sip.probe("127.0.0.1", uas.port, transport="tcp", timeout=2, retries=0)
    assert not res["reachable"] and res["attempts"] == 1
    assert res["error"] == "the server closed the connection without a final response"


def test_unresolvable_host(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(sip.socket, "getaddrinfo", fail)
    res = sip.probe("acme.sip.invalid", 5060)
    assert not res["reachable"] and res["resolved_address"] is None and res["attempts"] == 0
    assert res["error"].startswith("cannot resolve acme.sip.invalid:")


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback")
def test_udp_over_ipv6():
    with UdpResponder(lambda data, addr, n: [ok_with_headers(data, addr)], host="::1") as uas:
        res = sip.probe("::1", uas.port, timeout=1, retries=0)
    assert res["status_code"] == 200 and res["target"] == "[::1]:%d" % uas.port and res["resolved_address"] == "::1"
    assert b"SIP/2.0/UDP [::1]:" in uas.received[0][0] and res["response_headers"]["via_received"] == "::1"
