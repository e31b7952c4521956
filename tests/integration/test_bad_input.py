"""The hostile-input suite (issue 16): every bad module option is refused before any request, naming it.

Each case of ``tests/support/bad_inputs.py`` runs the module's ``main()`` in this process (as
ansible-core's module runner would, with the real AnsibleModule), pointed at the session's lab
with good credentials, so that the only thing wrong is the case's option. The lab's request log
(``/_lab/requests?since=``) is read after every case: a refusal must leave it without a single
new entry, read or write. The message must name the option, quote no value longer than 200
characters, and hold none of the lab's secrets.

The accepted cases (a value an ``allow_*`` option lets through) run in check mode: they are
refused without the option, and with it the module warns naming both options and writes nothing.
"""

from __future__ import annotations

import importlib
import json
import re

import pytest
from ansible.module_utils.common.warnings import get_warning_messages

from tests.support.bad_inputs import ACCEPTED, CASES, arguments
from tests.unit.plugins.modtest import run_module

pytestmark = pytest.mark.lab


def test_the_suite_has_over_100_cases_over_every_module_with_a_declared_input():
    assert len(CASES) >= 100 and len({c[0] for c in CASES}) == len(CASES)
    assert {c[1] for c in CASES} == set(arguments.__globals__["GOOD"])


class BadInputLab:
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

    def marks(self):
        return {name: (self.log(name, 0) or [{"seq": 0}])[-1]["seq"] for name in self.lab.control_urls}

    def log(self, name, since):
        with self.lab._session() as session:
            reply = session.get(self.lab.control_urls[name] + "/requests", params={"since": since}, timeout=60)
        assert reply.status_code == 200
        return reply.json()

    def sent_since(self, marks):
        return [(name, e["method"], e["path"]) for name, seq in marks.items() for e in self.log(name, seq)]


@pytest.fixture(scope="module")
def bad_lab(lab):
    lab.reset()
    return BadInputLab(lab)


@pytest.fixture
def in_process(monkeypatch, tmp_path):
    """What a module sees on a managed node: its own warnings in its result, a private token cache."""
    try:
        from ansible.module_utils import _internal as ansible_internal
    except ImportError:  # ansible-core before 2.19
        ansible_internal = None
    if ansible_internal is not None and hasattr(ansible_internal, "is_controller"):
        monkeypatch.setattr(ansible_internal, "is_controller", False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for var in ("TWILIO_API_BASE_URL", "TWILIO_REGION", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_CA_BUNDLE"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def run(module, args, monkeypatch):
    main = importlib.import_module("ansible_collections.voip.threecx_twilio.plugins.modules." + module).main
    return run_module(main, args, monkeypatch)


def names(message, option):
    """Whether ``message`` names ``option`` as a word (not inside another option's name)."""
    return re.search(r"(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])" % re.escape(option), message) is not None


def longest_run(text):
    return max((len(w) for w in re.findall(r"\S+", text)), default=0)


@pytest.mark.parametrize("case_id,module,changes,option", CASES, ids=[c[0] for c in CASES])
def test_a_bad_option_is_refused_naming_it_and_nothing_reaches_the_lab(bad_lab, in_process, case_id, module, changes, option):
    marks = bad_lab.marks()
    kind, result = run(module, arguments(module, changes, bad_lab.connection(module)), in_process)
    assert kind == "fail", "%s was accepted: %s" % (case_id, result)
    message = result["msg"]
    assert names(message, option), "the message does not name %s: %s" % (option, message)
    assert bad_lab.sent_since(marks) == [], "a refused case reached the lab"
    assert longest_run(message) <= 200 + len("... (3000 characters)"), message[:400]
    text = json.dumps(result)
    assert not [s for s in bad_lab.lab.secrets if s in text], "a lab secret is in the result of %s" % case_id


@pytest.mark.parametrize("case_id,module,changes,allow,named", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_a_value_an_allow_option_lets_through_is_warned_about_naming_both(bad_lab, in_process, case_id, module, changes, allow, named):
    connection = bad_lab.connection(module)
    marks = bad_lab.marks()
    kind, refused = run(module, arguments(module, changes, connection), in_process)
    assert kind == "fail" and names(refused["msg"], allow), refused
    assert bad_lab.sent_since(marks) == []
    args = arguments(module, dict(changes, **{allow: True}), connection)
    args["_ansible_check_mode"] = True
    kind, accepted = run(module, args, in_process)
    assert kind == "exit", accepted
    warnings = list(get_warning_messages())  # what exit_json would add to the result as "warnings"
    assert [w for w in warnings if all(names(w, word) for word in named)], warnings
    assert [m for _name, m, _path in bad_lab.sent_since(marks) if m not in ("GET", "HEAD") and not _path.endswith("/connect/token")] == []
