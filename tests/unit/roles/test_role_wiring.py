"""The roles are wiring: their argument specs document the site model's variables, and their
module tasks pass the plan's arguments through unchanged.

- meta/argument_specs.yml of twilio_sip_domain and threecx_fallback lists exactly the variables
  the site model declares (plus the role's own *_secure_logging), with the same type, required
  flag and default: the defaults live in _site.py, the specs only document them.
- every module task of tasks/apply.yml passes each option from the plan's task of the same
  module (``<tasks>.<key>.args.<option>``, under the same option name) or, for a secret, straight
  from its site variable; and every argument the plan gives a task is passed. So what the site
  model validated is what the modules get.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _site
from tests.support import site_cases

ROLES = Path(__file__).resolve().parents[3] / "roles"
SIDES = {
    "twilio_sip_domain": _site.TWILIO_VARIABLES,
    "threecx_fallback": _site.THREECX_VARIABLES,
}
# Options wired from their site variable rather than the plan: secrets, which the plan never holds.
SECRET_OPTIONS = {
    ("twilio_credential_list", "credentials"): "twilio_sip_domain_credentials",
    ("threecx_trunk", "auth_password"): "threecx_fallback_auth_password",
}
# Options that prefer what an earlier task returned (a list's SID), else the plan's value.
FROM_RESULT = {
    ("twilio_sip_domain", "ip_access_control_lists"),
    ("twilio_sip_domain", "credential_lists"),
}


def entry_options(role):
    spec = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    return spec["main"]["options"]


@pytest.mark.parametrize("role", sorted(SIDES))
def test_the_argument_specs_document_the_site_models_variables(role):
    options = entry_options(role)
    declared = SIDES[role]
    assert set(options) == set(declared) | {role + "_secure_logging"}
    for name, var in declared.items():
        option = options[name]
        assert option["type"] == var.kind, name
        assert bool(option.get("required")) == var.required, name
        if "default" in option:
            assert option["default"] == var.default, name
        else:
            assert var.default in (None, "") or var.required, "%s: document the default %r" % (name, var.default)
        if var.choices is not None:
            assert option.get("choices") == [c for c in var.choices if c], name
        assert bool(option.get("no_log")) == var.secret or option.get("type") == "list", name


def module_tasks(role):
    tasks = yaml.safe_load((ROLES / role / "tasks" / "apply.yml").read_text())
    for task in tasks:
        for inner in task.get("block", [task]):
            for key, args in inner.items():
                if key.startswith("voip.threecx_twilio."):
                    yield key.split(".")[-1], args


PLAN_REF = re.compile(r"^\{\{ _[a-z_]+_tasks\.([a-z0-9_]+)\.args\.([a-z0-9_]+)( \| default\(omit\))? \}\}$")


@pytest.mark.parametrize("role", sorted(SIDES))
def test_every_module_option_comes_from_the_plan_or_is_a_secret(role):
    seen = 0
    for module, args in module_tasks(role):
        for option, value in args.items():
            seen += 1
            if (module, option) in SECRET_OPTIONS:
                assert SECRET_OPTIONS[(module, option)] in value, (
                    module,
                    option,
                    value,
                )
                continue
            text = " ".join(str(value).split())
            if (module, option) in FROM_RESULT:
                assert "args.%s | default(omit)" % option in text, (
                    module,
                    option,
                    value,
                )
                continue
            match = PLAN_REF.match(text)
            assert match, "%s: %s is not wired from the plan: %s" % (
                module,
                option,
                value,
            )
            assert match.group(2) == option, "%s: %s is fed the plan's %s" % (
                module,
                option,
                match.group(2),
            )
    assert seen > 10


@pytest.mark.parametrize("case_id,change", site_cases.GOOD, ids=[c[0] for c in site_cases.GOOD])
def test_every_planned_argument_is_passed(case_id, change):
    plan = _site.plan(site_cases.site(change))
    assert plan["ok"], plan["problems"]
    wired = {}
    for role in SIDES:
        for module, args in module_tasks(role):
            wired.setdefault(module, set()).update(args)
    for side in ("twilio", "threecx"):
        for task in plan[side]["tasks"].values():
            missing = set(task["args"]) - wired[task["module"]]
            assert not missing, "%s: the plan's %s are not passed by the role" % (
                task["module"],
                ", ".join(sorted(missing)),
            )
