"""sip_options_probe in-process against tiny SIP responders on loopback (real sockets)."""

import socket
import time

import pytest

from ansible_collections.voip.threecx_twilio.plugins.modules import sip_options_probe
from tests.unit.plugins.modtest import run_module
from tests.unit.plugins.module_utils.test_sip import TcpResponder, UdpResponder, answer, closed_port, ok_with_headers


def run(monkeypatch, **args):
    return run_module(sip_options_probe.main, args, monkeypatch)


def ok(data, addr, n):
    return [ok_with_headers(data, addr)]


@pytest.mark.parametrize("check_mode", [False, True])
def test_udp_200(monkeypatch, check_mode):
    with UdpResponder(ok) as uas:
        kind, res = run(monkeypatch, host="127.0.0.1", port=uas.port, _ansible_check_mode=check_mode)
    assert kind == "exit" and res["changed"] is False
    assert res["reachable"] is True and res["final"] is True and res["status_ok"] is True
    assert (res["status_code"], res["reason"], res["attempts"], res["transport"]) == (200, "OK", 1, "udp")
    assert 0 < res["rtt_ms"] < 2000 and res["connect_ms"] is None and res["error"] is None
    assert res["target"] == "127.0.0.1:%d" % uas.port and res["resolved_address"] == "127.0.0.1"
    assert res["response_headers"] == {
        "server": "lab-uas/1.0",
        "user_agent": None,
        "allow": ["INVITE", "ACK", "CANCEL", "BYE", "OPTIONS"],
        "supported": ["timer"],
        "accept": ["application/sdp"],
        "via_received": "127.0.0.1",
        "via_rport": int(res["local_address"].rsplit(":", 1)[1]),
    }
    assert res["msg"] == "127.0.0.1:%d answered 200 OK in %s ms" % (uas.port, res["rtt_ms"])
    ((data, _addr),) = uas.received
    assert data.startswith(b"OPTIONS sip:127.0.0.1:%d SIP/2.0\r\n" % uas.port)
    assert b"\r\nUser-Agent: voip.threecx_twilio sip_options_probe\r\n" in data


def test_udp_answered_on_the_retry(monkeypatch):
    with UdpResponder(lambda data, addr, n: ok(data, addr, n) if n > 1 else None) as uas:
        kind, res = run(monkeypatch, host="127.0.0.1", port=uas.port, timeout=0.3, retries=2)
    assert kind == "exit" and res["status_code"] == 200 and res["attempts"] == 2 and len(uas.received) == 2
    assert res["rtt_ms"] < 300


def test_udp_silent_server_times_out_after_every_attempt(monkeypatch):
    with UdpResponder(lambda data, addr, n: None) as uas:
        started = time.monotonic()
        kind, res = run(monkeypatch, host="127.0.0.1", port=uas.port, timeout=0.2, retries=1)
        elapsed = time.monotonic() - started
    assert kind == "exit" and res["reachable"] is False and res["status_code"] is None and res["rtt_ms"] is None
    assert res["attempts"] == 2 and len(uas.received) == 2 and 0.35 < elapsed < 0.4 + 1.5
    assert res["error"] == "no answer to 2 attempt(s) of 0.2 s each" and res["status_ok"] is False
    assert res["msg"] == "127.0.0.1:%d did not answer: %s" % (uas.port, res["error"])


def test_udp_closed_port_is_unreachable_fast(monkeypatch):
    port = closed_port(socket.SOCK_DGRAM)
    started = time.monotonic()
    kind, res = run(monkeypatch, host="127.0.0.1", port=port, timeout=0.5, retries=2)
    elapsed = time.monotonic() - started
    assert kind == "exit" and "failed" not in res and res["reachable"] is False and res["changed"] is False
    assert elapsed < 0.5 * 3 + 1.5
    # Linux reports the ICMP port unreachable on the connected socket: no retransmissions.
    assert "refused" in res["error"] or res["error"].startswith("no answer")


