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

import json
import re

import pytest
from ansible.module_utils.common.warnings import get_warning_messages

from tests.support.bad_inputs import ACCEPTED, CASES, arguments
from tests.support.lab_modules import LabModules, module_side, run

pytestmark = pytest.mark.lab


def test_the_suite_has_over_100_cases_over_every_module_with_a_declared_input():
    assert len(CASES) >= 100 and len({c[0] for c in CASES}) == len(CASES)
    assert {c[1] for c in CASES} == set(arguments.__globals__["GOOD"])


@pytest.fixture(scope="module")
def bad_lab(lab):
    lab.reset()
    return LabModules(lab)


@pytest.fixture
def in_process(monkeypatch, tmp_path):
    return module_side(monkeypatch, tmp_path)


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
