"""Modules run in the test process against the session lab (integration tier), and the lab's request log.

``main()`` of a module runs with the real AnsibleModule (only exit_json and fail_json are caught,
see tests/unit/plugins/modtest.py), over real HTTPS to the lab, with real time: what differs from
a task is only that no ansible-playbook process is started for each run.
"""

from __future__ import annotations

import importlib

from tests.unit.plugins.modtest import run_module

VENDOR_VARIABLES = ("TWILIO_API_BASE_URL", "TWILIO_REGION", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_CA_BUNDLE")


class LabModules:
    """The lab's good connection per vendor, module runs, and its request log since a mark."""

    def __init__(self, lab):
        self.lab = lab
        endpoints = lab.endpoints
        us1 = endpoints["twilio"]["accounts"]["us1"]
        self.connections = {
            "twilio": dict(
                account_sid=us1["account_sid"],
                auth_token=us1["auth_token"],
                region="us1",
                api_base_url=endpoints["twilio_api_base_url"],
                ca_bundle=endpoints["ca_bundle"],
            ),
            "threecx": dict(
                url=endpoints["threecx"]["url"],
                client_id=endpoints["threecx"]["client_id"],
                client_secret=endpoints["threecx"]["client_secret"],
                ca_path=endpoints["ca_bundle"],
            ),
        }

    def connection(self, module):
        return self.connections[module.split("_", 1)[0]]

    def _session(self):
        return self.lab._session()

    def control(self, vendor, method, what, body=None):
        with self._session() as session:
            reply = session.request(method, self.lab.control_urls[vendor] + "/" + what, json=body, timeout=60)
        assert reply.status_code < 300, "%s %s /_lab/%s: HTTP %s" % (vendor, method, what, reply.status_code)
        return reply.json() if reply.content else None

    def log(self, vendor, since):
        with self._session() as session:
            reply = session.get(self.lab.control_urls[vendor] + "/requests", params={"since": since}, timeout=60)
        assert reply.status_code == 200
        return reply.json()

    def marks(self):
        return {name: (self.log(name, 0) or [{"seq": 0}])[-1]["seq"] for name in self.lab.control_urls}

    def sent_since(self, marks):
        return [(name, e["method"], e["path"]) for name, seq in marks.items() for e in self.log(name, seq)]

    def state(self, vendor):
        return self.control(vendor, "GET", "state")


def module_side(monkeypatch, cache_dir):
    """What a module sees on a managed node: its own warnings, a private token cache, no vendor variables."""
    try:
        from ansible.module_utils import _internal as ansible_internal
    except ImportError:  # ansible-core before 2.19
        ansible_internal = None
    if ansible_internal is not None and hasattr(ansible_internal, "is_controller"):
        monkeypatch.setattr(ansible_internal, "is_controller", False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_dir))
    for var in VENDOR_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def run(module, args, monkeypatch):
    """('exit'|'fail', result) of one run of ``module`` with ``args``."""
    main = importlib.import_module("ansible_collections.voip.threecx_twilio.plugins.modules." + module).main
    return run_module(main, args, monkeypatch)