def test_fail_on_unreachable(monkeypatch):
    port = closed_port(socket.SOCK_DGRAM)
    kind, res = run(monkeypatch, host="127.0.0.1", port=port, timeout=0.3, retries=0, fail_on_unreachable=True)
    assert kind == "fail" and res["reachable"] is False and res["changed"] is False
    assert res["msg"].startswith("127.0.0.1:%d did not answer: " % port)


def test_tcp_404(monkeypatch):
    with TcpResponder(lambda data, addr, n: [answer(data, 404, "Not Found", addr=addr)]) as uas:
        kind, res = run(monkeypatch, host="127.0.0.1", port=uas.port, transport="tcp", request_uri_user="+14155550100")
    assert kind == "exit" and res["reachable"] is True and res["status_code"] == 404 and res["reason"] == "Not Found"
    assert res["status_ok"] is True and res["attempts"] == 1 and res["connect_ms"] >= 0 and res["transport"] == "tcp"
    assert uas.received[0][0].startswith(b"OPTIONS sip:+14155550100@127.0.0.1:%d;transport=tcp SIP/2.0\r\n" % uas.port)


def test_expect_status_fails_on_another_code(monkeypatch):
    with TcpResponder(lambda data, addr, n: [answer(data, 404, "Not Found")]) as uas:
        kind, res = run(monkeypatch, host="127.0.0.1", port=uas.port, transport="tcp", expect_status=[200, 202])
    assert kind == "fail" and res["status_code"] == 404 and res["status_ok"] is False
    assert res["msg"] == "127.0.0.1:%d answered 404 Not Found in %s ms; expected 200, 202" % (uas.port, res["rtt_ms"])
    with UdpResponder(ok) as uas:
        kind, res = run(monkeypatch, host="127.0.0.1", port=uas.port, expect_status=[200])
    assert kind == "exit" and res["status_ok"] is True


def test_expect_status_does_not_fail_when_unreachable(monkeypatch):
    kind, res = run(monkeypatch, host="127.0.0.1", port=closed_port(socket.SOCK_STREAM), transport="tcp", expect_status=[200])
    assert kind == "exit" and res["reachable"] is False and res["status_ok"] is False


def test_tcp_closed_port(monkeypatch):
    port = closed_port(socket.SOCK_STREAM)
    started = time.monotonic()
    kind, res = run(monkeypatch, host="127.0.0.1", port=port, transport="tcp", timeout=1, retries=0)
    assert time.monotonic() - started < 2.5
    assert kind == "exit" and res["reachable"] is False and res["error"] == "connection refused"
    assert res["attempts"] == 0 and res["resolved_address"] == "127.0.0.1" and res["local_address"] is None


@pytest.mark.parametrize("transport,responder", [("udp", UdpResponder), ("tcp", TcpResponder)])
def test_source_address(monkeypatch, transport, responder):
    with responder(ok) as uas:
        kind, res = run(monkeypatch, host="127.0.0.1", port=uas.port, transport=transport, source_address="127.0.0.5")
    ((data, addr),) = uas.received
    assert kind == "exit" and res["status_code"] == 200 and addr[0] == "127.0.0.5"
    assert res["local_address"] == "127.0.0.5:%d" % addr[1] and res["response_headers"]["via_received"] == "127.0.0.5"
    assert b"\r\nVia: SIP/2.0/%s 127.0.0.5:%d;branch=z9hG4bK" % (transport.upper().encode(), addr[1]) in data
    assert b"\r\nFrom: <sip:probe@127.0.0.5>;tag=" in data


def test_host_name_resolved_in_the_source_address_family(monkeypatch):
    with UdpResponder(ok) as uas:
        kind, res = run(monkeypatch, host="localhost", port=uas.port, source_address="127.0.0.1", from_user="monitor")
    assert kind == "exit" and res["status_code"] == 200 and res["target"] == "localhost:%d" % uas.port
    assert res["resolved_address"] == "127.0.0.1" and b"\r\nFrom: <sip:monitor@127.0.0.1>;tag=" in uas.received[0][0]


