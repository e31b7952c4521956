#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sip_options_probe
short_description: Send a SIP OPTIONS request to a SIP server and report whether and how it answered
version_added: 0.1.0
description:
  - Sends one SIP C(OPTIONS) request (RFC 3261) to a SIP server, typically a Twilio SIP Domain such as
    C(acme.sip.us1.twilio.com) on port 5060, and reports whether it answered, the response's status code and
    reason phrase, and the round-trip time.
  - Runs on the host the task runs on, so the probe leaves from there. Delegate the task to the 3CX PBX (when
    Ansible can reach it) to test the network path the PBX's calls take, from the PBX's own address
    (O(source_address) on a host with several). Otherwise it runs on the controller.
  - Uses only the Python standard library, so it works on a PBX without the twilio SDK or requests.
  - Over UDP the same request is retransmitted after each O(timeout) without a final answer, at most
    O(retries) times. An ICMP port unreachable ends the probe at once. Over TCP and TLS one connection carries
    one request, and the whole exchange (connecting, the TLS handshake, the answer) has the same total time,
    O(timeout) x (O(retries) + 1).
  - Provisional answers (1xx) are recorded and the probe keeps waiting for a final answer (2xx to 6xx).
    Answers for another transaction (another Call-ID, CSeq or Via branch) and datagrams that are not SIP are
    ignored.
  - An unreachable server is an answer, not an error; the task fails only with O(fail_on_unreachable), with
    O(expect_status) and another final status, or for bad input (checked before anything is sent).
  - Changes nothing. The request carries no credentials (it never answers an authentication challenge, so a
    C(401) or C(407) is reported as it comes).
  - Which final code a server gives an unauthenticated OPTIONS request (C(200), C(403), C(404), ...) is its own
    choice; any final code proves a SIP server answered on that path. It does not prove that calls from this
    address will be admitted (for a Twilio SIP Domain, that is the domain's IP access control list or credentials).
author:
  - voip.threecx_twilio developers (@voip-threecx-twilio)
extends_documentation_fragment:
  - voip.threecx_twilio.attributes
  - voip.threecx_twilio.attributes.INFO_MODULE
  - voip.threecx_twilio.attributes.IN_PROCESS
options:
  host:
    description:
      - The SIP server, as a host name (resolved with C(getaddrinfo), IPv4 and IPv6) or an IP address.
      - The name also goes into the request URI and the C(To) header, which is how a Twilio SIP Domain
        recognises requests meant for it.
    type: str
    required: true
  port:
    description:
      - The server's port (1 to 65535).
      - Defaults to V(5060), or V(5061) with O(transport=tls).
    type: int
  transport:
    description:
      - The transport to send the request over.
    type: str
    choices: [udp, tcp, tls]
    default: udp
  timeout:
    description:
      - Seconds to wait for a final answer to each UDP attempt (more than 0, at most 60).
      - Over TCP and TLS the whole exchange may take O(timeout) x (O(retries) + 1).
    type: float
    default: 2.0
  retries:
    description:
      - How many times a UDP request is retransmitted when no final answer came within O(timeout) (0 to 10).
      - Over TCP and TLS the request is sent once; the value only lengthens the time allowed.
    type: int
    default: 2
  source_address:
    description:
      - The local IP address to send from, for example the PBX's public address on a multi-homed host, or a
        per-site loopback address in the lab.
      - Must be an address of the host the task runs on; only addresses of this family are used to reach O(host).
    type: str
  from_user:
    description:
      - The user part of the C(From) and C(Contact) URIs (C(sip:<from_user>@<local address>)).
    type: str
    default: probe
  request_uri_user:
    description:
      - A user part for the request URI and C(To) header (C(sip:<request_uri_user>@<host>)), for example a
        number. By default the request is addressed to the server itself (C(sip:<host>)).
    type: str
  validate_certs:
    description:
      - With O(transport=tls), whether the server's certificate must be valid for O(host) and signed by a
        trusted CA. Ignored for other transports.
    type: bool
    default: true
  ca_path:
    description:
      - With O(transport=tls), a PEM file (or a directory prepared with C(c_rehash)) of CA certificates to trust
        instead of the system's.
      - Refused with another transport.
    type: path
  expect_status:
    description:
      - The final status codes (200 to 699) that count as a good answer, for RV(status_ok).
      - When set, a final answer with another code (or only provisional answers) fails the task, as
        M(ansible.builtin.uri)'s C(status_code) does. No answer at all is governed by O(fail_on_unreachable).
      - When not set, every final answer is good (a C(404) or C(403) still proves the server is there).
    type: list
    elements: int
  fail_on_unreachable:
    description:
      - Fail the task when no SIP answer came back (RV(reachable) is false). By default the task succeeds and
        reports RV(reachable=false) with the reason in RV(error).
    type: bool
    default: false
notes:
  - Over UDP the answer must come from the address and port the request was sent to (the socket is connected,
    which is also how ICMP errors are seen). RFC 3261 servers, Twilio included, answer from there.
  - The C(Via) header asks for C(rport) (RFC 3581), so RV(response_headers.via_received) and
    RV(response_headers.via_rport) show the public address and port the server saw, which is useful behind NAT.
seealso:
  - module: voip.threecx_twilio.twilio_sip_domain_info
  - module: voip.threecx_twilio.threecx_trunk
  - name: RFC 3261 section 11, Querying for Capabilities
    description: What an OPTIONS request is and how a server answers it.
    link: https://www.rfc-editor.org/rfc/rfc3261#section-11
"""

EXAMPLES = r"""
- name: Does the Twilio SIP Domain answer the PBX? (run on the PBX, from its address)
  voip.threecx_twilio.sip_options_probe:
    host: acme.sip.us1.twilio.com
    source_address: 203.0.113.10
  delegate_to: pbx-acme
  register: sip_probe

- name: Show the answer
  ansible.builtin.debug:
    msg: "{{ sip_probe.target }}: {{ sip_probe.status_code }} {{ sip_probe.reason }} in {{ sip_probe.rtt_ms }} ms"
  when: sip_probe.reachable

- name: Require 200 OK over TLS, failing when there is no answer
  voip.threecx_twilio.sip_options_probe:
    host: acme.sip.us1.twilio.com
    transport: tls
    expect_status: [200]
    fail_on_unreachable: true

- name: Wait until the lab's SIP server answers
  voip.threecx_twilio.sip_options_probe:
    host: 127.0.0.1
    port: 5070
    timeout: 0.5
    retries: 1
  register: lab_sip
  until: lab_sip.status_ok
  retries: 10
  delay: 1
"""

RETURN = r"""
reachable:
  description: Whether a SIP answer to the request came back (a final one or only provisional ones).
  returned: always
  type: bool
  sample: true
final:
  description: Whether a final answer (2xx to 6xx) came back.
  returned: always
  type: bool
  sample: true
status_ok:
  description: Whether a final answer came back with a code in O(expect_status) (any final code when that is not set).
  returned: always
  type: bool
  sample: true
status_code:
  description: The final answer's status code, or the last provisional one's when no final answer came; null without an answer.
  returned: always
  type: int
  sample: 200
reason:
  description: The reason phrase of that answer.
  returned: always
  type: str
  sample: OK
rtt_ms:
  description:
    - Milliseconds from sending the request (over UDP, its last retransmission before the answer) to that answer;
      null without an answer.
    - Over TCP and TLS the connection set-up is not included, see RV(connect_ms).
  returned: always
  type: float
  sample: 23.418
connect_ms:
  description: Over TCP and TLS, milliseconds to connect (and complete the TLS handshake); null over UDP or without a connection.
  returned: always
  type: float
  sample: 31.207
attempts:
  description: How many times the request was sent (over UDP, 1 + retransmissions; over TCP and TLS at most 1).
  returned: always
  type: int
  sample: 1
transport:
  description: The transport used.
  returned: always
  type: str
  sample: udp
target:
  description: The O(host) and port probed.
  returned: always
  type: str
  sample: acme.sip.us1.twilio.com:5060
resolved_address:
  description: The IP address the request was sent to (or last tried); null when O(host) could not be resolved.
  returned: always
  type: str
  sample: 198.51.100.20
local_address:
  description: The local address and port the request was sent from (also in its C(Via) header); null when nothing was sent.
  returned: always
  type: str
  sample: 203.0.113.10:40522
response_headers:
  description: Selected headers of the answer (null without one); a header the answer does not have is null.
  returned: always
  type: dict
  contains:
    server:
      description: The C(Server) header.
      type: str
      sample: kamailio (5.8.2 (x86_64/linux))
    user_agent:
      description: The C(User-Agent) header.
      type: str
      sample: null
    allow:
      description: The methods in the C(Allow) header.
      type: list
      elements: str
      sample: [INVITE, ACK, CANCEL, BYE, OPTIONS]
    supported:
      description: The option tags in the C(Supported) header.
      type: list
      elements: str
      sample: [timer]
    accept:
      description: The media types in the C(Accept) header.
      type: list
      elements: str
      sample: [application/sdp]
    via_received:
      description: The C(received) parameter the server added to the top C(Via), the source address it saw.
      type: str
      sample: 203.0.113.10
    via_rport:
      description: The C(rport) value the server filled in, the source port it saw.
      type: int
      sample: 40522
error:
  description: Why no final answer came back (name resolution, connection refused, timeout, TLS handshake); null when one did.
  returned: always
  type: str
  sample: no answer to 3 attempt(s) of 2 s each
msg:
  description: A one-line summary.
  returned: always
  type: str
  sample: acme.sip.us1.twilio.com:5060 answered 200 OK in 23.418 ms
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _sip as sip


def check_options(p):
    """Normalise and check the options; raises ValueError naming the option."""
    p["host"] = sip.check_host("host", p["host"])
    if p["port"] is None:
        p["port"] = sip.DEFAULT_PORTS[p["transport"]]
    if not 1 <= p["port"] <= 65535:
        raise ValueError("port must be from 1 to 65535; got %s" % p["port"])
    if not 0 < p["timeout"] <= sip.MAX_TIMEOUT:
        raise ValueError("timeout must be more than 0 and at most %d seconds; got %s" % (sip.MAX_TIMEOUT, p["timeout"]))
    if not 0 <= p["retries"] <= sip.MAX_RETRIES:
        raise ValueError("retries must be from 0 to %d; got %s" % (sip.MAX_RETRIES, p["retries"]))
    p["source_address"] = sip.check_source_address("source_address", p["source_address"], p["host"])
    p["from_user"] = sip.check_user("from_user", p["from_user"])
    p["request_uri_user"] = sip.check_user("request_uri_user", p["request_uri_user"])
    if p["ca_path"] is not None:
        if p["transport"] != "tls":
            raise ValueError("ca_path applies only to transport=tls; transport is %s" % p["transport"])
        if not os.path.exists(p["ca_path"]):
            raise ValueError("ca_path %s does not exist" % p["ca_path"])
    for code in p["expect_status"] or []:
        if not 200 <= code <= 699:
            raise ValueError("expect_status must list final SIP status codes from 200 to 699; got %s" % code)


def summary(result):
    if result["final"]:
        return "%s answered %s %s in %s ms" % (result["target"], result["status_code"], result["reason"], result["rtt_ms"])
    if result["reachable"]:
        return "%s answered only %s %s: %s" % (result["target"], result["status_code"], result["reason"], result["error"])
    return "%s did not answer: %s" % (result["target"], result["error"])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type="str", required=True),
            port=dict(type="int"),
            transport=dict(type="str", default="udp", choices=list(sip.TRANSPORTS)),
            timeout=dict(type="float", default=2.0),
            retries=dict(type="int", default=2),
            source_address=dict(type="str"),
            from_user=dict(type="str", default="probe"),
            request_uri_user=dict(type="str"),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            expect_status=dict(type="list", elements="int"),
            fail_on_unreachable=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        check_options(p)
        context = sip.tls_context(p["validate_certs"], p["ca_path"]) if p["transport"] == "tls" else None
        result = sip.probe(
            p["host"],
            port=p["port"],
            transport=p["transport"],
            timeout=p["timeout"],
            retries=p["retries"],
            source_address=p["source_address"],
            from_user=p["from_user"],
            request_uri_user=p["request_uri_user"],
            ssl_context=context,
        )
    except (ValueError, sip.ProbeSetupError) as exc:
        module.fail_json(msg=str(exc), changed=False)
    expected = p["expect_status"]
    result["status_ok"] = bool(result["final"] and (not expected or result["status_code"] in expected))
    msg = summary(result)
    if not result["reachable"] and p["fail_on_unreachable"]:
        module.fail_json(msg=msg, changed=False, **result)
    if expected and result["reachable"] and not result["status_ok"]:
        wanted = ", ".join(str(c) for c in expected)
        module.fail_json(msg="%s; expected %s" % (msg, wanted), changed=False, **result)
    module.exit_json(msg=msg, changed=False, **result)


if __name__ == "__main__":
    main()