def tls_files(tmp_path):
    ca = pytest.importorskip("lab.ca")
    return ca.ensure_ca(tmp_path)


def tls_server_context(files):
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(files.server_cert), str(files.server_key))
    return context


@pytest.mark.parametrize(
    "extra,status",
    [
        ({"ca_path": "CA"}, 200),
        ({"validate_certs": False}, 200),
        ({}, None),  # the lab CA is not a system CA
    ],
)
def test_tls(monkeypatch, tmp_path, extra, status):
    files = tls_files(tmp_path)
    extra = dict((k, str(files.ca_cert) if v == "CA" else v) for k, v in extra.items())
    with TcpResponder(ok, ssl_context=tls_server_context(files)) as uas:
        kind, res = run(monkeypatch, host="127.0.0.1", port=uas.port, transport="tls", timeout=1, retries=0, **extra)
    assert kind == "exit" and res["status_code"] == status and res["transport"] == "tls"
    if status:
        assert res["connect_ms"] > 0 and b";transport=tls SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:" in uas.received[0][0]
    else:
        assert res["reachable"] is False and res["error"].startswith("TLS handshake failed:") and "CERTIFICATE_VERIFY_FAILED" in res["error"]


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to connect or send fails the test."""

    def refuse(self, *args, **kwargs):
        raise AssertionError("the module tried to use the network")

    for name in ("connect", "connect_ex", "send", "sendall", "sendto"):
        monkeypatch.setattr(socket.socket, name, refuse)


@pytest.mark.parametrize(
    "args,fragment",
    [
        (dict(host="bad host"), "host must be a host name"),
        (dict(host="127.0.0.1", port=0), "port must be from 1 to 65535; got 0"),
        (dict(host="127.0.0.1", port=65536), "port must be from 1 to 65535"),
        (dict(host="127.0.0.1", timeout=0), "timeout must be more than 0"),
        (dict(host="127.0.0.1", timeout=61), "timeout must be more than 0 and at most 60 seconds; got 61"),
        (dict(host="127.0.0.1", retries=11), "retries must be from 0 to 10; got 11"),
        (dict(host="127.0.0.1", retries=-1), "retries must be from 0 to 10"),
        (dict(host="127.0.0.1", transport="sctp"), "transport"),
        (dict(host="127.0.0.1", source_address="pbx.example.com"), "source_address must be an IP address"),
        (dict(host="127.0.0.1", source_address="::1"), "source_address is an IPv6 address but host 127.0.0.1 is IPv4"),
        (dict(host="127.0.0.1", source_address="192.0.2.77"), "source_address 192.0.2.77 cannot be bound on this host"),
        (dict(host="127.0.0.1", from_user="a b"), "from_user must be a SIP user part"),
        (dict(host="127.0.0.1", request_uri_user="x@y"), "request_uri_user must be a SIP user part"),
        (dict(host="127.0.0.1", ca_path="/etc/hosts"), "ca_path applies only to transport=tls; transport is udp"),
        (dict(host="127.0.0.1", transport="tls", ca_path="/nonexistent/ca.pem"), "ca_path /nonexistent/ca.pem does not exist"),
        (dict(host="127.0.0.1", transport="tls", ca_path="JUNK"), "cannot be used as CA certificates"),
        (dict(host="127.0.0.1", expect_status=[180]), "expect_status must list final SIP status codes from 200 to 699; got 180"),
        (dict(host="127.0.0.1", expect_status=[700]), "expect_status must list final"),
    ],
)
def test_bad_input_fails_before_sending(monkeypatch, tmp_path, no_network, args, fragment):
    if args.get("ca_path") == "JUNK":
        args["ca_path"] = str(tmp_path / "junk.pem")
        (tmp_path / "junk.pem").write_text("not a certificate\n")
    kind, res = run(monkeypatch, **args)
    assert kind == "fail" and fragment in res["msg"] and "reachable" not in res
